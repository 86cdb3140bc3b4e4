import { config } from "zod";

/**
 * Every schema parses without zod's JIT. zod compiles an object schema's parser with
 * `new Function` on its first parse; that pays off over thousands of parses, but a cold start
 * parses most schemas once, and the compile is most of that first parse: an incident record's
 * first parse took 13.5 to 18.7 ms with it and 4.8 to 5.7 ms without, a Sentry issue webhook's
 * 5.1 to 6.3 against 1.9 to 2.0. Warm, parses cost more (a record 100 to 114 µs against 120 to
 * 126, a webhook 6 to 7 µs against 13 to 18, a storm's queued signal 4 to 6 against 8 to 10),
 * 1 to 2% of the CPU a new incident or a storm's signal costs the local stack.
 *
 * zod reads this setting when a schema is built, so it must come before any schema. The local
 * stack imports this module first (packages/local/src/main.ts: ESM evaluates it before the
 * modules that build schemas). A deployed bundle gets the same setting from the build instead
 * (`zodJitless` in stacks/esbuild-plugins.mjs), because code splitting does not keep an entry's
 * first import first; bench/cold-start.ts fails a function that still compiles a parser.
 */
config({ jitless: true });
