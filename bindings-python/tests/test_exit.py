"""A script that awaits the asyncio API and then exits must exit cleanly.

Results of `run_async` and of the event stream used to be delivered to the
event loop by a tokio worker thread taking the GIL; when the loop had
already finished and the interpreter was shutting down, that thread could
crash the process (SIGSEGV, or SIGABRT with "Fatal Python error:
PyGILState_Release ..."), about one run in 5-10. Each script here runs in a
fresh interpreter many times; every run must exit 0 without a fatal error.
"""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

RUNS = 30

PRELUDE = """
import asyncio, sandboxcore
sb = sandboxcore.Sandbox(sandboxcore.Policy.for_mode("selfhosted"), isolation="off")
"""

SCRIPTS = {
    # The README snippet.
    "run_async": """
asyncio.run(sb.run_async(["true"]))
""",
    "stream": """
async def main():
    async for kind, data in sb.stream(["echo", "hi"]):
        pass
asyncio.run(main())
""",
    "gather": """
async def main():
    rs = await asyncio.gather(*(sb.run_async(["echo", str(i)]) for i in range(8)))
    assert [r.stdout for r in rs] == [f"{i}\\n" for i in range(8)]
asyncio.run(main())
""",
    # A stream stopped early: the run is cancelled (and audited as such).
    "stream_break": """
async def main():
    async for kind, data in sb.stream("echo a; sleep 30"):
        if kind == "stdout":
            break
asyncio.run(main())
""",
    # A cancelled run: the command is killed (and the run audited as
    # cancelled) while the script ends.
    "cancel": """
async def main():
    t = asyncio.ensure_future(sb.run_async(["sleep", "30"]))
    await asyncio.sleep(0.05)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        pass
asyncio.run(main())
""",
    # An `async def` approver that is asked (it runs on the caller's loop).
    "async_approver": """
async def yes(decision):
    return True
sb = sandboxcore.Sandbox(
    sandboxcore.Policy.from_dict({"enforcement": "enforce", "require_approval": ["*://external-domain.com/*"]}),
    isolation="off",
    approver=yes,
)
assert asyncio.run(sb.run_async("echo https://external-domain.com/x")).ok
""",
}


def _run_once(script):
    try:
        p = subprocess.run(
            [sys.executable, "-c", PRELUDE + script],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        return "timeout", ""
    return p.returncode, p.stderr


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_script_using_asyncio_exits_cleanly(name):
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(_run_once, [SCRIPTS[name]] * RUNS))
    bad = [(code, err) for code, err in outcomes if code != 0 or "Fatal Python error" in err]
    assert not bad, f"{len(bad)} of {RUNS} runs failed; first: {bad[0][0]!r}\n{bad[0][1][-2000:]}"
