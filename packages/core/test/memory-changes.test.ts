import {
  CHANGE_RETENTION_MS,
  describeChangeStoreContract,
  MemoryChangeStore,
} from "../src/testing";

describeChangeStoreContract(
  "in memory",
  async (clock) => new MemoryChangeStore(clock, CHANGE_RETENTION_MS),
);
