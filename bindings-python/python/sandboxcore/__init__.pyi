"""Type stubs for sandboxcore (implemented in Rust)."""

import enum
import os
from types import TracebackType
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypedDict,
    Union,
    final,
)

__version__: str

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

Risk = Literal["low", "medium", "high", "critical"]
Verdict = Literal["allow", "warn", "ask", "deny"]
Mode = Literal["saas_sandboxed", "saas_unsandboxed", "selfhosted", "development"]
# A command line (classified and planned as a shell would), or a list: an
# argv run exactly as given, with no shell, and judged as that argv.
Command = Union[str, List[str]]
StrPath = Union[str, "os.PathLike[str]"]

class NetworkRulesDict(TypedDict, total=False):
    allow: Sequence[str]
    deny: Sequence[str]

# The `network=` run option: False or "none" (no network, the default), True
# or "full" (the backend's network), a list of hosts (["pypi.org",
# "*.pythonhosted.org"]) or {"allow": [...], "deny": [...]}: only those
# hosts, through the egress proxy (HTTP_PROXY and HTTPS_PROXY are set).
NetworkAccess = Union[bool, Literal["full", "none"], Sequence[str], NetworkRulesDict]

class ProgramDict(TypedDict):
    name: Optional[str]
    argv: Optional[List[str]]
    words: List[str]
    via: List[str]

class _ConstructBase(TypedDict):
    kind: str

class ConstructDict(_ConstructBase, total=False):
    detail: str

class ReasonDict(TypedDict):
    code: str
    risk: Risk
    message: str

class PathEffectDict(TypedDict):
    path: str
    effect: Literal["write", "create", "delete", "mode"]
    certain: bool

class ApprovedCommandDict(TypedDict, total=False):
    """An entry of a policy's ``approved_commands`` (``rule``,
    ``extra_operands``, ``max_risk`` and ``reasons`` are always there)."""

    rule: str
    extra_operands: int
    max_risk: Risk
    reasons: List[str]
    added: str
    command: str

class ProposedRuleDict(TypedDict):
    """The rule an approval would add: one entry per program."""

    rules: List[ApprovedCommandDict]

class Approval(str, enum.Enum):
    """An approver's answer to a command (a ``str``)."""

    ONCE = "once"
    SESSION = "session"
    PERSIST = "persist"
    DENY = "deny"

    def __new__(cls, value: str) -> "Approval": ...

ApprovalAnswer = Union[
    bool, Approval, Literal["once", "session", "persist", "deny"], None
]

class DecisionReasonDict(TypedDict):
    rule: str
    effect: Literal["deny", "ask", "warn", "note"]
    message: str

class EnforcedDict(TypedDict):
    """What was enforced for one run (``RunResult.enforced``): a bool for
    each capability, never true where ``Sandbox.capabilities()`` is false."""

    network_isolation: bool
    memory_limit: bool
    process_limit: bool
    cpu_limit: bool
    filesystem_isolation: bool
    kills_descendants: bool
    user_namespace: bool
    pid_namespace: bool
    read_only_root: bool
    deny_read: bool
    landlock: bool
    seccomp: bool
    no_new_privs: bool
    closes_descriptors: bool

class CapabilitiesDict(EnforcedDict):
    """What a backend enforces (``Sandbox.capabilities()``): ``backend``
    and the same bools as ``EnforcedDict``."""

    backend: str

class SandboxError(Exception):
    """Base class of every sandboxcore error."""

class PolicyDenied(SandboxError):
    """The policy denied the command."""

    decision: Decision

class ApprovalRequired(SandboxError):
    """The command needs approval (or the approver refused)."""

    decision: Decision

class PolicyError(SandboxError):
    """A policy could not be loaded (the message gives file:line:column)."""

class BackendUnavailable(SandboxError):
    """The requested backend cannot be used here."""

class ExecutionError(SandboxError):
    """The backend failed, or ``check_returncode()`` found a failure."""

    result: RunResult

def classify(command: str) -> Classification:
    """Classify a command line as bash and dash would parse it."""

@final
class Classification:
    """What the classifier found out about a command line."""

    @property
    def needs_shell(self) -> bool:
        """False promises that bash and dash would run exactly ``argv``."""
    @property
    def argv(self) -> Optional[List[str]]:
        """The exact argv when no shell is needed."""
    @property
    def programs(self) -> List[ProgramDict]:
        """Every program the line runs, through wrappers and nesting."""
    @property
    def constructs(self) -> List[ConstructDict]:
        """The shell features used."""
    @property
    def read_only(self) -> bool:
        """True only when nothing is modified."""
    @property
    def risk(self) -> Risk:
        """The highest risk among ``reasons``."""
    @property
    def reasons(self) -> List[ReasonDict]:
        """Why the risk is what it is."""
    @property
    def parse_error(self) -> Optional[str]:
        """Why bash would reject the line."""
    @property
    def effects(self) -> List[PathEffectDict]:
        """The paths the line would write, create, delete or change the mode of."""
    def to_dict(self) -> Dict[str, Any]:
        """Everything as plain Python objects."""

