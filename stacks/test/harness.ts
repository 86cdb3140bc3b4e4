/**
 * Runs Firebreak's stacks offline under Pulumi's unit-test mocks and records the AWS resources
 * they declare. It stands in for what SST's CLI provides while deploying: the globals (`$app`,
 * `$cli`, `sst`, `aws`...), its JSON-RPC endpoint (`Provider.Aws.Bootstrap`, `Runtime.Build`,
 * which really bundles each handler with esbuild as SST would), and answers to the data calls
 * (account, region, partition, policy documents). It leans on SST internals: `sst` is pinned.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { sstEsbuildOptions } from "../bundle";

export const ROOT = path.resolve(import.meta.dirname, "../..");
const PLATFORM = path.join(ROOT, ".sst/platform");
if (!existsSync(path.join(PLATFORM, "config.d.ts"))) {
  throw new Error("No .sst/platform: run `npm run sst:install` (sst install, offline) first");
}
const platformRequire = createRequire(path.join(PLATFORM, "package.json"));
// biome-ignore lint/suspicious/noExplicitAny: Pulumi's runtime internals are untyped here
const pulumi: any = platformRequire("@pulumi/pulumi");

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

export interface RecordedResource {
  type: string;
  name: string;
  /** With Pulumi secrets unwrapped; `secrets` names the inputs that were secret. */
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are whatever the provider takes
  inputs: any;
  secrets: string[];
  retainOnDelete: boolean;
  protect: boolean;
}

/** What SST asked its CLI to build for one function, and what the build produced. */
export interface RecordedBuild {
  functionID: string;
  handler: string;
  links: Record<string, unknown>;
  copyFiles: Array<{ from: string; to: string }>;
  properties: Record<string, unknown>;
  runtime: string;
  out: string;
  bytes: number;
}

export interface Synth {
  resources: RecordedResource[];
  builds: Map<string, RecordedBuild>;
  outputs: Record<string, unknown>;
  ofType(type: string): RecordedResource[];
  named(type: string, name: string): RecordedResource;
}

/** Pulumi's marker of a secret value in serialized properties. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The value with secrets unwrapped; `found` collects the top-level keys that held one. */
function unsecret(value: unknown, found?: Set<string>, key?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => unsecret(item, found, key));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (SECRET_SIG in record) {
    if (key !== undefined) found?.add(key);
    return unsecret(record.value, found, key);
  }
  return Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, unsecret(v, found, key ?? k)]),
  );
}

