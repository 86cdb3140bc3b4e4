import { describeOverrideStoreContract, MemoryOverrideStore } from "../src/testing";

describeOverrideStoreContract("in memory", async () => new MemoryOverrideStore());