@final
class Decision:
    """A policy's decision on one command."""

    @property
    def kind(self) -> Literal["command"]:
        """Always "command" (an approver also gets ``ConnectionRequest``)."""
    @property
    def verdict(self) -> Verdict:
        """allow, warn, ask or deny."""
    @property
    def reasons(self) -> List[DecisionReasonDict]:
        """Every reason, strongest first."""
    @property
    def matched_rule(self) -> Optional[str]:
        """The rule behind the verdict."""
    @property
    def classification(self) -> Classification:
        """The classification the decision was made on."""
    @property
    def plan(self) -> Optional[Dict[str, Any]]:
        """``{"direct": argv}``, ``{"shell": script}`` or None (must not run)."""
    @property
    def proposed_rule(self) -> Optional[ProposedRuleDict]:
        """For "ask" (and "deny" only because a program is not listed):
        the rule an approval with scope "session" or "persist" adds."""
    @property
    def allowed(self) -> bool:
        """Whether it may run without approval (allow or warn)."""
    def to_dict(self) -> Dict[str, Any]:
        """Everything as plain Python objects."""

@final
class ConnectionRequest:
    """A connection an allowlist run's egress proxy holds until the
    approver answers: a host a ``require_approval`` pattern names (asked
    once per host and run)."""

    @property
    def kind(self) -> Literal["connection"]:
        """Always "connection" (a ``Decision``'s is "command")."""
    @property
    def host(self) -> str:
        """The host, normalised (lower-case, IDN as punycode), or an address."""
    @property
    def port(self) -> int: ...
    @property
    def scheme(self) -> Optional[str]:
        """"http" for a proxied request; None for a tunnel (CONNECT, as for https)."""
    @property
    def rule(self) -> str:
        """The ``require_approval`` rule that names the host."""
    def to_dict(self) -> Dict[str, Any]:
        """Everything as plain Python objects (with ``kind``)."""

@final
class Policy:
    """A validated policy."""

    @staticmethod
    def from_file(path: StrPath, *, env: bool = True) -> Policy:
        """Load a YAML/JSON policy file, with environment overrides unless ``env=False``."""
    @staticmethod
    def from_layers(layers: Sequence[Tuple[str, StrPath]], *, env: bool = True) -> Policy:
        """Stack named policy files, most trusted first; the strictest verdict wins."""
    @staticmethod
    def from_yaml(text: str) -> Policy:
        """A policy from YAML text."""
    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Policy:
        """A policy from a dict with a file's keys."""
    @staticmethod
    def for_mode(name: Mode) -> Policy:
        """A deployment mode's defaults."""
    def check(self, command: str) -> Decision:
        """Decide on a command."""
    @property
    def settings(self) -> Dict[str, Any]:
        """The effective settings."""

@final
class RunResult:
    """The result of a run, shaped like ``subprocess.CompletedProcess``."""

    @property
    def exit_code(self) -> Optional[int]: ...
    @property
    def returncode(self) -> int:
        """The exit status, or -N when killed by signal N."""
    @property
    def signal(self) -> Optional[int]: ...
    @property
    def timed_out(self) -> bool: ...
    @property
    def oom_killed(self) -> bool: ...
    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...
    @property
    def stdout_bytes(self) -> bytes: ...
    @property
    def stderr_bytes(self) -> bytes: ...
    @property
    def stdout_truncated(self) -> bool: ...
    @property
    def stderr_truncated(self) -> bool: ...
    @property
    def duration(self) -> float:
        """Seconds."""
    @property
    def isolation_skipped(self) -> List[str]:
        """Isolation layers asked for but not applied (best-effort isolation only)."""
    @property
    def enforced(self) -> EnforcedDict:
        """What was really enforced for this run: ``Sandbox.capabilities()``
        less what the run did not get (``network_isolation`` false with
        ``network=True``, a limit the run did not set, a layer in
        ``isolation_skipped``); all false for a command that was not found."""
    @property
    def status(self) -> Literal["ok", "failed", "signal", "timeout", "oom"]: ...
    @property
    def ok(self) -> bool:
        """Exit status 0 and not killed."""
    def check_returncode(self) -> None:
        """Raise ExecutionError unless ``ok``."""

Event = Union[
    Tuple[Literal["started"], Optional[int]],
    Tuple[Literal["stdout"], bytes],
    Tuple[Literal["stderr"], bytes],
    Tuple[Literal["exit"], RunResult],
]

class EventStream:
    """Events of a streamed run (``Sandbox.stream``), as an asynchronous
    iterator. Stopping the iteration early stops the command."""

    def __init__(self, native: Any) -> None:
        """Made by ``Sandbox.stream``, not by hand."""
    def __aiter__(self) -> AsyncIterator[Event]: ...
    async def __anext__(self) -> Event: ...

