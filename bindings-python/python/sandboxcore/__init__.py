"""sandboxcore: decide whether a shell command an AI agent wants to run is
safe, then run it in a sandbox.

>>> import sandboxcore
>>> sandboxcore.classify('git commit -m "fix: a; b"').argv
['git', 'commit', '-m', 'fix: a; b']
>>> with sandboxcore.Sandbox(sandboxcore.Policy.for_mode("selfhosted")) as sb:
...     sb.run(["echo", "hi"]).stdout
'hi\\n'

Everything here is implemented in Rust (the ``sandboxcore`` crate); this
package only re-exports it.
"""

import logging as _logging

from ._native import (
    ApprovalRequired,
    BackendUnavailable,
    Classification,
    Decision,
    EventStream,
    ExecutionError,
    Policy,
    PolicyDenied,
    PolicyError,
    RunResult,
    Sandbox,
    SandboxError,
    __version__,
    classify,
)

# Audit events go to the "sandboxcore.audit" logger; like any library,
# print nothing unless the application configures logging.
_logging.getLogger("sandboxcore").addHandler(_logging.NullHandler())

__all__ = [
    "ApprovalRequired",
    "BackendUnavailable",
    "Classification",
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
