// End-to-end tests of `sandboxcore mcp` (stdio) with the official MCP
// TypeScript SDK as the client. Run with `npm test` from tests/mcp/node.
//
// The server is $SANDBOXCORE_BIN (default <repo>/target/debug/sandboxcore),
// started as `sandboxcore mcp --policy tests/data/mcp_policy.yml` in a fresh
// temporary directory. A missing binary fails the tests; it never skips them.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  ASK_COMMAND,
  checkBinary,
  diagnose,
  pidsRunningSleep,
  sleep,
  startServer,
  textOf,
  waitFor,
  withServer,
} from "./helpers.js";

const VERDICTS = ["allow", "warn", "ask", "deny"];
const STATUSES = ["ok", "failed", "signal", "timeout", "oom"];

/** Asserts that a tool call ran (it was not refused). */
function assertRan(result) {
  assert.notEqual(result.isError, true, `expected the command to run, got an error: ${textOf(result)}`);
  assert.ok(result.structuredContent, "a run result carries structuredContent");
}

/** Asserts that a `run` was refused with `code`, and returns its structuredContent. */
function assertRefused(result, code) {
  assert.equal(result.isError, true, "a refused run is a tool error (isError true)");
  const sc = result.structuredContent;
  assert.ok(sc, "a refused run carries structuredContent");
  assert.equal(sc.code, code);
  assert.ok(["deny", "ask"].includes(sc.verdict), `verdict of a refusal is deny or ask, got ${sc.verdict}`);
  assert.ok(Array.isArray(sc.reasons) && sc.reasons.length > 0, "a refusal gives its reasons");
  assert.ok(textOf(result).trim().length > 0, "a refusal has a text explanation");
  return sc;
}

describe("binary", () => {
  it("exists and has the `mcp` subcommand", () => {
    checkBinary();
  });
});