class Sandbox:
    """Checks and runs commands under a policy on a backend.

    Process backend options (unknown names and bad values are ValueError):
    isolation ("required", the default: every layer or no sandbox;
    "best-effort"; "off"), writable (more writable directories), deny_read
    and protected (paths added to the defaults), tmp_size (bytes of the
    private /tmp), cwd_writable, run_as ("auto", "current" or (uid, gid)),
    cgroups and network_isolation ("auto", "required", "off"), kill_grace
    (seconds), inherit_env, allow_secrets, shell. Docker backend options: image
    (required), runtime ("runsc" for gVisor), network (a named network for
    commands allowed the network), workspace ("DIR[:ro]" or a path),
    user ("uid:gid"), pool_size (warm containers), pull, cpus, tmp_size,
    seccomp_profile, read_only_root, no_new_privileges, cap_add, agent (a
    path, or False), inherit_env, allow_secrets, labels, allow_root; the daemon is DOCKER_HOST's or the local socket.
    Kubernetes backend options: image (required), namespace, runtime_class,
    run_as_user, run_as_group, fs_group, cpu_limit, cpu_request,
    memory_request, ephemeral_storage_limit, tmp_size_limit (quantities
    such as "500m" or "1Gi"), ttl_seconds_after_finished, service_account,
    labels, egress_proxy (the cluster is found as kubectl would). Every
    backend's options are checked by the core before a daemon or cluster
    is contacted: unknown names and bad values are ValueError with
    ``code == "INVALID_ARGUMENT"``, naming the option.

    approver: called with the Decision of a command the policy asks about
    ("ask"); return True (or "once") to run it, "session" to run it and
    keep the decision's ``proposed_rule`` in this Sandbox (not asked
    again), "persist" to also write the rule into ``policy_file`` (without
    one, kept for the session; the audit record says so), False or "deny"
    to refuse (or an ``Approval``). A plain function or an async def. One
    that raises, or returns another string, denies the command
    (ApprovalRequired says why);
    the run's timeout bounds the wait for its answer. It is also called
    with a ConnectionRequest (``kind == "connection"``; a Decision's is
    "command") when an allowlist run connects to a host a
    ``require_approval`` pattern names: True lets the connection through,
    False or raising refuses it (the client gets 403).

    network (run option): False or "none" (the default), True or "full",
    a list of hosts, or {"allow": [...], "deny": [...]}; see NetworkAccess.
    A bad entry is ValueError naming it (``network.allow[1]``).
    """

    def __new__(
        cls,
        policy: Optional[Policy] = None,
        backend: Literal["process", "docker", "kubernetes"] = "process",
        *,
        audit_log: Optional[StrPath] = None,
        approver: Optional[
            Callable[
                [Union[Decision, ConnectionRequest]],
                Union[ApprovalAnswer, Awaitable[ApprovalAnswer]],
            ]
        ] = None,
        policy_file: Optional[StrPath] = None,
        **backend_options: Any,
    ) -> "Sandbox": ...
    @property
    def policy(self) -> Policy: ...
    def check(self, command: Command) -> Decision: ...
    def run(
        self,
        command: Command,
        *,
        timeout: Optional[float] = None,
        cwd: Optional[StrPath] = None,
        env: Optional[Mapping[str, str]] = None,
        stdin: Union[bytes, str, None] = None,
        memory: Optional[int] = None,
        processes: Optional[int] = None,
        output_limit: Optional[int] = None,
        network: Optional[NetworkAccess] = None,
        labels: Optional[Mapping[str, str]] = None,
        writable: Optional[Sequence[StrPath]] = None,
        deny_read: Optional[Sequence[StrPath]] = None,
    ) -> RunResult: ...
    async def run_async(
        self,
        command: Command,
        *,
        timeout: Optional[float] = None,
        cwd: Optional[StrPath] = None,
        env: Optional[Mapping[str, str]] = None,
        stdin: Union[bytes, str, None] = None,
        memory: Optional[int] = None,
        processes: Optional[int] = None,
        output_limit: Optional[int] = None,
        network: Optional[NetworkAccess] = None,
        labels: Optional[Mapping[str, str]] = None,
        writable: Optional[Sequence[StrPath]] = None,
        deny_read: Optional[Sequence[StrPath]] = None,
    ) -> RunResult: ...
    def stream(
        self,
        command: Command,
        *,
        timeout: Optional[float] = None,
        cwd: Optional[StrPath] = None,
        env: Optional[Mapping[str, str]] = None,
        stdin: Union[bytes, str, None] = None,
        memory: Optional[int] = None,
        processes: Optional[int] = None,
        output_limit: Optional[int] = None,
        network: Optional[NetworkAccess] = None,
        labels: Optional[Mapping[str, str]] = None,
        writable: Optional[Sequence[StrPath]] = None,
        deny_read: Optional[Sequence[StrPath]] = None,
    ) -> EventStream: ...
    def capabilities(self) -> CapabilitiesDict:
        """What the backend enforces (its name and a bool per isolation property)."""
    def metrics(self) -> str: ...
    def close(self) -> None: ...
    def __enter__(self) -> Sandbox: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...
