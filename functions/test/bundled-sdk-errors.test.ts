import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodejsOptions, sstEsbuildOptions } from "../../stacks/bundle";
import plugins, { awsSdkErrorsImported, sdkClientImports } from "../../stacks/esbuild-plugins.mjs";

const ADAPTER = path.join(import.meta.dirname, "../lib/adapters/ssm.ts");

/** The SSM adapter bundled whole (the SDK included), with or without the errors plugin. */
async function bundleSsm(outdir: string, withPlugin: boolean) {
  // As the functions deploy (stacks/bundle.ts): minified, class names kept.
  const result = await build({
    ...sstEsbuildOptions(ADAPTER, path.join(outdir, "ssm.mjs"), nodejsOptions("bundled")),
    plugins: withPlugin ? plugins : plugins.filter((plugin) => plugin !== awsSdkErrorsImported),
  });
  expect(result.errors).toEqual([]);
  return path.join(outdir, "ssm.mjs");
}

describe("bundled SDK clients keep only the error classes Firebreak imports", () => {
  let dir: string;
  let server: Server;
  let endpoint: string;
  /** Requests the stand-in answered, by the parameter name asked for. */
  const asked = new Map<string, number>();
  let pruned: string;
  let whole: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "firebreak-sdk-errors-"));
    [pruned, whole] = await Promise.all([
      bundleSsm(path.join(dir, "pruned"), true),
      bundleSsm(path.join(dir, "whole"), false),
    ]);
    // Parameter Store's AWS JSON 1.1 errors, by the name a request asks for.
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on("end", () => {
        const { Name } = JSON.parse(body) as { Name: string };
        asked.set(Name, (asked.get(Name) ?? 0) + 1);
        response
          .writeHead(400, { "content-type": "application/x-amz-json-1.1" })
          .end(JSON.stringify({ __type: Name, message: `${Name} says no` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** The pruned bundle's SDK, and a client of it on the stand-in trying each request `attempts` times. */
  async function prunedClient(attempts: number) {
    const sdk = (await import(pathToFileURL(pruned).href)) as typeof import("@aws-sdk/client-ssm");
    const client = new sdk.SSMClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: attempts,
    });
    return { sdk, client };
  }

  it("finds every client imported by name, none whole", () => {
    const imports = sdkClientImports();
    expect(imports.get("client-ssm")).toEqual(
      new Set(["GetParameterCommand", "ParameterNotFound", "SSMClient"]),
    );
    // A package imported whole keeps all its errors and commands: ./packages/aws/src/sdk instead.
    expect([...imports].filter(([, names]) => names === "all").map(([name]) => name)).toEqual([]);
  });

  it("registers only the imported error of Parameter Store's 140-odd", async () => {
    const [prunedCode, wholeCode] = await Promise.all([
      readFile(pruned, "utf8"),
      readFile(whole, "utf8"),
    ]);
    // The credential providers' own clients (STS, SSO) register theirs in both bundles.
    const registrations = (code: string) => code.split(".registerError(").length - 1;
    expect(registrations(wholeCode) - registrations(prunedCode)).toBeGreaterThan(130);
    // Their classes and schemas go with them: about 49 KB of this bundle's 394.
    expect(wholeCode.length - prunedCode.length).toBeGreaterThan(40_000);
  });

  it("throws an imported error as its class, any other as the service's exception by its name", async () => {
    const { sdk, client } = await prunedClient(1);
    const failure = (name: string) =>
      client.send(new sdk.GetParameterCommand({ Name: name })).then(
        () => {
          throw new Error("answered");
        },
        (error: unknown) => error as Error & { $metadata: { httpStatusCode?: number } },
      );

    const notFound = await failure("ParameterNotFound");
    expect(notFound).toBeInstanceOf(sdk.ParameterNotFound);
    expect(notFound.message).toBe("ParameterNotFound says no");

    const invalidKey = await failure("InvalidKeyId");
    // The adapter exports no base class: ParameterNotFound's parent is SSMServiceException.
    const serviceException = Object.getPrototypeOf(sdk.ParameterNotFound) as new () => Error;
    expect(serviceException.name).toBe("SSMServiceException");
    expect(invalidKey).toBeInstanceOf(serviceException);
    expect(invalidKey).not.toBeInstanceOf(sdk.ParameterNotFound);
    expect(invalidKey.name).toBe("InvalidKeyId");
    expect(invalidKey.message).toBe("InvalidKeyId says no");
    expect(invalidKey.$metadata.httpStatusCode).toBe(400);
    client.destroy();
  });

  it("retries a throttled request as before: the SDK classifies errors by name and status", async () => {
    const { sdk, client } = await prunedClient(3);
    const error = await client
      .send(new sdk.GetParameterCommand({ Name: "ThrottlingException" }))
      .catch((caught: unknown) => caught as Error & { $metadata: { attempts?: number } });
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("ThrottlingException");
    expect(asked.get("ThrottlingException")).toBe(3);
    expect((error as { $metadata: { attempts?: number } }).$metadata.attempts).toBe(3);
    client.destroy();
  });
});
