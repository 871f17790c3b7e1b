// Fast local SQS for tests, the soak test and the demo runner.
//
//   node local/sqs_server.mjs [port] [--exit-with-stdin]     (or SQS_PORT=...; 0/unset = any free port)
//
// Binds 127.0.0.1 only. Prints one line `local-aws-sqs ready http://127.0.0.1:<port>` on stdout
// once it accepts connections (local/services.py waits for it) and exits 0 on SIGTERM/SIGINT.
// With --exit-with-stdin it also exits when its stdin closes, so a parent that dies without stopping
// it (a killed pytest) leaves no orphan behind.
//
// Built on the npm package local-aws-sqs (pinned in package.json), which speaks both the AWS JSON 1.0
// protocol that boto3 uses for SQS and the old query protocol. Where it differs from SQS in ways the
// connector's tests would notice, it is corrected here:
//
//  1. Long polling: its ReceiveMessage waits until it has MaxNumberOfMessages or WaitTimeSeconds has
//     passed (and can hand the same message back twice in one response if its visibility timeout runs
//     out meanwhile). SQS returns as soon as any message is available. Fixed by wrapping the queue's
//     public `receive` method: short polls until something arrives or the wait is over, de-duplicated.
//  2-5. Small patches of the package's source as it is loaded (the file on disk is not changed), see
//     PATCHES. If the pinned version's code ever differs, a warning is printed and that patch skipped.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire, Module } from "node:module";
import path from "node:path";

const HOST = "127.0.0.1";

const PATCHES = [
  {
    why: "ChangeMessageVisibility must not count as a receive (it sent messages to the DLQ early)",
    // In that function `i` is true only for ChangeMessageVisibility (which keeps the receipt handle).
    from: "let n=Number(t.record.attributes.ApproximateReceiveCount)+1;",
    to: "let n=Number(t.record.attributes.ApproximateReceiveCount)+(i?0:1);",
  },
  {
    why: "ApproximateNumberOfMessages counts visible messages only (it included in-flight ones)",
    from: "ApproximateNumberOfMessages:String(S(this,E).filter(o=>!o.delayed).length)",
    to: "ApproximateNumberOfMessages:String(S(this,E).filter(o=>!o.delayed&&o.visible).length)",
  },
  {
    why: "ReceiveMessage honours MessageSystemAttributeNames (it read only the deprecated AttributeNames)",
    from: "AttributeNames:n,MessageAttributeNames:o}=this.body",
    to: "AttributeNames:n=this.body.MessageSystemAttributeNames,MessageAttributeNames:o}=this.body",
  },
  {
    why: "ReceiveMessage looks for messages every 1 ms, not 10 ms (about 5x the receive rate)",
    from: "break}}},10),c.unref()",
    to: "break}}},1),c.unref()",
  },
];

function loadLocalAwsSqs() {
  const require = createRequire(import.meta.url);
  const file = require.resolve("local-aws-sqs");
  let source = readFileSync(file, "utf8");
  for (const { why, from, to } of PATCHES) {
    if (source.split(from).length === 2) source = source.replace(from, to);
    else console.error(`sqs_server: warning: local-aws-sqs source changed, not patched: ${why}`);
  }
  const mod = new Module(file, null);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  mod._compile(source, file);
  return mod.exports;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function fixLongPolling(Queue) {
  const original = Queue.prototype.receive;
  Queue.prototype.receive = async function receive(options) {
    const wait = Number(options.WaitTimeSeconds ?? this.ReceiveMessageWaitTimeSeconds ?? 0);
    const deadline = Date.now() + wait * 1000;
    for (;;) {
      const records = await original.call(this, { ...options, WaitTimeSeconds: 0 });
      if (records.length || Date.now() >= deadline) {
        const byId = new Map(records.map((record) => [record.MessageId, record])); // last copy wins
        return [...byId.values()];
      }
      await sleep(Math.min(20, Math.max(0, deadline - Date.now())));
    }
  };
}

const args = process.argv.slice(2);
const exitWithStdin = args.includes("--exit-with-stdin");
const raw = args.find((arg) => !arg.startsWith("--")) ?? process.env.SQS_PORT ?? "0";
const port = Number.parseInt(raw, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`sqs_server: bad port ${JSON.stringify(raw)}`);
  process.exit(2);
}

const { createRequestHandler } = loadLocalAwsSqs();
const { service, requestHandler } = createRequestHandler({
  port,
  hostname: HOST,
  region: process.env.AWS_DEFAULT_REGION || process.env.AWS_REGION || "us-east-1",
  // Tests re-create queues with the same names after deleting them; don't make them wait 60 s.
  emulateQueueCreationLifecycle: false,
  queues: [{ QueueName: "local-aws-sqs-probe" }], // only to reach the Queue class; removed below
});
fixLongPolling(service.Queues[0].constructor);
service.Queues.length = 0;

const server = createServer(requestHandler);
server.on("error", (error) => {
  console.error(`sqs_server: cannot listen on ${HOST}:${port}: ${error.message}`);
  process.exit(1);
});
server.listen(port, HOST, () => {
  service.PORT = server.address().port; // queue URLs carry the real port
  console.log(`local-aws-sqs ready http://${HOST}:${service.PORT}`);
});

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.error(`sqs_server: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
if (exitWithStdin) {
  process.stdin.on("end", () => stop("stdin closed"));
  process.stdin.on("error", () => stop("stdin error"));
  process.stdin.resume();
}