describe("tools and resources (one session, no elicitation)", { timeout: 120_000 }, () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });
  const test = (name, fn, options = { timeout: 30_000 }) =>
    it(name, options, () => diagnose(server, fn));

  test("tools/list has classify, check and run with descriptions and object input schemas", async (s) => {
    const { tools } = await s.client.listTools(undefined, { timeout: 10_000 });
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ["classify", "check", "run"]) {
      const tool = byName.get(name);
      assert.ok(tool, `tools/list lacks ${name}; it has ${[...byName.keys()].join(", ")}`);
      assert.equal(typeof tool.description, "string");
      assert.ok(tool.description.trim().length > 0, `${name} has an empty description`);
      assert.equal(tool.inputSchema?.type, "object", `${name}'s inputSchema is not of type object`);
    }
    const runSchema = JSON.stringify(byName.get("run").inputSchema);
    for (const field of ["command", "argv", "cwd", "timeout_secs", "env", "stdin"]) {
      assert.ok(runSchema.includes(`"${field}"`), `run's inputSchema does not mention ${field}: ${runSchema}`);
    }
  });

  test("classify `ls -l`", async (s) => {
    const r = await s.call("classify", { command: "ls -l" });
    assert.notEqual(r.isError, true, textOf(r));
    const sc = r.structuredContent;
    assert.ok(sc, "classify returns structuredContent");
    for (const key of ["needs_shell", "argv", "programs", "read_only", "risk", "reasons"]) {
      assert.ok(key in sc, `classify's structuredContent lacks ${key}`);
    }
    assert.equal(sc.needs_shell, false);
    assert.deepEqual(sc.argv, ["ls", "-l"]);
    assert.equal(sc.read_only, true);
    assert.ok(Array.isArray(sc.programs), "programs is an array");
    assert.ok(Array.isArray(sc.reasons), "reasons is an array");
    assert.ok(["low", "medium", "high", "critical"].includes(sc.risk), `risk is ${sc.risk}`);
  });

  test("check denies `rm -rf /tmp/x` and the reasons mention rm -rf", async (s) => {
    const r = await s.call("check", { command: "rm -rf /tmp/x" });
    assert.notEqual(r.isError, true, `check is not a tool error: ${textOf(r)}`);
    const sc = r.structuredContent;
    assert.ok(sc, "check returns structuredContent");
    for (const key of ["verdict", "reasons", "matched_rule", "plan", "classification"]) {
      assert.ok(key in sc, `check's structuredContent lacks ${key}`);
    }
    assert.equal(sc.verdict, "deny");
    assert.ok(Array.isArray(sc.reasons) && sc.reasons.length > 0, "a deny has reasons");
    for (const reason of sc.reasons) {
      for (const key of ["rule", "effect", "message"]) {
        assert.ok(key in reason, `a reason lacks ${key}: ${JSON.stringify(reason)}`);
      }
    }
    assert.ok(
      sc.reasons.some((reason) => JSON.stringify(reason).includes("rm -rf")),
      `no reason mentions "rm -rf": ${JSON.stringify(sc.reasons)}`,
    );
  });

  test("check takes an argv, and answers allow and ask", async (s) => {
    const allowed = await s.call("check", { argv: ["ls", "-l"] });
    assert.notEqual(allowed.isError, true, textOf(allowed));
    assert.equal(allowed.structuredContent?.verdict, "allow");
    const ask = await s.call("check", { command: ASK_COMMAND });
    assert.notEqual(ask.isError, true, textOf(ask));
    assert.equal(ask.structuredContent?.verdict, "ask");
    assert.ok(VERDICTS.includes(ask.structuredContent.verdict));
  });

  test("run `echo hello`", async (s) => {
    const r = await s.call("run", { command: "echo hello" });
    assertRan(r);
    const sc = r.structuredContent;
    for (const key of [
      "exit_code", "signal", "status", "timed_out", "stdout", "stderr",
      "stdout_truncated", "stderr_truncated", "duration_ms", "verdict",
    ]) {
      assert.ok(key in sc, `run's structuredContent lacks ${key}`);
    }
    assert.equal(sc.exit_code, 0);
    assert.equal(sc.stdout, "hello\n");
    assert.equal(sc.stderr, "");
    assert.equal(sc.status, "ok");
    assert.equal(sc.timed_out, false);
    assert.equal(sc.signal, null);
    assert.equal(sc.stdout_truncated, false);
    assert.equal(sc.stderr_truncated, false);
    assert.equal(typeof sc.duration_ms, "number");
    assert.ok(["allow", "warn"].includes(sc.verdict), `verdict of a run is ${sc.verdict}`);
    const text = textOf(r);
    assert.match(text, /\b0\b/, `the text does not state the exit code: ${text}`);
    assert.ok(text.includes("hello"), `the text does not include the output: ${text}`);
  });

  test("run with argv, cwd, env and stdin", async (s) => {
    const argv = await s.call("run", { argv: ["printf", "%s|", "a b", "$HOME"] });
    assertRan(argv);
    assert.equal(argv.structuredContent.stdout, "a b|$HOME|", "an argv runs with no shell");

    const r = await s.call("run", {
      command: 'pwd; echo "FOO=$FOO"; cat',
      cwd: s.cwd,
      env: { FOO: "bar baz" },
      stdin: "from stdin\n",
      timeout_secs: 20,
    });
    assertRan(r);
    assert.equal(r.structuredContent.exit_code, 0, r.structuredContent.stderr);
    assert.equal(r.structuredContent.stdout, `${s.cwd}\nFOO=bar baz\nfrom stdin\n`);
  });

  test("run: a non-zero exit is a result, not a tool error", async (s) => {
    const r = await s.call("run", { argv: ["sh", "-c", "echo oops >&2; exit 3"] });
    assertRan(r);
    const sc = r.structuredContent;
    assert.equal(sc.exit_code, 3);
    assert.equal(sc.status, "failed");
    assert.equal(sc.stderr, "oops\n");
    assert.match(textOf(r), /\b3\b/, "the text states the exit code");
  });

  test("run: timeout_secs stops a long command", async (s) => {
    const started = Date.now();
    const r = await s.call("run", { command: "sleep 30", timeout_secs: 1 });
    assert.ok(Date.now() - started < 15_000, "the run ended well before the command would have");
    assertRan(r);
    assert.equal(r.structuredContent.status, "timeout");
    assert.equal(r.structuredContent.timed_out, true);
  });

  test("run refuses `rm -rf /tmp/x` with POLICY_DENIED", async (s) => {
    const r = await s.call("run", { command: "rm -rf /tmp/x" });
    const sc = assertRefused(r, "POLICY_DENIED");
    assert.equal(sc.verdict, "deny");
    const text = textOf(r);
    assert.ok(
      text.includes("rm -rf") || sc.reasons.some((reason) => reason.message && text.includes(reason.message)),
      `the text does not name the reason: ${text}`,
    );
  });

  test("run refuses an invalid argument with INVALID_ARGUMENT", async (s) => {
    const r = await s.call("run", { command: "echo x", timeout_secs: -5 });
    assert.equal(r.isError, true, "an invalid timeout_secs is a tool error");
    assert.equal(r.structuredContent?.code, "INVALID_ARGUMENT");
  });

  test("run of an ask command without elicitation is refused with APPROVAL_REQUIRED", async (s) => {
    const r = await s.call("run", { command: ASK_COMMAND });
    assertRefused(r, "APPROVAL_REQUIRED");
  });

  test("resources: sandboxcore://status and sandboxcore://metrics", async (s) => {
    const { resources } = await s.client.listResources(undefined, { timeout: 10_000 });
    const uris = resources.map((r) => r.uri);
    assert.ok(uris.includes("sandboxcore://status"), `resources/list: ${uris}`);
    assert.ok(uris.includes("sandboxcore://metrics"), `resources/list: ${uris}`);

    const status = await s.client.readResource({ uri: "sandboxcore://status" }, { timeout: 10_000 });
    assert.equal(status.contents.length, 1);
    const [content] = status.contents;
    assert.equal(content.uri, "sandboxcore://status");
    assert.equal(content.mimeType, "application/json");
    const json = JSON.parse(content.text);
    assert.ok("backend" in json, `status lacks backend: ${content.text}`);
    assert.equal(json.policy?.enforcement, "enforce");
    assert.equal(typeof json.capabilities, "object");
    assert.ok(json.capabilities !== null && Object.keys(json.capabilities).length > 0, "capabilities is empty");
    for (const [key, value] of Object.entries(json.capabilities)) {
      assert.equal(typeof value, "boolean", `capabilities.${key} is not a boolean: ${JSON.stringify(value)}`);
    }

    const metrics = await s.client.readResource({ uri: "sandboxcore://metrics" }, { timeout: 10_000 });
    assert.equal(metrics.contents[0]?.uri, "sandboxcore://metrics");
    assert.equal(typeof metrics.contents[0]?.text, "string");
    assert.ok(metrics.contents[0].text.trim().length > 0, "metrics is empty");
  });
});

