"""End-to-end tests of `sandboxcore mcp` (stdio) with the official Python MCP SDK.

The server is the binary in $SANDBOXCORE_BIN (default target/debug/sandboxcore),
started as `sandboxcore mcp --policy tests/data/mcp_policy.yml` in a fresh
working directory per test. The tests fail (they do not skip) when the binary
is missing or has no `mcp` subcommand: CI builds it first.

Run: .venv/bin/python -m pytest -q tests/mcp/test_mcp_python.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.session import ClientRequestContext

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "tests" / "data" / "mcp_policy.yml"
BIN = os.environ.get("SANDBOXCORE_BIN") or str(REPO / "target" / "debug" / "sandboxcore")

# A command the policy sends to approval (require_approval: "*://approval.example/*").
# It appends to a file in the server's working directory, so a test can tell
# whether (and how often) it really ran.
ASK_COMMAND = "echo https://approval.example/x >> approved.log"
ASK_LOG = "approved.log"
DECISIONS = ["once", "session", "deny"]

_server_problem: str | None = None
_server_checked = False


def require_server() -> None:
    """Fails the calling test (not skips it) unless BIN has an `mcp` subcommand."""
    global _server_problem, _server_checked
    if not _server_checked:
        _server_checked = True
        if not Path(BIN).is_file():
            _server_problem = (
                f"the sandboxcore binary {BIN} does not exist: build it first "
                "(cargo build -p sandboxcore-cli) or point $SANDBOXCORE_BIN at it"
            )
        else:
            try:
                done = subprocess.run(
                    [BIN, "mcp", "--help"], capture_output=True, text=True, timeout=60
                )
            except (OSError, subprocess.TimeoutExpired) as e:
                _server_problem = f"`{BIN} mcp --help` could not run: {e}"
            else:
                if done.returncode != 0:
                    _server_problem = (
                        f"`{BIN} mcp --help` exited with {done.returncode}: this binary has no "
                        f"working `mcp` subcommand; rebuild it.\n{done.stderr[-2000:]}"
                    )
    if _server_problem:
        pytest.fail(_server_problem, pytrace=False)


def server_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
    }


def server_argv() -> list[str]:
    return [BIN, "mcp", "--policy", str(POLICY)]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The server's working directory (the default cwd of its runs)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@asynccontextmanager
async def mcp_session(
    work: Path,
    stderr_path: Path,
    *,
    elicitation_callback: Callable[..., Any] | None = None,
    extra_args: list[str] | None = None,
) -> AsyncIterator[ClientSession]:
    require_server()
    params = StdioServerParameters(
        command=BIN,
        args=server_argv()[1:] + (extra_args or []),
        env=server_env(),
        cwd=str(work),
    )
    with open(stderr_path, "a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(
                read, write, elicitation_callback=elicitation_callback
            ) as session:
                await session.initialize()
                yield session


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def structured(result: types.CallToolResult) -> dict[str, Any]:
    value = result.structured_content
    assert isinstance(value, dict), f"no structured content: {result}"
    return value


def describe(result: types.CallToolResult) -> str:
    return f"is_error={result.is_error} text={text_of(result)!r} structured={result.structured_content!r}"


async def assert_alive(session: ClientSession) -> None:
    """The session still answers requests."""
    r = await session.call_tool("classify", {"command": "ls"})
    assert not r.is_error, describe(r)
    assert structured(r)["argv"] == ["ls"]


async def call_or_fail(session: ClientSession, name: str, args: dict[str, Any], **kw: Any):
    """A tool call that must come back as a result, not as a protocol error."""
    try:
        return await session.call_tool(name, args, **kw)
    except MCPError as e:
        pytest.fail(
            f"{name} {args!r}: protocol error {e.error.code} {e.error.message!r} "
            "where the contract wants a tool result"
        )


# --- processes on the host ---------------------------------------------------


def unique_seconds() -> int:
    """A number no other test (or process on the host) uses as `sleep`'s argument."""
    return random.randint(4_200_000, 4_299_999)


