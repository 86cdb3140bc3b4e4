// The embedded DynamoDB in its own process, so it has a core of its own: `node dynalite-server.mjs
// [port] [path]` prints "listening <port>" once ready. Without a path, data stays in memory. The
// endpoint serves DynamoDB Streams too (see dynalite-streams.mjs).
import { dynaliteWithStreams } from "./dynalite-streams.mjs";

const [port = "0", path] = process.argv.slice(2);
const server = dynaliteWithStreams({
  path: path || undefined,
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});
server.listen(Number(port), "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
let stopping = false;
const stop = () => {
  stopping = true;
  server.close(() => process.exit(0));
};
// Requests caught by the shutdown fail inside dynalite ("Database is closed"): that is the end
// we asked for, not a crash to report.
process.on("uncaughtException", (error) => {
  if (stopping) process.exit(0);
  throw error;
});
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// Exit with the parent: a local stack that dies must not leave its database running.
process.on("disconnect", stop);