describe("progress notifications", { timeout: 60_000 }, () => {
  // One run: two chunks 1 s apart, then 3 s of silence (a heartbeat is
  // due after 2 s), then a last chunk.
  const COMMAND = "echo chunk-one; sleep 1; echo chunk-two; sleep 3; echo chunk-three";
  let server;
  let result;
  let finishedAt;
  const notes = [];
  before(async () => {
    server = await startServer();
    await diagnose(server, async (s) => {
      const t0 = Date.now();
      result = await s.call("run", { command: COMMAND, timeout_secs: 30 }, {
        onprogress: (p) => notes.push({ ...p, at: Date.now() - t0 }),
      });
      finishedAt = Date.now() - t0;
    });
  });
  after(async () => {
    await server?.close();
  });
  const detail = () =>
    `notifications: ${JSON.stringify(notes)}; call ended at ${finishedAt} ms; ` +
    `client protocol errors: ${JSON.stringify(server?.protocolErrors ?? [])}`;
  const firstWith = (text) => notes.find((n) => n.message?.includes(text));

  it("the run completes with all of its output", () => {
    assertRan(result);
    assert.equal(result.structuredContent.stdout, "chunk-one\nchunk-two\nchunk-three\n");
  });

  it("output chunks arrive in progress messages while the command runs", () => {
    const one = firstWith("chunk-one");
    const two = firstWith("chunk-two");
    assert.ok(one, `no progress message carried chunk-one; ${detail()}`);
    assert.ok(two, `no progress message carried chunk-two; ${detail()}`);
    assert.ok(one.at < finishedAt - 2000, `chunk-one came only at the end; ${detail()}`);
    assert.ok(two.at < finishedAt - 1500, `chunk-two came only at the end; ${detail()}`);
  });

  it("every output chunk, the last one included, is sent before the result (wire order)", () => {
    // Checked on the wire, not through onprogress: the SDK may drop a
    // notification that arrives together with its response (#2580).
    const response = server.wire.findIndex(
      (w) => "id" in w.message && ("result" in w.message || "error" in w.message) &&
        w.message.result?.structuredContent?.stdout === "chunk-one\nchunk-two\nchunk-three\n",
    );
    assert.ok(response >= 0, `the run's response is not in the wire log; ${detail()}`);
    const before = server.wire
      .slice(0, response)
      .filter((w) => w.message.method === "notifications/progress")
      .map((w) => w.message.params.message ?? "")
      .join("");
    for (const chunk of ["chunk-one", "chunk-two", "chunk-three"]) {
      assert.ok(before.includes(chunk), `no progress notification carried ${chunk} before the response; ${detail()}`);
    }
  });

  it("a heartbeat arrives while the command is silent", () => {
    const two = firstWith("chunk-two");
    assert.ok(two, `no progress message carried chunk-two; ${detail()}`);
    // The silence lasts from chunk-two until chunk-three is printed, 3 s later.
    const beats = notes.filter(
      (n) => n.at > two.at && n.at < two.at + 2900 && !/chunk-/.test(n.message ?? ""),
    );
    assert.ok(beats.length > 0, `no notification during the 3 s of silence; ${detail()}`);
  });

  it("progress values strictly increase (MCP spec: progress MUST increase with each notification)", () => {
    for (let i = 1; i < notes.length; i++) {
      assert.ok(
        notes[i].progress > notes[i - 1].progress,
        `notification ${i} has progress ${notes[i].progress} after ${notes[i - 1].progress}; ${detail()}`,
      );
    }
  });
});