def sleep_pids(seconds: int) -> list[int]:
    """The live processes running `sleep SECONDS` (directly or as a shell's line)."""
    token = str(seconds)
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
        if not args:  # kernel threads, zombies
            continue
        is_sleep = token in args and any(os.path.basename(a) == "sleep" for a in args)
        if is_sleep or any(f"sleep {token}" in a for a in args):
            pids.append(int(entry.name))
    return pids


def kill_leftovers(seconds: int) -> None:
    """Kills what the test started and the server failed to stop (by pid)."""
    for pid in sleep_pids(seconds):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


async def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        await anyio.sleep(interval)


# --- tools/list, classify, check ----------------------------------------------


async def test_tools_are_listed(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            init = s.initialize_result
            assert init is not None
            assert init.capabilities.tools is not None
            assert init.capabilities.resources is not None
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert {"classify", "check", "run"} <= set(tools), sorted(tools)
            for name in ("classify", "check", "run"):
                tool = tools[name]
                assert tool.description and tool.description.strip(), name
                assert tool.input_schema.get("type") == "object", (name, tool.input_schema)
            run_props = tools["run"].input_schema.get("properties", {})
            for prop in ("cwd", "timeout_secs", "env", "stdin"):
                assert prop in run_props, (prop, tools["run"].input_schema)


async def test_classify_plain_argv(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "classify", {"command": "ls -l"})
            assert not r.is_error, describe(r)
            c = structured(r)
            for key in ("needs_shell", "argv", "programs", "read_only", "risk", "reasons"):
                assert key in c, (key, c)
            assert c["needs_shell"] is False
            assert c["argv"] == ["ls", "-l"]
            assert c["read_only"] is True
            assert c["risk"] in ("low", "medium", "high", "critical")
            assert isinstance(c["reasons"], list)
            assert "ls" in json.dumps(c["programs"])
            assert text_of(r).strip()


async def test_classify_shell_line(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "classify", {"command": "cat notes.txt | grep todo > out.txt"})
            assert not r.is_error, describe(r)
            c = structured(r)
            assert c["needs_shell"] is True
            assert c["read_only"] is False  # it writes out.txt
            programs = json.dumps(c["programs"])
            assert "cat" in programs and "grep" in programs, c["programs"]


@pytest.mark.parametrize(
    ("command", "verdict"),
    [
        ("ls -l", "allow"),
        ("rm -rf ./build", "deny"),
        ("echo https://approval.example/x", "ask"),
    ],
)
async def test_check_command_line(work: Path, server_stderr: Path, command: str, verdict: str) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "check", {"command": command})
            assert not r.is_error, describe(r)
            d = structured(r)
            for key in ("verdict", "reasons", "matched_rule", "plan", "classification"):
                assert key in d, (key, d)
            assert d["verdict"] == verdict, d
            assert isinstance(d["reasons"], list)
            for reason in d["reasons"]:
                assert {"rule", "effect", "message"} <= set(reason), reason
            if verdict == "deny":
                assert any("rm -rf" in str(x["rule"]) for x in d["reasons"]), d["reasons"]
                assert any(x["effect"] == "deny" for x in d["reasons"]), d["reasons"]
            if verdict != "allow":
                assert d["reasons"], d
            assert verdict in text_of(r)


async def test_check_argv(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "check", {"argv": ["ls", "-l"]})
            assert not r.is_error, describe(r)
            d = structured(r)
            assert d["verdict"] == "allow", d
            assert d["classification"]["argv"] == ["ls", "-l"], d["classification"]
            r = await call_or_fail(s, "check", {"argv": ["rm", "-rf", "build"]})
            assert structured(r)["verdict"] == "deny", describe(r)


# --- run ------------------------------------------------------------------------