const arn = (service: string, resource: string) =>
  `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;

/** ARNs by resource type, from the physical name. */
const ARNS: Record<string, (name: string) => string> = {
  "aws:sqs/queue:Queue": (n) => arn("sqs", n),
  "aws:lambda/function:Function": (n) => arn("lambda", `function:${n}`),
  "aws:dynamodb/table:Table": (n) => arn("dynamodb", `table/${n}`),
  "aws:iam/role:Role": (n) => `arn:aws:iam::${ACCOUNT}:role/${n}`,
  "aws:sns/topic:Topic": (n) => arn("sns", n),
  "aws:cloudwatch/eventRule:EventRule": (n) => arn("events", `rule/${n}`),
  "aws:cloudwatch/logGroup:LogGroup": (n) => arn("logs", `log-group:${n}`),
};

/** Outputs AWS would compute for a resource, from its logical name and inputs. */
// biome-ignore lint/suspicious/noExplicitAny: see RecordedResource
function computed(type: string, name: string, inputs: any): Record<string, unknown> {
  const physical = inputs.name ?? `${name}-mock`;
  const key = Buffer.alloc(32, 7);
  return {
    name: physical,
    arn: (ARNS[type] ?? ((n) => arn("mock", `${type}/${n}`)))(physical),
    ...(type === "aws:sqs/queue:Queue" && {
      url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`,
    }),
    ...(type === "aws:dynamodb/table:Table" &&
      inputs.streamEnabled && { streamArn: arn("dynamodb", `table/${physical}/stream/2025`) }),
    ...(type === "aws:apigatewayv2/api:Api" && {
      apiEndpoint: `https://${name.toLowerCase()}.execute-api.${REGION}.amazonaws.com`,
      executionArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${name}`,
    }),
    ...(type === "random:index/randomBytes:RandomBytes" && {
      base64: key.toString("base64"),
      hex: key.toString("hex"),
    }),
  };
}

interface DocumentStatement {
  effect?: string;
  actions?: string[];
  resources?: string[];
  principals?: Array<{ type: string; identifiers: string[] }>;
  conditions?: Array<{ test: string; variable: string; values: string[] }>;
}

/** `iam.getPolicyDocument`, as the AWS provider renders it. */
function policyDocument(statements: DocumentStatement[] = []) {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      Effect: s.effect ?? "Allow",
      ...(s.actions ? { Action: s.actions } : {}),
      ...(s.resources ? { Resource: s.resources } : {}),
      ...(s.principals
        ? { Principal: Object.fromEntries(s.principals.map((p) => [p.type, p.identifiers])) }
        : {}),
      ...(s.conditions
        ? {
            Condition: Object.fromEntries(
              s.conditions.map((c) => [c.test, { [c.variable]: c.values }]),
            ),
          }
        : {}),
    })),
  });
}

/** SST's CLI endpoint: bootstrap data, and function builds (esbuild, as `sst deploy` runs it). */
async function startRpc(work: string, builds: Map<string, RecordedBuild>) {
  // biome-ignore lint/suspicious/noExplicitAny: JSON-RPC payloads
  const methods: Record<string, (args: any) => Promise<unknown>> = {
    "Provider.Aws.Bootstrap": async () => ({
      asset: "sst-asset-mock",
      assetEcrRegistryId: ACCOUNT,
      assetEcrUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/sst-asset`,
      state: "sst-state-mock",
      appsyncHttp: "",
      appsyncRealtime: "",
    }),
    "Runtime.Build": async (input) => {
      const handler = String(input.handler);
      const base = path.basename(handler).split(".").slice(0, -1).join(".");
      const entry = [".ts", ".mts", ".js", ".mjs"]
        .map((ext) => path.join(ROOT, path.dirname(handler), base + ext))
        .find(existsSync);
      if (!entry)
        return { handler: "", out: "", errors: [`Handler not found: ${handler}`], sourcemaps: [] };
      const out = path.join(work, "artifacts", `${input.functionID}-src`);
      const file = base.replaceAll(".", "-");
      // Built with the function's own `nodejs` settings, as SST's CLI builds it.
      const nodejs = (input.properties ?? {}) as {
        splitting?: boolean;
        esbuild?: { external?: string[] };
      };
      const result = await build(
        sstEsbuildOptions(entry, path.join(out, `${file}.mjs`), {
          minify: true,
          sourcemap: false,
          splitting: nodejs.splitting ?? false,
          esbuild: { external: nodejs.esbuild?.external ?? [] },
        }),
      );
      const bytes = Object.values(result.metafile?.outputs ?? {}).reduce(
        (sum, o) => sum + o.bytes,
        0,
      );
      builds.set(input.functionID, { ...(unsecret(input) as RecordedBuild), out, bytes });
      return {
        handler: file + path.extname(handler),
        out,
        errors: result.errors.map((e) => e.text),
        sourcemaps: [],
      };
    },
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", async () => {
      const { method, params } = JSON.parse(body) as { method: string; params: unknown[] };
      const call = methods[method];
      const reply = call
        ? await call(params[0]).then(
            (result) => ({ result }),
            (error: Error) => ({ error: error.message }),
          )
        : { error: `rpc: can't find method ${method}` };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("rpc: no port");
  return { url: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

function setGlobals(options: SynthOptions, rpc: string, work: string) {
  Object.assign(globalThis, {
    $app: {
      name: "firebreak",
      stage: options.stage,
      removal: options.removal ?? "remove",
      protect: options.removal === "retain",
      providers: { aws: {} },
    },
    $dev: false,
    $cli: {
      command: "deploy",
      rpc,
      paths: { home: work, root: ROOT, work, platform: PLATFORM },
      state: { version: {} },
    },
  });
}

let platform: Promise<{ run: (program: () => Promise<unknown>) => Promise<unknown> }> | undefined;

/** SST's globals, as its CLI injects them into sst.config.ts. */
function loadPlatform() {
  platform ??= (async () => {
    // Some components read $app while loading; synth() sets the real values for each run.
    if (!("$app" in globalThis)) setGlobals({ stage: "load" }, "", tmpdir());
    const shim = await import(path.join(PLATFORM, "src/shim/run.js"));
    Object.assign(globalThis, { ...shim, aws: platformRequire("@pulumi/aws") });
    Object.assign(globalThis, {
      sst: await import(path.join(PLATFORM, "src/components/index.ts")),
    });
    return import(path.join(PLATFORM, "src/auto/run.ts"));
  })();
  return platform;
}

/**
 * sst.config.ts as SST's CLI runs it: bundled with everything it imports into one ESM file
 * (so a config that only works under vitest's transforms fails here too), loaded once SST's
 * globals (`$config`) exist.
 */
export async function loadSstConfig(): Promise<{
  app(input: { stage: string }): { removal?: string; protect?: boolean; name: string };
  run(): Promise<Record<string, unknown>>;
}> {
  await loadPlatform();
  const dir = mkdtempSync(path.join(tmpdir(), "firebreak-config-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const outfile = path.join(dir, "sst.config.mjs");
  await build({
    entryPoints: [path.join(ROOT, "sst.config.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "esnext",
    logLevel: "silent",
    banner: {
      js: `import { createRequire } from "module"; const require = createRequire(import.meta.url);`,
    },
  });
  return (await import(outfile)).default;
}

export interface SynthOptions {
  stage: string;
  /** `retain` for production stages, as sst.config.ts's app() decides. */
  removal?: "remove" | "retain";
  /** Environment variables for the run (restored after it). */
  env?: Record<string, string>;
}

/**
 * Runs `program` (sst.config.ts's `run`, or a stack function) as `sst deploy` would, against
 * mocks, and returns every resource it declared.
 */
export async function synth(
  program: () => Promise<unknown>,
  options: SynthOptions,
): Promise<Synth> {
  const work = mkdtempSync(path.join(tmpdir(), "firebreak-sst-"));
  // Bundles and the shipped policy stay readable until the test process ends.
  process.once("exit", () => rmSync(work, { recursive: true, force: true }));
  const builds = new Map<string, RecordedBuild>();
  const rpc = await startRpc(work, builds);
  const saved = { ...process.env };
  const cwd = process.cwd();
  Object.assign(process.env, { SST_SERVER: rpc.url, ...options.env });
  setGlobals(options, rpc.url, work);

  const resources: RecordedResource[] = [];
  const options_ = new Map<string, { retainOnDelete: boolean; protect: boolean }>();
  await pulumi.runtime.setMocks(
    {
      // biome-ignore lint/suspicious/noExplicitAny: MockResourceArgs
      newResource: (args: any) => {
        const opts = options_.get(`${args.type}::${args.name}`);
        const secrets = new Set<string>();
        const inputs = unsecret(args.inputs, secrets);
        resources.push({
          type: args.type,
          name: args.name,
          inputs,
          secrets: [...secrets],
          retainOnDelete: opts?.retainOnDelete ?? false,
          protect: opts?.protect ?? false,
        });
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, ...computed(args.type, args.name, inputs) },
        };
      },
      // biome-ignore lint/suspicious/noExplicitAny: MockCallArgs
      call: (args: any) => {
        switch (args.token) {
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
              accountId: ACCOUNT,
              arn: `arn:aws:iam::${ACCOUNT}:user/ci`,
              id: ACCOUNT,
              userId: "AIDAMOCK",
            };
          case "aws:index/getRegion:getRegion":
            return {
              id: REGION,
              name: REGION,
              region: REGION,
              description: "US East (N. Virginia)",
              endpoint: "",
            };
          case "aws:index/getPartition:getPartition":
            return {
              id: "aws",
              partition: "aws",
              dnsSuffix: "amazonaws.com",
              reverseDnsPrefix: "com.amazonaws",
            };
          case "aws:iam/getPolicyDocument:getPolicyDocument":
            return {
              id: "policy",
              json: policyDocument(args.inputs.statements),
              statements: args.inputs.statements,
            };
          default:
            return args.inputs;
        }
      },
    },
    "firebreak",
    options.stage,
    false,
  );
  // The mocks do not pass resource options on; note the two that matter here before they do.
  const monitor = pulumi.runtime.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  // biome-ignore lint/suspicious/noExplicitAny: protobuf request
  monitor.registerResource = (req: any, callback: unknown) => {
    options_.set(`${req.getType()}::${req.getName()}`, {
      retainOnDelete: req.getRetainondelete() === true,
      protect: req.getProtect() === true,
    });
    return register(req, callback);
  };

  try {
    const { run } = await loadPlatform();
    // A program that throws (a bad config, a missing secret) is the result, not a crash: Pulumi
    // would otherwise report it again as unhandled rejections of the stack resource.
    let failure: unknown;
    const guarded = () =>
      program().catch((error: unknown) => {
        failure = error;
        return {};
      });
    const outputs = (await pulumi.runtime.runInPulumiStack(() => run(guarded))) as Record<
      string,
      unknown
    >;
    await pulumi.runtime.waitForRPCs();
    if (failure) throw failure;
    return {
      resources,
      builds,
      outputs,
      ofType: (type) => resources.filter((r) => r.type === type),
      named: (type, name) => {
        const found = resources.find((r) => r.type === type && r.name === name);
        if (!found) throw new Error(`no ${type} named ${name}`);
        return found;
      },
    };
  } finally {
    rpc.close();
    process.chdir(cwd);
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

export interface PolicyStatement {
  Effect: string;
  Action: string[];
  Resource: string[];
}

/** The statements of a role's inline policies. */
export const statementsOf = (role: RecordedResource): PolicyStatement[] =>
  (role.inputs.inlinePolicies ?? []).flatMap(
    (p: { policy: string }) => (JSON.parse(p.policy) as { Statement: PolicyStatement[] }).Statement,
  );

/** Statements as `action resource` pairs: what a policy allows, however it is grouped. */
export const pairs = (statements: Array<{ actions: string[]; resources: string[] }>) =>
  new Set(statements.flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} ${r}`))));

/** Services whose APIs remediations call: only the dispatcher may, and never with a wildcard. */
const REMEDIATION_SERVICES = new Set([
  "ecs",
  "application-autoscaling",
  "autoscaling",
  "lambda",
  "codedeploy",
  "rds",
  "route53",
]);
export const isRemediation = (action: string) =>
  REMEDIATION_SERVICES.has(action.split(":")[0] ?? "");
