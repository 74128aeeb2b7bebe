/**
 * sandboxcore for Node: decide whether a shell command an AI agent wants to
 * run is safe, then run it in a sandbox. Implemented in Rust (napi-rs).
 */

export type Risk = 'low' | 'medium' | 'high' | 'critical'
export type Verdict = 'allow' | 'warn' | 'ask' | 'deny'
export type DeploymentMode = 'saas_sandboxed' | 'saas_unsandboxed' | 'selfhosted' | 'development'
/** A command line (classified and planned) or an argv (no shell). */
export type Command = string | string[]

/** A program the command line would run. */
export interface Program {
  /** Last path component of the command word; null when known only at run time. */
  name: string | null
  /** The exact argv when every word is static. */
  argv: string[] | null
  /** The words as written (quotes removed, expansions kept). */
  words: string[]
  /** What runs it, outermost first (`sudo`, `bash -c`, `$(...)`). */
  via: string[]
}

/** A shell feature used by the command line. */
export interface Construct {
  kind: string
  detail?: string
}

/** One reason behind the risk level. */
export interface Reason {
  code: string
  risk: Risk
  message: string
}

/**
 * A path the command line would act on: `write`, `create`, `delete` or
 * `mode` (permissions or owner). `certain` is false when the path holds an
 * expansion, the program picks paths under it at run time (`find -delete`,
 * `git clean`, `tar -x`, what `xargs` appends), or it may not run.
 */
export interface PathEffect {
  path: string
  effect: 'write' | 'create' | 'delete' | 'mode'
  certain: boolean
}

/** What the classifier found out about a command line. */
export interface Classification {
  /** False promises that bash and dash would run exactly `argv`. */
  needsShell: boolean
  argv: string[] | null
  programs: Program[]
  constructs: Construct[]
  readOnly: boolean
  risk: Risk
  reasons: Reason[]
  parseError: string | null
  /** The paths it would write, create, delete or change the mode of, as far as its syntax shows. */
  effects: PathEffect[]
}

/** One reason behind a decision. */
export interface DecisionReason {
  rule: string
  effect: 'deny' | 'ask' | 'warn' | 'note'
  message: string
}

/** A policy's decision on one command. */
export interface Decision {
  /** Always `command` (an approver also gets `ConnectionRequest`s). */
  kind: 'command'
  verdict: Verdict
  reasons: DecisionReason[]
  matchedRule: string | null
  classification: Classification
  /** How to run it: `{ direct: argv }`, `{ shell: script }`, or null (must not run). */
  plan: { direct: string[] } | { shell: string } | null
  /**
   * For `ask` (and `deny` only because a program is not listed): the rule
   * an approval with scope `session` or `persist` adds; null when none.
   */
  proposedRule: ProposedRule | null
}

/** An entry of a policy's `approved_commands` (added by an approval). */
export interface ApprovedCommand {
  /** The program and its leading words, exactly as they must appear. */
  rule: string
  /** How many plain operands (names, relative paths) may follow. */
  extraOperands: number
  /** The highest risk of a command line it covers. */
  maxRisk: Risk
  /** The classifier's reason codes a covered command line may have. */
  reasons: string[]
  /** When it was approved (YYYY-MM-DD). */
  added?: string
  /** The command that prompted it (redacted). */
  command?: string
}

/** The rule an approval would add: one entry per program the command runs. */
export interface ProposedRule {
  rules: ApprovedCommand[]
}

/**
 * An approver's answer to a command: `true` is `once`, `false` is `deny`;
 * `session` keeps the proposed rule in the Sandbox (not asked again),
 * `persist` also writes it into `policyFile`.
 */
export type Approval = 'once' | 'session' | 'persist' | 'deny'

/**
 * A connection an allowlist run's egress proxy holds until the approver
 * answers: a host a `require_approval` pattern names (asked once per host
 * and run).
 */
export interface ConnectionRequest {
  /** Always `connection` (a `Decision`'s is `command`). */
  kind: 'connection'
  /** The host, normalised (lower-case, IDN as punycode), or an address. */
  host: string
  port: number
  /** `http` for a proxied request; null for a tunnel (CONNECT, as for https). */
  scheme: string | null
  /** The `require_approval` rule that names the host (`require_approval[0]: *://example.com/*`). */
  rule: string
}