async def test_run_result_shape(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "run", {"command": "echo hi"})
            assert not r.is_error, describe(r)
            o = structured(r)
            for key in (
                "exit_code",
                "signal",
                "status",
                "timed_out",
                "stdout",
                "stderr",
                "stdout_truncated",
                "stderr_truncated",
                "duration_ms",
                "verdict",
            ):
                assert key in o, f"run's structured content has no {key!r}: {o}"
            assert o["exit_code"] == 0
            assert o["signal"] is None
            assert o["status"] == "ok"
            assert o["timed_out"] is False
            assert o["stdout"] == "hi\n"
            assert o["stderr"] == ""
            assert o["stdout_truncated"] is False and o["stderr_truncated"] is False
            assert isinstance(o["duration_ms"], int) and o["duration_ms"] >= 0
            assert o["verdict"] in ("allow", "warn")


async def test_run_echo(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "run", {"command": "echo hi"})
            assert not r.is_error, describe(r)
            o = structured(r)
            assert (o["exit_code"], o["status"], o["stdout"]) == (0, "ok", "hi\n"), o
            text = text_of(r)
            assert re.search(r"\b0\b", text) and "hi" in text, text


async def test_run_nonzero_exit_is_not_an_error(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "run", {"command": "echo oops >&2; exit 3"})
            assert not r.is_error, describe(r)
            o = structured(r)
            assert o["exit_code"] == 3, o
            assert o["status"] == "failed", o
            assert "oops" in o["stderr"], o
            text = text_of(r)
            assert re.search(r"\b3\b", text) and "oops" in text, text


async def test_run_argv(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            # No shell: the space and the `;` are one argument, nothing is expanded.
            r = await call_or_fail(s, "run", {"argv": ["printf", "%s|%s", "a b; echo $HOME", "c"]})
            assert not r.is_error, describe(r)
            o = structured(r)
            assert o["exit_code"] == 0, o
            assert o["stdout"] == "a b; echo $HOME|c", o


async def test_run_stdin(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "run", {"command": "cat", "stdin": "hello"})
            assert not r.is_error, describe(r)
            assert structured(r)["stdout"] == "hello", describe(r)


async def test_run_env(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "run", {"command": "printenv FOO", "env": {"FOO": "bar"}})
            assert not r.is_error, describe(r)
            o = structured(r)
            assert (o["exit_code"], o["stdout"]) == (0, "bar\n"), o


async def test_run_cwd(work: Path, server_stderr: Path) -> None:
    sub = work / "sub dir"
    sub.mkdir()
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "run", {"command": "pwd"})
            assert structured(r)["stdout"].strip() == str(work), describe(r)
            r = await call_or_fail(s, "run", {"command": "pwd", "cwd": str(sub)})
            assert not r.is_error, describe(r)
            assert structured(r)["stdout"].strip() == str(sub), describe(r)


async def test_run_timeout(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            started = time.monotonic()
            r = await call_or_fail(s, "run", {"command": "sleep 5", "timeout_secs": 0.5})
            elapsed = time.monotonic() - started
            assert elapsed < 5, f"took {elapsed:.1f} s"
            assert not r.is_error, describe(r)
            o = structured(r)
            assert o["status"] == "timeout", o
            assert o["timed_out"] is True, o


async def test_run_denied_by_policy(work: Path, server_stderr: Path) -> None:
    victim = work / "victim"
    victim.mkdir()
    (victim / "file").write_text("keep me")
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "run", {"command": "rm -rf victim"})
            assert r.is_error, describe(r)
            e = structured(r)
            assert e.get("code") == "POLICY_DENIED", e
            assert e.get("verdict") == "deny", e
            assert isinstance(e.get("reasons"), list) and e["reasons"], e
            assert "rm -rf" in text_of(r), text_of(r)
            await assert_alive(s)
    assert (victim / "file").read_text() == "keep me"


# --- approval (verdict ask) -------------------------------------------------------


