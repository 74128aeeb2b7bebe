"""sandboxcore: decide whether a shell command an AI agent wants to run is
safe, then run it in a sandbox.

>>> import sandboxcore
>>> sandboxcore.classify('git commit -m "fix: a; b"').argv
['git', 'commit', '-m', 'fix: a; b']
>>> with sandboxcore.Sandbox(sandboxcore.Policy.for_mode("selfhosted")) as sb:
...     sb.run(["echo", "hi"]).stdout
'hi\\n'

Everything here is implemented in Rust (the ``sandboxcore`` crate); this
package re-exports it and adds the coroutines that wait for it on asyncio.
"""

import asyncio as _asyncio
import atexit as _atexit
import enum as _enum
import logging as _logging

from . import _native
from ._native import (
    ApprovalRequired,
    BackendUnavailable,
    Classification,
    ConnectionRequest,
    Decision,
    ExecutionError,
    Policy,
    PolicyDenied,
    PolicyError,
    RunResult,
    SandboxError,
    __version__,
    classify,
)


async def _result(pending):
    """Waits on the event loop for a native ``_Pending`` and gives its
    result. The tokio task that does the work only writes to a descriptor
    when it is done; the loop watches it and ``result()`` makes the Python
    objects here, on the loop's thread: no other thread touches Python to
    deliver a result (which could crash the interpreter at exit). Leaving
    early (cancelled) stops the task and, for a run, kills the command."""
    if not pending.done():
        loop = _asyncio.get_running_loop()
        fd = pending.fileno()
        woken = loop.create_future()
        loop.add_reader(fd, _wake, woken)
        try:
            await woken
        except BaseException:
            pending.cancel()
            raise
        finally:
            loop.remove_reader(fd)
    return pending.result()


def _wake(woken):
    if not woken.done():
        woken.set_result(None)


class Approval(str, _enum.Enum):
    """An approver's answer to a command the policy asks about (a ``str``:
    returning ``Approval.SESSION`` or ``"session"`` is the same). ``ONCE``
    runs it (as ``True``); ``SESSION`` runs it and keeps the decision's
    ``proposed_rule`` in the Sandbox, so the command is not asked about
    again; ``PERSIST`` also writes the rule into the Sandbox's
    ``policy_file``; ``DENY`` refuses it (as ``False``)."""

    ONCE = "once"
    SESSION = "session"
    PERSIST = "persist"
    DENY = "deny"


class EventStream:
    """Events of ``Sandbox.stream``, as an asynchronous iterator:
    ``("started", pid)``, ``("stdout", bytes)``, ``("stderr", bytes)``, then
    ``("exit", RunResult)``. Stopping the iteration early (dropping the
    stream) stops the command."""

    __slots__ = ("_native",)
    __module__ = "sandboxcore"

    def __init__(self, native):
        self._native = native

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await _result(self._native._next())


class Sandbox(_native.Sandbox):
    __doc__ = _native.Sandbox.__doc__
    __module__ = "sandboxcore"

    async def run_async(self, command, **options):
        """``await sandbox.run_async(...)``: like ``run``, for asyncio.
        Cancelling the task stops the command. A coroutine like any
        ``async def``: ``asyncio.run(sb.run_async(...))`` and
        ``asyncio.gather(...)`` work, also when it is created before the
        event loop runs."""
        # Started here, when awaited: on the running loop's thread.
        return await _result(_native.Sandbox._start_run(self, command, **options))

    def stream(self, command, **options):
        """``async for kind, data in sandbox.stream(...)``: output as it
        comes (the same options as ``run``). Stopping the iteration early
        stops the command."""
        return EventStream(_native.Sandbox.stream(self, command, **options))

# An approver call that a run stopped waiting for (its timeout) goes on in
# its thread: let it finish (5 s at most) before the interpreter shuts down.
_atexit.register(_native._wait_for_approvers, 5.0)

# Audit events go to the "sandboxcore.audit" logger; like any library,
# print nothing unless the application configures logging.
_logging.getLogger("sandboxcore").addHandler(_logging.NullHandler())

__all__ = [
    "Approval",
    "ApprovalRequired",
    "BackendUnavailable",
    "Classification",
    "ConnectionRequest",
    "Decision",
    "EventStream",
    "ExecutionError",
    "Policy",
    "PolicyDenied",
    "PolicyError",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "__version__",
    "classify",
]