/**
 * Network access of a run: `false` or `'none'` (the default), `true` or
 * `'full'` (the backend's network), a list of host entries (`['pypi.org',
 * '*.pythonhosted.org']`) or `{ allow, deny }`: only those hosts, through
 * the egress proxy (`HTTP_PROXY` and `HTTPS_PROXY` are set). A bad entry
 * rejects with INVALID_ARGUMENT naming it (`network.allow[1]`). The
 * policy's `network:` section has the last word.
 */
export type NetworkAccess = boolean | 'full' | 'none' | string[] | { allow?: string[]; deny?: string[] }

/** Classifies a command line as bash and dash would parse it. */
export declare function classify(command: string): Classification

/** A validated policy. */
export declare class Policy {
  private constructor()
  /** A policy file (YAML, or JSON for .json); environment overrides unless `{ env: false }`. */
  static fromFile(path: string, options?: { env?: boolean }): Policy
  /**
   * A stacked policy from named files, most trusted first: each layer
   * decides on its own, the strictest verdict wins and reasons name their
   * layer (docs/policy.md, "Layers"); environment overrides apply to every
   * layer unless `{ env: false }`.
   */
  static fromLayers(layers: Array<{ name: string; path: string }>, options?: { env?: boolean }): Policy
  /** A policy from YAML text (no environment overrides). */
  static fromYaml(text: string): Policy
  /** An object with a policy file's keys (snake_case, as in the files). */
  static fromObject(object: Record<string, unknown>): Policy
  /** A deployment mode's defaults. */
  static forMode(mode: DeploymentMode): Policy
  /** Decides on a command. */
  check(command: string): Decision
  /** The effective settings (after environment overrides). */
  readonly settings: Record<string, unknown>
}

/** Options of the Docker backend (see docs/docker.md). */
export interface DockerOptions {
  /** The image (or `SandboxOptions.image`); must be present unless `pull`. */
  image?: string
  /** OCI runtime, e.g. `runsc` for gVisor. */
  runtime?: string
  /** Network joined by commands that are allowed the network. */
  network?: string
  /** `DIR[:ro]`, mounted at /workspace (the default working directory). */
  workspace?: string
  /** `uid:gid` (default 1000:1000). */
  user?: string
  /** Permit uid 0. */
  allowRoot?: boolean
  /** Containers kept started, each used for one command. */
  poolSize?: number
  /** Pull the image when it is missing. */
  pull?: boolean
  cpus?: number
  /** Read-only root filesystem (default true). */
  readOnlyRoot?: boolean
  /** no-new-privileges (default true). */
  noNewPrivileges?: boolean
  /** Capabilities added back after dropping all (default none). */
  capAdd?: string[]
  /** Size of the /tmp tmpfs in bytes. */
  tmpSize?: number
  seccompProfile?: string
  /** The static agent binary, or false to run the command as the container's process. */
  agent?: string | boolean
  inheritEnv?: string[]
  allowSecrets?: string[]
  labels?: Record<string, string>
}