class Elicitor:
    """An elicitation callback that answers from a script and records what it was asked."""

    def __init__(self, *answers: types.ElicitResult) -> None:
        self.answers = list(answers)
        self.asked: list[types.ElicitRequestParams] = []

    async def __call__(self, ctx: ClientRequestContext, params: types.ElicitRequestParams):
        self.asked.append(params)
        if not isinstance(params, types.ElicitRequestFormParams) or not self.answers:
            return types.ElicitResult(action="decline")
        return self.answers.pop(0)


def accept(decision: str) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"decision": decision})


def ask_runs(work: Path) -> int:
    """How many times ASK_COMMAND really ran."""
    log = work / ASK_LOG
    return len(log.read_text().splitlines()) if log.exists() else 0


async def assert_asks(s: ClientSession) -> None:
    r = await call_or_fail(s, "check", {"command": ASK_COMMAND})
    assert structured(r)["verdict"] == "ask", f"the test's premise: {describe(r)}"


async def test_ask_without_elicitation_is_refused(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            await assert_asks(s)
            r = await call_or_fail(s, "run", {"command": ASK_COMMAND})
            assert r.is_error, describe(r)
            e = structured(r)
            assert e.get("code") == "APPROVAL_REQUIRED", e
            assert e.get("approval") == "not_asked", e
            assert e.get("verdict") == "ask", e
            assert isinstance(e.get("reasons"), list) and e["reasons"], e
            assert text_of(r).strip()
            await assert_alive(s)
    assert ask_runs(work) == 0


async def test_ask_once(work: Path, server_stderr: Path) -> None:
    elicitor = Elicitor(accept("once"), accept("once"))
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr, elicitation_callback=elicitor) as s:
            await assert_asks(s)
            r = await call_or_fail(s, "run", {"command": ASK_COMMAND})
            assert not r.is_error, describe(r)
            assert structured(r)["exit_code"] == 0, describe(r)
            assert len(elicitor.asked) == 1
            assert ask_runs(work) == 1

            # The form: it names the command and offers once / session / deny.
            params = elicitor.asked[0]
            assert isinstance(params, types.ElicitRequestFormParams), params
            assert ASK_COMMAND in params.message, params.message
            schema = params.requested_schema
            assert schema.get("type") == "object", schema
            assert "decision" in schema.get("required", []), schema
            decision = schema["properties"]["decision"]
            assert decision.get("enum") == DECISIONS, decision

            # "once" is for this time only: the next run asks again.
            r = await call_or_fail(s, "run", {"command": ASK_COMMAND})
            assert not r.is_error, describe(r)
            assert len(elicitor.asked) == 2
            assert ask_runs(work) == 2


async def test_ask_session(work: Path, server_stderr: Path) -> None:
    other = "echo https://approval.example/y >> approved.log"
    elicitor = Elicitor(accept("session"), accept("deny"))
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr, elicitation_callback=elicitor) as s:
            await assert_asks(s)
            for n in (1, 2, 3):
                r = await call_or_fail(s, "run", {"command": ASK_COMMAND})
                assert not r.is_error, describe(r)
                assert ask_runs(work) == n
            assert len(elicitor.asked) == 1, "a command approved for the session was asked again"

            # The approval covers that command only: another one is put to the user.
            r = await call_or_fail(s, "run", {"command": other})
            assert len(elicitor.asked) == 2, "a different command ran on another one's approval"
            assert other in elicitor.asked[1].message
            assert r.is_error, describe(r)
            # One code for every approval that did not happen (the code the
            # CLI, Python and Node use); `approval` says how.
            assert structured(r).get("code") == "APPROVAL_REQUIRED", describe(r)
            assert structured(r).get("approval") == "refused", describe(r)
            assert ask_runs(work) == 3


