// Shared plumbing for the `sandboxcore mcp` end-to-end tests: start the
// server under the official MCP TypeScript SDK's stdio client, call its
// tools, and attach the server's stderr and the last tool result to any
// failure.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  StdioClientTransport,
  getDefaultEnvironment,
} from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

/** The repository root (this file is tests/mcp/node/helpers.js). */
export const REPO = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
);

/** The server binary: $SANDBOXCORE_BIN, else the workspace's debug build. */
export const BIN =
  process.env.SANDBOXCORE_BIN || path.join(REPO, "target", "debug", "sandboxcore");

/** The policy the server runs under. */
export const POLICY = path.join(REPO, "tests", "data", "mcp_policy.yml");

/** A command the policy answers `ask` for (require_approval). */
export const ASK_COMMAND = "echo https://approval.example/x";

/** How long one tool call may take unless a test says otherwise. */
export const CALL_TIMEOUT_MS = 30_000;

let binaryProblem; // undefined: not checked yet; null: fine; string: why not

/**
 * Throws (never skips) when the binary is missing or has no working `mcp`
 * subcommand, with a message saying what to do.
 */
export function checkBinary() {
  if (binaryProblem === undefined) {
    binaryProblem = findBinaryProblem();
  }
  if (binaryProblem) {
    throw new Error(binaryProblem);
  }
}

function findBinaryProblem() {
  const hint =
    "build the CLI (`cargo build -p sandboxcore-cli`) or point SANDBOXCORE_BIN at a sandboxcore binary with the `mcp` subcommand";
  if (!fs.existsSync(BIN)) {
    return `the sandboxcore binary ${BIN} does not exist: ${hint}`;
  }
  if (!fs.existsSync(POLICY)) {
    return `the test policy ${POLICY} does not exist`;
  }
  const r = spawnSync(BIN, ["mcp", "--help"], { encoding: "utf8", timeout: 30_000 });
  if (r.error) {
    return `cannot run \`${BIN} mcp --help\`: ${r.error.message}: ${hint}`;
  }
  if (r.status !== 0) {
    return (
      `\`${BIN} mcp --help\` exited with status ${r.status} (signal ${r.signal}); ` +
      `the binary lacks the \`mcp\` subcommand: ${hint}\nstderr: ${r.stderr.trim()}`
    );
  }
  return null;
}

/**
 * Starts `sandboxcore mcp --policy tests/data/mcp_policy.yml` in a fresh
 * temporary directory and connects an SDK client to it.
 *
 * `elicit`, when given, declares the elicitation capability and answers
 * each elicitation/create request with `elicit(params, n)` (n counts from
 * 1); every request's params are recorded in `server.elicitations`.
 */
export async function startServer({ elicit } = {}) {
  checkBinary();
  const cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sandboxcore-mcp-e2e-")));
  const transport = new StdioClientTransport({
    command: BIN,
    args: ["mcp", "--policy", POLICY],
    cwd,
    stderr: "pipe",
    env: { ...getDefaultEnvironment(), RUST_BACKTRACE: "1" },
  });
  let stderr = "";
  transport.stderr.on("data", (chunk) => {
    stderr += chunk.toString();
    if (stderr.length > 64 * 1024) {
      stderr = stderr.slice(-32 * 1024);
    }
  });

  const client = new Client(
    { name: "sandboxcore-mcp-e2e", version: "0.0.0" },
    { capabilities: elicit ? { elicitation: {} } : {} },
  );
  const server = {
    client,
    transport,
    cwd,
    elicitations: [],
    /** Errors the SDK reported on this connection (client.onerror). */
    protocolErrors: [],
    /** Every message the server sent after initialization: {at, message}. */
    wire: [],
    last: undefined,
    stderr: () => stderr,
    async call(name, args, options = {}) {
      server.last = undefined;
      const result = await client.callTool({ name, arguments: args }, undefined, {
        timeout: CALL_TIMEOUT_MS,
        ...options,
      });
      server.last = result;
      return result;
    },
    async close() {
      try {
        await client.close();
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    },
  };
  client.onerror = (error) => {
    server.protocolErrors.push(error?.message ?? String(error));
  };
  if (elicit) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      server.elicitations.push(request.params);
      return elicit(request.params, server.elicitations.length);
    });
  }
  try {
    await client.connect(transport, { timeout: 20_000 });
    // Record what the server sent, in wire order, before the SDK dispatches
    // it: the SDK (1.x) handles a response synchronously but a notification
    // in a microtask, so a progress notification read in the same chunk as
    // its response reaches no handler (typescript-sdk issue #2580). The
    // wire log shows what the server really sent, and when.
    const dispatch = transport.onmessage;
    transport.onmessage = (message, extra) => {
      server.wire.push({ at: Date.now(), message });
      if (server.wire.length > 10_000) {
        server.wire.splice(0, 5_000);
      }
      dispatch?.(message, extra);
    };
  } catch (e) {
    await server.close().catch(() => {});
    throw new Error(
      `cannot initialize an MCP session with \`${BIN} mcp\`: ${e.message}\nserver stderr:\n${tail(stderr)}`,
      { cause: e },
    );
  }
  return server;
}

/**
 * Runs `fn(server)` and, when it throws, rethrows with the last tool result
 * and the server's stderr appended so that a failure shows what the server
 * did.
 */
export async function diagnose(server, fn) {
  try {
    return await fn(server);
  } catch (e) {
    const last = server.last === undefined ? "(none)" : JSON.stringify(server.last, null, 2);
    const errors = server.protocolErrors.length ? server.protocolErrors.join("\n") : "(none)";
    const err = new Error(
      `${e.message}\n--- last tool result:\n${last}\n--- client protocol errors:\n${errors}` +
        `\n--- server stderr (tail):\n${tail(server.stderr())}`,
      { cause: e },
    );
    throw err;
  }
}

/** Starts a server, runs `fn` against it, and always closes it. */
export async function withServer(options, fn) {
  const server = await startServer(options);
  try {
    return await diagnose(server, fn);
  } finally {
    await server.close();
  }
}

function tail(text, lines = 30) {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n") || "(empty)";
}

/** The concatenated text content items of a tool result. */
export function textOf(result) {
  return (result.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("\n");
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every 100 ms until it is true or `ms` pass. */
export async function waitFor(predicate, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await predicate()) {
      return true;
    }
    if (Date.now() >= deadline) {
      return false;
    }
    await sleep(100);
  }
}

/**
 * The pids of every process on the host whose command line runs
 * `sleep <n>` (the program itself, or a shell running that line).
 */
export function pidsRunningSleep(n) {
  const wanted = new RegExp(`(^|[\\s/;&|(])sleep ${n}(?![0-9.])`);
  const pids = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    let raw;
    try {
      raw = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // gone meanwhile, or not readable
    }
    const argv = raw.split("\0").filter((a) => a !== "");
    const direct = argv.some((a, i) => path.basename(a) === "sleep" && argv[i + 1] === String(n));
    if (direct || argv.some((a) => wanted.test(a))) {
      pids.push(Number(entry));
    }
  }
  return pids;
}