/** Options of a sandbox. */
export interface SandboxOptions {
  policy?: Policy
  /** `docker` and `kubernetes` need `image`; the daemon is DOCKER_HOST's, the cluster is found as kubectl would. */
  backend?: 'process' | 'docker' | 'kubernetes'
  /** Container image (docker and kubernetes backends). */
  image?: string
  /** Docker backend options. */
  docker?: DockerOptions
  // Kubernetes backend options (the names of sandboxcore's
  // KubernetesOptions; unknown names and wrong values throw
  // INVALID_ARGUMENT before the cluster is looked for).
  /** Namespace of the Jobs (default sandboxcore; an RFC 1123 label). */
  namespace?: string
  /** RuntimeClass of the pods, e.g. gvisor. */
  runtimeClass?: string
  /** Uid of the command (default 1000; not 0). */
  runAsUser?: number
  /** Gid of the command (default 1000). */
  runAsGroup?: number
  /** Group of mounted volumes (default 1000). */
  fsGroup?: number
  /** CPU limit, a quantity such as '500m' or '2' (default 1). */
  cpuLimit?: string | number
  /** CPU request (default 100m; at most the limit). */
  cpuRequest?: string | number
  /** Memory request (default 64Mi; the limit is the run's `memory`). */
  memoryRequest?: string | number
  /** Ephemeral-storage limit (default 1Gi). */
  ephemeralStorageLimit?: string | number
  /** Size limit of /tmp (default 256Mi). */
  tmpSizeLimit?: string | number
  /** Seconds a finished Job is kept (default 300). */
  ttlSecondsAfterFinished?: number
  /** Service account of the pods (its token is never mounted). */
  serviceAccount?: string
  /** Extra labels of Jobs and pods (none under sandboxcore.dev/). */
  labels?: Record<string, string>
  /** The egress proxy's URL, http://CLUSTER-IP:3128 (runs with network go through it). */
  egressProxy?: string
  /** Append audit events to this JSON-lines file. */
  auditLog?: string
  /**
   * Called with the decision of a command the policy asks about (`ask`):
   * resolve to true (or `'once'`) to run it, `'session'` to run it and
   * not be asked again by this Sandbox (the decision's `proposedRule` is
   * kept), `'persist'` to also write the rule into `policyFile` (without
   * one it is kept for the session; the audit record says so), false or
   * `'deny'` to refuse. A throw, a rejection or another string denies the
   * command (ApprovalRequiredError, saying why); the run's timeout bounds the wait.
   * Also called with a `ConnectionRequest` (`kind: 'connection'`) when an
   * allowlist run connects to a host a `require_approval` pattern names:
   * true lets it through; false, a throw or a rejection refuses it (the
   * client gets 403).
   */
  approver?: (request: Decision | ConnectionRequest) => boolean | Approval | Promise<boolean | Approval>
  /** The policy file `persist` approvals are written into (normally the one the policy was loaded from). */
  policyFile?: string
  // Process backend options (the names of sandboxcore's ProcessOptions;
  // unknown names and wrong values throw INVALID_ARGUMENT).
  /** How strictly commands are isolated (default `required`: every layer or no sandbox). */
  isolation?: 'required' | 'best-effort' | 'best_effort' | 'off'
  /** More directories every run may write (the host is read-only otherwise). */
  writable?: string[]
  /** More paths hidden from commands, added to the defaults (~/.ssh, ~/.aws, docker.sock, ...). */
  denyRead?: string[]
  /** More paths kept read-only inside writable directories, added to the defaults (.git/hooks, .bashrc, ...). */
  protected?: string[]
  /** Size of the private /tmp in bytes (default 256 MiB). */
  tmpSize?: number
  /** Whether the run's working directory is writable (default true). */
  cwdWritable?: boolean
  /** `auto` (a uid of its own per run when root), `current`, or `[uid, gid]`. */
  runAs?: 'auto' | 'current' | [number, number]
  cgroups?: 'auto' | 'required' | 'off'
  networkIsolation?: 'auto' | 'required' | 'off'
  /** Milliseconds between SIGTERM and SIGKILL at a timeout (or `killGrace` in seconds). */
  killGraceMs?: number
  /** Seconds between SIGTERM and SIGKILL at a timeout (not with `killGraceMs`). */
  killGrace?: number
  /** Variables (globs) inherited from this process; secrets never are. */
  inheritEnv?: string[]
  /** Secret-looking variables that may still be inherited. */
  allowSecrets?: string[]
  /** The shell for command lines that need one (default /bin/sh). */
  shell?: string
}

/**
 * What was enforced for one run (`Result.enforced`): a boolean for each
 * capability, never true where `Sandbox.capabilities()` has false.
 */
export interface Enforced {
  /** The command cannot reach the network (an allowlist run: only through the egress proxy). */
  networkIsolation: boolean
  /** Memory is limited and exceeding it is reported. */
  memoryLimit: boolean
  /** The number of processes is limited. */
  processLimit: boolean
  /** CPU is limited. */
  cpuLimit: boolean
  /** The command sees its own filesystem, not the host's. */
  filesystemIsolation: boolean
  /** Every process the command starts is killed when the run ends. */
  killsDescendants: boolean
  /** The command runs in a user namespace of its own. */
  userNamespace: boolean
  /** The command is PID 1 of a pid namespace of its own. */
  pidNamespace: boolean
  /** The host's filesystem is read-only for the command but for the writable directories, /tmp and HOME. */
  readOnlyRoot: boolean
  /** Deny-read paths are hidden from the command. */
  denyRead: boolean
  /** Landlock restricts the command's writes (a second layer). */
  landlock: boolean
  /** A seccomp filter denies system calls that escape or weaken the sandbox. */
  seccomp: boolean
  /** no_new_privs is set and every capability dropped. */
  noNewPrivs: boolean
  /** No descriptor of this process but 0-2 reaches the command. */
  closesDescriptors: boolean
}