@pytest.mark.parametrize(
    "answer",
    [
        accept("deny"),
        types.ElicitResult(action="decline"),
        types.ElicitResult(action="cancel"),
    ],
    ids=["accept-deny", "decline", "cancel"],
)
async def test_ask_refused(work: Path, server_stderr: Path, answer: types.ElicitResult) -> None:
    elicitor = Elicitor(answer)
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr, elicitation_callback=elicitor) as s:
            r = await call_or_fail(s, "run", {"command": ASK_COMMAND})
            assert len(elicitor.asked) == 1
            assert r.is_error, describe(r)
            e = structured(r)
            assert e.get("code") == "APPROVAL_REQUIRED", e
            assert e.get("approval") == "refused", e
            assert e.get("verdict") in ("ask", "deny"), e
            assert isinstance(e.get("reasons"), list) and e["reasons"], e
            await assert_alive(s)
    assert ask_runs(work) == 0


# --- progress ----------------------------------------------------------------------


class Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.events: list[tuple[float, float, str | None]] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.events.append((time.monotonic() - self.started, progress, message))


async def test_progress_streams_output(work: Path, server_stderr: Path) -> None:
    progress = Progress()
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(
                s,
                "run",
                {"command": "for i in 1 2 3; do echo line$i; sleep 0.2; done"},
                progress_callback=progress,
            )
    assert not r.is_error, describe(r)
    assert structured(r)["stdout"] == "line1\nline2\nline3\n", describe(r)
    streamed = "".join(m for _, _, m in progress.events if m)
    for line in ("line1", "line2", "line3"):
        assert line in streamed, progress.events


async def test_progress_heartbeat(work: Path, server_stderr: Path) -> None:
    progress = Progress()
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            progress.started = time.monotonic()
            r = await call_or_fail(s, "run", {"command": "sleep 4.5"}, progress_callback=progress)
            ended = time.monotonic() - progress.started
    assert not r.is_error, describe(r)
    times = [t for t, _, _ in progress.events]
    assert len(times) >= 2, f"heartbeats during a silent 4.5 s run: {progress.events}"
    gaps = [b - a for a, b in zip([0.0, *times], [*times, ended])]
    assert max(gaps) <= 3.0, f"gaps {gaps} in {progress.events}"
    for _, _, message in progress.events:
        assert message is None or isinstance(message, str)


async def test_progress_values_increase(work: Path, server_stderr: Path) -> None:
    """MCP: 'The progress value MUST increase with each notification' (heartbeats too)."""
    progress = Progress()
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(
                s, "run", {"command": "echo a; sleep 2.5; echo b"}, progress_callback=progress
            )
    assert not r.is_error, describe(r)
    values = [p for _, p, _ in progress.events]
    assert len(values) >= 3, progress.events  # a, a heartbeat, b
    assert all(a < b for a, b in zip(values, values[1:])), f"progress values {values}"


# --- cancellation and disconnects --------------------------------------------------


async def test_cancel_kills_the_command(work: Path, server_stderr: Path) -> None:
    seconds = unique_seconds()
    try:
        with anyio.fail_after(60):
            async with mcp_session(work, server_stderr) as s:
                call = anyio.CancelScope()
                outcome: list[Any] = []

                async def run() -> None:
                    with call:
                        outcome.append(await s.call_tool("run", {"command": f"sleep {seconds}"}))

                async with anyio.create_task_group() as tg:
                    tg.start_soon(run)
                    started = await wait_until(lambda: sleep_pids(seconds), 10)
                    await anyio.sleep(1.0)
                    call.cancel()  # the SDK sends notifications/cancelled
                assert started, f"`sleep {seconds}` never appeared on the host; result {outcome}"
                assert not outcome, f"the call ended before it was cancelled: {outcome}"

                gone = await wait_until(lambda: not sleep_pids(seconds), 5)
                assert gone, f"`sleep {seconds}` still runs 5 s after the call was cancelled: {sleep_pids(seconds)}"

                # The session is still usable.
                r = await call_or_fail(s, "run", {"command": "echo after"})
                assert not r.is_error and structured(r)["stdout"] == "after\n", describe(r)
    finally:
        kill_leftovers(seconds)