describe("cancellation", () => {
  it("aborting a run kills the command and the session goes on", { timeout: 60_000 }, async () => {
    const n = 100_000 + Math.floor(Math.random() * 900_000);
    const server = await startServer();
    try {
      await diagnose(server, async (s) => {
        const ac = new AbortController();
        const started = Date.now();
        let settled = null;
        const call = s.client
          .callTool({ name: "run", arguments: { command: `sleep ${n}`, timeout_secs: 600 } }, undefined, {
            signal: ac.signal,
            timeout: 60_000,
          })
          .then(
            (value) => { settled = { value }; return settled; },
            (error) => { settled = { error }; return settled; },
          );

        const appeared = await waitFor(() => settled !== null || pidsRunningSleep(n).length > 0, 10_000);
        assert.ok(
          appeared && settled === null,
          `\`sleep ${n}\` never showed up in /proc within 10 s; the call ${
            settled ? `settled: ${JSON.stringify(settled.value ?? String(settled.error))}` : "is still pending"
          }`,
        );
        await sleep(Math.max(0, 1000 - (Date.now() - started)));
        ac.abort("the e2e test cancels the run");
        const outcome = await call;
        assert.ok(outcome.error, `the aborted call resolved instead of rejecting: ${JSON.stringify(outcome.value)}`);

        const gone = await waitFor(() => pidsRunningSleep(n).length === 0, 5000);
        assert.ok(gone, `\`sleep ${n}\` still runs 5 s after the cancellation: pids ${pidsRunningSleep(n)}`);

        const r = await s.call("run", { command: "echo still-here" });
        assertRan(r);
        assert.equal(r.structuredContent.stdout, "still-here\n");
      });
    } finally {
      await server.close();
      // Do not leave our own uniquely numbered sleep behind if the test failed.
      for (const pid of pidsRunningSleep(n)) {
        try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
      }
    }
  });
});