/** What a backend enforces (`Sandbox.capabilities()`). */
export interface Capabilities extends Enforced {
  /** `process`, `docker` or `kubernetes`. */
  backend: string
}

/** Per-run options. */
export interface RunOptions {
  /** Milliseconds (default 60000; Infinity for none). */
  timeout?: number
  cwd?: string
  env?: Record<string, string>
  stdin?: string
  /** Bytes. */
  memory?: number
  processes?: number
  /** Output bytes kept per stream. */
  outputLimit?: number
  /** Network access (default none); see `NetworkAccess`. */
  network?: NetworkAccess
  labels?: Record<string, string>
  /** More directories this run may write (process backend). */
  writable?: string[]
  /** More paths hidden from this run (process backend). */
  denyRead?: string[]
  /** Aborting stops the command and rejects with AbortError. */
  signal?: AbortSignal
  /** Called with each chunk of standard output as it arrives; a returned promise holds further output until it settles. */
  onStdout?: (data: Buffer) => void | Promise<void>
  /** Called with each chunk of standard error as it arrives. */
  onStderr?: (data: Buffer) => void | Promise<void>
}

/** An event of `Sandbox.stream`. */
export type StreamEvent =
  | { type: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'exit'; result: Result }

/** How a run ended. */
export interface Result {
  exitCode: number | null
  signal: number | null
  timedOut: boolean
  oomKilled: boolean
  stdout: string
  stderr: string
  stdoutBytes: Buffer
  stderrBytes: Buffer
  stdoutTruncated: boolean
  stderrTruncated: boolean
  durationMs: number
  status: 'ok' | 'failed' | 'signal' | 'timeout' | 'oom'
  ok: boolean
  /** Isolation layers asked for but not applied (only under `isolation: 'best-effort'`). */
  isolationSkipped: string[]
  /**
   * What was really enforced for this run: `Sandbox.capabilities()` less
   * what the run did not get (`networkIsolation` false with
   * `network: true`, a limit the run did not set, a layer in
   * `isolationSkipped`); all false for a command that was not found.
   */
  enforced: Enforced
}

/** Checks and runs commands under a policy. */
export declare class Sandbox {
  /** A sandbox on the chosen backend (default process); throws BackendUnavailableError when it cannot be reached. */
  constructor(options?: SandboxOptions)
  /** Decides on a command without running it (audited and counted). */
  check(command: Command): Decision
  /** Checks and runs a command; rejects with PolicyDeniedError, ApprovalRequiredError, AbortError, ... */
  run(command: Command, options?: RunOptions): Promise<Result>
  /** Output as it arrives, then the result; leaving the loop early stops the command. */
  stream(command: Command, options?: Omit<RunOptions, 'onStdout' | 'onStderr'>): AsyncGenerator<StreamEvent, void, void>
  /** What the backend enforces. */
  capabilities(): Capabilities
  /** The Prometheus text exposition. */
  metrics(): string
  /** Releases the backend's resources; later runs fail. */
  close(): void
}

export type ErrorCode =
  | 'POLICY_DENIED'
  | 'APPROVAL_REQUIRED'
  | 'POLICY_ERROR'
  | 'BACKEND_UNAVAILABLE'
  | 'EXECUTION_ERROR'
  | 'ABORTED'
  | 'INVALID_ARGUMENT'

/** Base class of sandboxcore errors. */
export declare class SandboxError extends Error {
  /** A stable machine-readable code. */
  readonly code: ErrorCode
  /** The policy decision, for POLICY_DENIED and APPROVAL_REQUIRED. */
  readonly decision?: Decision
}
/** The policy denied the command (`code` POLICY_DENIED, with `decision`). */
export declare class PolicyDeniedError extends SandboxError {}
/** The command needs approval (`code` APPROVAL_REQUIRED, with `decision`). */
export declare class ApprovalRequiredError extends SandboxError {}
/** A policy could not be loaded (`code` POLICY_ERROR; file:line:column in the message). */
export declare class PolicyError extends SandboxError {}
/** The backend cannot be used here (`code` BACKEND_UNAVAILABLE). */
export declare class BackendUnavailableError extends SandboxError {}
/** The backend failed to run the command (`code` EXECUTION_ERROR). */
export declare class ExecutionError extends SandboxError {}
/** The run was aborted through its AbortSignal (`code` ABORTED). */
export declare class AbortError extends SandboxError {}