class RawServer:
    """The server driven with raw JSON-RPC lines (no SDK)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, work: Path, stderr_path: Path) -> RawServer:
        require_server()
        with open(stderr_path, "ab") as errlog:
            proc = await asyncio.create_subprocess_exec(
                *server_argv(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errlog,
                cwd=str(work),
                env=server_env(),
                limit=1 << 24,
            )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            try:
                msg = json.loads(line)
            except ValueError:
                msg = {"unparsable": line.decode(errors="replace")}
            await self.inbox.put(msg)

    async def send_line(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.rstrip(b"\n") + b"\n")
        await self.proc.stdin.drain()

    async def send(self, msg: dict[str, Any]) -> None:
        await self.send_line(json.dumps(msg).encode())

    async def answer(self, request_id: int, timeout: float) -> dict[str, Any] | None:
        """The response to `request_id` (or an error without an id, as for a
        line that could not be parsed); None when none came within `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await asyncio.wait_for(self.inbox.get(), left)
            except asyncio.TimeoutError:
                return None
            if msg.get("id") == request_id:
                return msg
            if "error" in msg and msg.get("id") is None:
                return msg
        return None

    async def initialize(self) -> None:
        await self.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "sandboxcore-raw-test", "version": "0"},
                },
            }
        )
        init = await self.answer(1, 15)
        assert init is not None and "result" in init, f"initialize: {init}"
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def call(self, request_id: int, name: str, arguments: dict[str, Any]) -> None:
        await self.send(
            {
                "jsonrpc": "2.0",
                "id": request_id,
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments},
            }
        )

    async def assert_alive(self, request_id: int) -> None:
        assert self.proc.returncode is None, f"the server exited with {self.proc.returncode}"
        await self.call(request_id, "classify", {"command": "ls"})
        ok = await self.answer(request_id, 10)
        assert ok is not None and "result" in ok, f"a following request: {ok}"
        assert not ok["result"].get("isError"), ok

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self.reader.cancel()


async def test_disconnect_mid_run_stops_the_command_and_the_server(
    work: Path, server_stderr: Path
) -> None:
    seconds = unique_seconds()
    raw = await RawServer.start(work, server_stderr)
    try:
        with anyio.fail_after(60):
            await raw.initialize()
            await raw.call(2, "run", {"command": f"sleep {seconds}"})
            assert await wait_until(lambda: sleep_pids(seconds), 10), f"`sleep {seconds}` never started"
            await anyio.sleep(1.0)

            assert raw.proc.stdin is not None
            raw.proc.stdin.close()  # the client goes away; nothing is killed
            closed = time.monotonic()
            try:
                await asyncio.wait_for(raw.proc.wait(), 10)
            except asyncio.TimeoutError:
                pytest.fail("the server still runs 10 s after its stdin closed")
            exited_after = time.monotonic() - closed

            gone = await wait_until(lambda: not sleep_pids(seconds), 1.0)
            assert gone, (
                f"`sleep {seconds}` outlived the server (exited {exited_after:.1f} s after "
                f"stdin closed, code {raw.proc.returncode}): {sleep_pids(seconds)}"
            )
    finally:
        await raw.close()
        kill_leftovers(seconds)


def is_refusal(answer: dict[str, Any]) -> bool:
    """A JSON-RPC error, or a tool result with isError."""
    return "error" in answer or bool(answer.get("result", {}).get("isError"))


async def test_lone_surrogate_is_answered(work: Path, server_stderr: Path) -> None:
    raw = await RawServer.start(work, server_stderr)
    try:
        with anyio.fail_after(60):
            await raw.initialize()
            line = json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "classify", "arguments": {"command": "echo \udc80"}},
                }
            )
            assert "\\udc80" in line  # escaped in the JSON text
            await raw.send_line(line.encode())
            answer = await raw.answer(2, 10)
            await raw.assert_alive(3)
            assert answer is not None, "no answer to a request with a lone surrogate"
            assert is_refusal(answer), f"a lone surrogate was accepted (decoded lossily?): {answer}"
    finally:
        await raw.close()


async def test_invalid_utf8_is_answered(work: Path, server_stderr: Path) -> None:
    raw = await RawServer.start(work, server_stderr)
    try:
        with anyio.fail_after(60):
            await raw.initialize()
            line = (
                b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":'
                b'{"name":"classify","arguments":{"command":"echo \xff\xfe\xc3"}}}'
            )
            await raw.send_line(line)
            answer = await raw.answer(2, 10)
            await raw.assert_alive(3)
            assert answer is not None, "no answer to a line of invalid UTF-8"
            assert is_refusal(answer), f"invalid UTF-8 was accepted (decoded lossily?): {answer}"
    finally:
        await raw.close()


# --- resources ----------------------------------------------------------------------


async def test_resources_are_listed(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            listed = {str(r.uri): r for r in (await s.list_resources()).resources}
            assert listed["sandboxcore://status"].mime_type == "application/json", listed
            assert listed["sandboxcore://metrics"].mime_type == "text/plain", listed


async def test_status_resource(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            read = await s.read_resource("sandboxcore://status")
            (content,) = read.contents
            assert content.mime_type == "application/json", content
            status = json.loads(content.text)
            assert status["backend"] == "process", status
            assert isinstance(status["policy"], dict), status
            assert status["policy"].get("enforcement") == "enforce", status["policy"]
            caps = status["capabilities"]
            assert isinstance(caps, dict) and "network_isolation" in caps, caps
            assert all(isinstance(v, bool) for v in caps.values()), caps


PROM_SAMPLE = re.compile(
    r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?\s+[-+]?([0-9.eE+-]+|NaN|[+-]?Inf)(\s+-?\d+)?$"
)


async def test_metrics_resource(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            await call_or_fail(s, "check", {"command": "ls"})
            await call_or_fail(s, "run", {"command": "echo hi"})
            read = await s.read_resource("sandboxcore://metrics")
            (content,) = read.contents
            assert content.mime_type == "text/plain", content
            lines = [line for line in content.text.splitlines() if line.strip()]
            assert any(line.startswith("# TYPE ") for line in lines), content.text
            samples = [line for line in lines if not line.startswith("#")]
            assert samples, content.text
            for line in samples:
                assert PROM_SAMPLE.match(line), f"not a Prometheus sample: {line!r}"


async def test_unknown_resource_is_a_protocol_error(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            with pytest.raises(MCPError):
                await s.read_resource("sandboxcore://nope")
            await assert_alive(s)


# --- bad input ----------------------------------------------------------------------


async def test_unknown_tool(work: Path, server_stderr: Path) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            try:
                r = await s.call_tool("no_such_tool", {"command": "ls"})
            except MCPError:
                pass
            else:
                assert r.is_error, describe(r)
            await assert_alive(s)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("classify", {"command": 5}),
        ("classify", {}),
        ("check", {"argv": "ls -l"}),
        ("run", {"command": ["echo", "hi"]}),
        ("run", {"command": "echo hi", "timeout_secs": "soon"}),
        ("run", {"command": "echo hi", "timeout_secs": -1}),
        ("run", {"command": "echo hi", "env": {"FOO": 1}}),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else v,
)
async def test_wrong_arguments_are_a_tool_error(
    work: Path, server_stderr: Path, tool: str, arguments: dict[str, Any]
) -> None:
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, tool, arguments)
            assert r.is_error, describe(r)
            text = text_of(r)
            assert re.search(r"command|argv|timeout_secs|env|invalid|expected|missing", text, re.I), text
            await assert_alive(s)


async def test_huge_command_is_refused_quickly(work: Path, server_stderr: Path) -> None:
    command = "echo " + "a" * (10 * 1024 * 1024)
    with anyio.fail_after(60):
        async with mcp_session(work, server_stderr) as s:
            started = time.monotonic()
            r = await call_or_fail(s, "run", {"command": command})
            elapsed = time.monotonic() - started
            assert elapsed < 10, f"took {elapsed:.1f} s"
            assert r.is_error, describe(r)[:500]
            text = text_of(r)
            assert "long" in text.lower(), text[:500]
            assert len(text) < 100_000, "the refusal echoes the whole command"
            await assert_alive(s)


async def test_audit_log_and_metrics(work: Path, server_stderr: Path, tmp_path: Path) -> None:
    """--audit-log gets every decision and execution, labelled as coming from MCP;
    the metrics resource counts them."""
    log = tmp_path / "audit.jsonl"
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr, extra_args=["--audit-log", str(log)]) as s:
            r = await call_or_fail(s, "run", {"argv": ["echo", "audited"]})
            assert not r.is_error, describe(r)
            r = await call_or_fail(s, "run", {"command": "rm -rf /tmp/nothing-here"})
            assert r.is_error, describe(r)
            metrics = await s.read_resource("sandboxcore://metrics")
            text = metrics.contents[0].text
    records = [json.loads(line) for line in log.read_text().splitlines()]
    executions = [r for r in records if r.get("event") == "execution"]
    assert len(executions) == 1, records
    assert executions[0]["labels"].get("front_end") == "mcp", executions[0]
    assert executions[0]["exit_code"] == 0, executions[0]
    denied = [r for r in records if r.get("verdict") == "deny"]
    assert denied and "rm -rf" in denied[0]["command"], records
    assert re.search(r'decisions_total\{verdict="deny"\} 1', text), text


async def test_long_output_is_bounded_and_says_so(work: Path, server_stderr: Path) -> None:
    """Output past --output-limit keeps its head and tail; the result and its
    text say it was truncated; progress carries the output's first bytes, up
    to the same limit."""
    seen: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if message and not message.startswith("running for"):
            seen.append(message)

    with anyio.fail_after(60):
        async with mcp_session(work, server_stderr, extra_args=["--output-limit", "64K"]) as s:
            r = await s.call_tool(
                "run",
                {"command": "seq 1 100000"},  # 588,895 bytes
                progress_callback=on_progress,
            )
    assert not r.is_error, describe(r)
    o = structured(r)
    assert o["exit_code"] == 0, o
    assert o["stdout_truncated"] is True, o
    assert len(o["stdout"].encode()) <= 80 * 1024, len(o["stdout"])
    assert o["stdout"].startswith("1\n2\n3\n"), o["stdout"][:20]
    assert o["stdout"].endswith("99999\n100000\n"), o["stdout"][-20:]
    assert "stdout truncated" in text_of(r), text_of(r)[-300:]
    streamed = "".join(seen)
    full = "".join(f"{i}\n" for i in range(1, 100001))
    assert full.startswith(streamed), streamed[-100:]
    assert 60 * 1024 < len(streamed) <= 64 * 1024, len(streamed)


async def test_cwd_stays_inside_the_servers_directory(work: Path, server_stderr: Path) -> None:
    """The working directory is writable for the command: a client may pick one
    inside the server's (relative or absolute), never one outside it."""
    (work / "sub").mkdir()
    (work / "link").symlink_to("/etc")
    with anyio.fail_after(30):
        async with mcp_session(work, server_stderr) as s:
            r = await call_or_fail(s, "run", {"command": "pwd", "cwd": "sub"})
            assert structured(r)["stdout"].strip() == str(work / "sub"), describe(r)
            for cwd in ["/etc", "..", "sub/../..", "link", str(work / "link"), "/", "missing"]:
                r = await call_or_fail(s, "run", {"command": "touch made-here", "cwd": cwd})
                assert r.is_error, (cwd, describe(r))
                assert structured(r).get("code") == "INVALID_ARGUMENT", (cwd, describe(r))
            await assert_alive(s)
    assert not Path("/etc/made-here").exists()