describe("approval by elicitation", { timeout: 120_000 }, () => {
  const accept = (decision) => () => ({ action: "accept", content: { decision } });

  it("the elicitation asks for decision once|session|deny; `once` runs and asks again next time", { timeout: 30_000 }, () =>
    withServer({ elicit: accept("once") }, async (s) => {
      const r = await s.call("run", { command: ASK_COMMAND });
      assert.equal(s.elicitations.length, 1, "the server sent one elicitation");
      const params = s.elicitations[0];
      assert.ok(params.mode === undefined || params.mode === "form", `mode is ${params.mode}`);
      assert.equal(typeof params.message, "string");
      assert.ok(params.message.trim().length > 0, "the elicitation has a message");
      const schema = params.requestedSchema;
      assert.equal(schema?.type, "object", JSON.stringify(schema));
      assert.ok(schema.required?.includes("decision"), `decision is not required: ${JSON.stringify(schema)}`);
      assert.deepEqual(schema.properties?.decision?.enum, ["once", "session", "deny"]);

      assertRan(r);
      assert.equal(r.structuredContent.exit_code, 0);
      assert.equal(r.structuredContent.stdout, "https://approval.example/x\n");

      const again = await s.call("run", { command: ASK_COMMAND });
      assertRan(again);
      assert.equal(s.elicitations.length, 2, "`once` approves one run only: the next one is asked again");
    }),
  );

  it("`session` runs and is not asked again for the same command", { timeout: 30_000 }, () =>
    withServer({ elicit: accept("session") }, async (s) => {
      const first = await s.call("run", { command: ASK_COMMAND });
      assertRan(first);
      assert.equal(first.structuredContent.stdout, "https://approval.example/x\n");
      const second = await s.call("run", { command: ASK_COMMAND });
      assertRan(second);
      assert.equal(second.structuredContent.stdout, "https://approval.example/x\n");
      assert.equal(s.elicitations.length, 1, "the second run of the same command was asked again");
    }),
  );

  it("`deny` refuses (code APPROVAL_REQUIRED, approval refused)", { timeout: 30_000 }, () =>
    withServer({ elicit: accept("deny") }, async (s) => {
      const r = await s.call("run", { command: ASK_COMMAND });
      assert.equal(s.elicitations.length, 1);
      // One code for every approval that did not happen (as in the CLI,
      // Python and Node); `approval` says how it went.
      const sc = assertRefused(r, "APPROVAL_REQUIRED");
      assert.equal(sc.approval, "refused");
    }),
  );

  it("declining the elicitation refuses (code APPROVAL_REQUIRED, approval refused)", { timeout: 30_000 }, () =>
    withServer({ elicit: () => ({ action: "decline" }) }, async (s) => {
      const r = await s.call("run", { command: ASK_COMMAND });
      assert.equal(s.elicitations.length, 1);
      // One code for every approval that did not happen (as in the CLI,
      // Python and Node); `approval` says how it went.
      const sc = assertRefused(r, "APPROVAL_REQUIRED");
      assert.equal(sc.approval, "refused");
    }),
  );

  it("an allowed command is not put to the user", { timeout: 30_000 }, () =>
    withServer({ elicit: accept("deny") }, async (s) => {
      const r = await s.call("run", { command: "echo hello" });
      assertRan(r);
      assert.equal(s.elicitations.length, 0);
    }),
  );
});
