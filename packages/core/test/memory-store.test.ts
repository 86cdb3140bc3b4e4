import { describeIncidentStoreContract, MemoryIncidentStore } from "../src/testing";

describeIncidentStoreContract("in memory", async () => new MemoryIncidentStore());
