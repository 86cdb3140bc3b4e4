import { describeSilenceStoreContract, MemorySilenceStore } from "../src/testing";

describeSilenceStoreContract("in memory", async () => new MemorySilenceStore());
