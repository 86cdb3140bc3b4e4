import {
  COUNTER_RETENTION_MS,
  describeSignalCountersContract,
  MemorySignalCounters,
} from "../src/testing";

describeSignalCountersContract(
  "in memory",
  async (clock) => new MemorySignalCounters(clock, COUNTER_RETENTION_MS),
);
