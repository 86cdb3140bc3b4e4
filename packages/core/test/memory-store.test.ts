import { describeIncidentStoreContract, MemoryIncidentStore } from "../src/testing";

describeIncidentStoreContract("in memory", async (options) => new MemoryIncidentStore(options));
