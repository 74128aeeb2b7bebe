//! The public result types of [`crate::classify`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// Everything the classifier found out about a command line.
///
/// In JSON (serde) it is an object with the fields below plus `argv`
/// ([`Classification::argv`], `null` when a shell is needed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "ClassificationJson")]
pub struct Classification {
    /// `false` is a promise: bash and dash would both run exactly one simple
    /// command with exactly [`Classification::argv`], in any environment,
    /// working directory and `$HOME`. `true` means a shell is needed (or the
    /// line cannot run at all; see `parse_error`).
    pub needs_shell: bool,
    /// Every program the line would run, wrappers and nested ones included.
    /// When `needs_shell` is false, the first is the command itself.
    pub programs: Vec<Program>,
    /// The shell features the line uses.
    pub constructs: Vec<Construct>,
    /// True only when every program is known to modify nothing with the
    /// arguments given and nothing is written to a file.
    pub read_only: bool,
    /// The highest risk among `reasons` (`low` when there are none).
    pub risk: Risk,
    /// Why the risk is what it is.
    pub reasons: Vec<Reason>,
    /// Set when bash would reject the line (or it is nested too deeply).
    pub parse_error: Option<String>,
    /// The paths the line would write, create, delete or change the mode
    /// of, as far as its syntax shows them (redirection targets, the
    /// operands of `rm`, `mv`, `cp`, `sed -i`, ...; see "Effects" in
    /// `docs/classifier.md`), in order, each once. Always present in JSON
    /// (empty when nothing is predicted, which does not mean nothing is
    /// written: unknown programs get no effects).
    pub effects: Vec<PathEffect>,
}

impl Classification {
    /// The exact argv to pass to `execve` when `needs_shell` is false
    /// (the first program's words), `None` when a shell is needed.
    pub fn argv(&self) -> Option<&[String]> {
        if self.needs_shell {
            return None;
        }
        self.programs.first().map(|p| p.words.as_slice())
    }
}

/// A program the command line would run.
///
/// In JSON (serde) it is an object with `name`, `argv`
/// ([`Program::argv`], `null` when not known statically), `words` and
/// `via`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "ProgramJson")]
pub struct Program {
    /// The program's name (the last path component of the command word),
    /// `None` when the command word is only known at run time (`$CMD`).
    pub name: Option<String>,
    /// The words as written, quotes removed, expansions kept (`$HOME`,
    /// `$(...)`): always present, for display and rule matching. For a
    /// wrapper or `find` that is itself run by another program (`via` not
    /// empty), only its own words: a wrapper's up to the command it runs,
    /// `find`'s with only the first word of each `-exec` command (the
    /// command is listed as a program of its own; `argv` is then `null`).
    pub words: Vec<String>,
    /// Whether `words` is exactly the argv the program receives: every word
    /// is known statically and nothing is appended at run time (as `xargs`
    /// and `find -exec ... +` do).
    pub argv_known: bool,
    /// What runs it, outermost first: wrappers (`sudo`, `env`, `xargs`),
    /// `bash -c`, `find -exec`, `$(...)`, a pipeline into a shell...
    pub via: Vec<String>,
}

impl Program {
    /// The exact argv when it is known statically ([`Program::argv_known`]).
    pub fn argv(&self) -> Option<&[String]> {
        self.argv_known.then_some(self.words.as_slice())
    }
}

impl Serialize for Classification {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Classification", 9)?;
        st.serialize_field("needs_shell", &self.needs_shell)?;
        st.serialize_field("argv", &self.argv())?;
        st.serialize_field("programs", &self.programs)?;
        st.serialize_field("constructs", &self.constructs)?;
        st.serialize_field("read_only", &self.read_only)?;
        st.serialize_field("risk", &self.risk)?;
        st.serialize_field("reasons", &self.reasons)?;
        st.serialize_field("parse_error", &self.parse_error)?;
        st.serialize_field("effects", &self.effects)?;
        st.end()
    }
}

impl Serialize for Program {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Program", 4)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("argv", &self.argv())?;
        st.serialize_field("words", &self.words)?;
        st.serialize_field("via", &self.via)?;
        st.end()
    }
}

/// [`Classification`] as it is written in JSON (`argv` is derived, so it
/// is read and not kept).
#[derive(Deserialize)]
struct ClassificationJson {
    needs_shell: bool,
    programs: Vec<Program>,
    constructs: Vec<Construct>,
    read_only: bool,
    risk: Risk,
    reasons: Vec<Reason>,
    parse_error: Option<String>,
    #[serde(default)]
    effects: Vec<PathEffect>,
}

impl From<ClassificationJson> for Classification {
    fn from(j: ClassificationJson) -> Self {
        Classification {
            needs_shell: j.needs_shell,
            programs: j.programs,
            constructs: j.constructs,
            read_only: j.read_only,
            risk: j.risk,
            reasons: j.reasons,
            parse_error: j.parse_error,
            effects: j.effects,
        }
    }
}

/// [`Program`] as it is written in JSON.
#[derive(Deserialize)]
struct ProgramJson {
    name: Option<String>,
    argv: Option<Vec<String>>,
    words: Vec<String>,
    via: Vec<String>,
}

impl From<ProgramJson> for Program {
    fn from(j: ProgramJson) -> Self {
        Program {
            name: j.name,
            argv_known: j.argv.is_some(),
            words: j.words,
            via: j.via,
        }
    }
}

/// A path a command line would act on ([`Classification::effects`]).
///
/// An effect on a directory covers what is under it (`rm -r DIR`,
/// `cp -r SRC DIR`, `chmod -R`, `find DIR -delete`).
///
/// ```
/// use sandboxcore::{classify, PathEffect, PathEffectKind};
/// let c = classify("rm -rf build && echo done > log.txt");
/// assert_eq!(c.effects, [
///     PathEffect { path: "build".into(), effect: PathEffectKind::Delete, certain: true },
///     PathEffect { path: "log.txt".into(), effect: PathEffectKind::Write, certain: true },
/// ]);
/// let c = classify("rm -f $DIR/*.o");
/// assert!(!c.effects[0].certain);
/// assert_eq!(c.effects[0].root(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PathEffect {
    /// The path as the line names it, relative to where the command runs
    /// (after a `cd` in the line, joined to its directory), `~/...` for the
    /// caller's home (also written `$HOME`), and as written (with `*`,
    /// `$X`, `$(...)`) when only known at run time.
    pub path: String,
    /// What happens to it.
    pub effect: PathEffectKind,
    /// `true`: the path is known exactly and the program acts on it when
    /// it runs and succeeds. `false`: the path holds an expansion, or the
    /// program acts on some paths under it chosen at run time
    /// (`find -delete`, `git clean`, `tar -x`, what `xargs` appends), or
    /// the program may not run (after `||`, in a branch or loop body).
    pub certain: bool,
}

impl PathEffect {
    /// The directory (or file) the effect is known to stay within: the
    /// path itself when it is static, else its leading static part cut at
    /// the last `/` before the first expansion (`src/*.rs` → `src`,
    /// `*.o` → `.`, `~/x/$N` → `~/x`); `None` when nothing is known
    /// (`$DIR/x`, `~bob/x`, `$(pwd)`).
    pub fn root(&self) -> Option<&str> {
        let p = self.path.as_str();
        // `~bob/x`: another user's home, somewhere.
        let other_home = |s: &str| s.starts_with('~') && s != "~" && !s.starts_with("~/");
        if p.starts_with("{input}") {
            return None;
        }
        let cut = match p.find(['$', '`', '*', '?', '[', '{', '<', '>']) {
            _ if self.certain => return (!other_home(p)).then_some(p),
            None => return (!other_home(p)).then_some(p),
            Some(i) => i,
        };
        // A variable or substitution may hold anything, `..` included.
        if p[cut..].starts_with(['$', '`', '<', '>'])
            || p[cut..].contains(['$', '`'])
            || p[cut..].split('/').any(|c| c == "..")
        {
            return None;
        }
        let head = &p[..cut];
        match head.rfind('/') {
            _ if other_home(head) => None,
            Some(0) => Some("/"),
            Some(j) => Some(&head[..j]),
            None if head.starts_with('~') => None,
            None => Some("."),
        }
    }
}

/// What a command does to a path ([`PathEffect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathEffectKind {
    /// Its content is written (the file is created when missing): `>`,
    /// `tee`, `cp` and `mv` targets, `sed -i`, `truncate`, `dd of=`.
    Write,
    /// It is created (or, when it exists, its times are updated): `mkdir`,
    /// `touch`, `ln`, `tar -x`.
    Create,
    /// It is removed (with what is under it): `rm`, `mv` sources,
    /// `find -delete`, `git clean`.
    Delete,
    /// Its permissions or owner change: `chmod`, `chown`, `chgrp`.
    Mode,
}

impl PathEffectKind {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PathEffectKind::Write => "write",
            PathEffectKind::Create => "create",
            PathEffectKind::Delete => "delete",
            PathEffectKind::Mode => "mode",
        }
    }
}

impl fmt::Display for PathEffectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A shell feature used by the command line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Construct {
    /// Which feature.
    pub kind: ConstructKind,
    /// Details: the redirection and its target, the variable name, ...
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
}

/// The kinds of shell features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConstructKind {
    /// `a | b`
    Pipe,
    /// bash's `a |& b`
    PipeStderr,
    /// `a && b`
    And,
    /// `a || b`
    Or,
    /// `a ; b` or commands on several lines.
    Sequence,
    /// `a &`
    Background,
    /// `! a`
    Negation,
    /// A redirection (`detail`: operator and target).
    Redirection,
    /// `<<EOF` here-document.
    HereDoc,
    /// bash's `<<< word`.
    HereString,
    /// `$(...)` or backquotes.
    CommandSubstitution,
    /// bash's `<(...)` / `>(...)`.
    ProcessSubstitution,
    /// `$((...))` or `((...))`.
    Arithmetic,
    /// `$x`, `${x}` and friends (`detail`: the name).
    ParameterExpansion,
    /// `*`, `?`, `[...]` pathname expansion (`detail`: the word).
    Glob,
    /// bash's `{a,b}` / `{1..3}`.
    BraceExpansion,
    /// `~` expansion.
    Tilde,
    /// `NAME=value` (`detail`: the name).
    Assignment,
    /// `( ... )`
    Subshell,
    /// `{ ...; }`
    Group,
    /// `if`
    If,
    /// `while`, `until`, `for`, `select`.
    Loop,
    /// `case`
    Case,
    /// bash's `[[ ... ]]`.
    Conditional,
    /// `name() { ... }`
    FunctionDefinition,
    /// bash's `$'...'` or `$"..."` quoting.
    BashQuoting,
    /// bash's `time` keyword.
    Time,
    /// A builtin that only exists inside a shell (`detail`: its name).
    Builtin,
}

impl ConstructKind {
    /// Every kind, in declaration order.
    pub const ALL: [ConstructKind; 28] = {
        use ConstructKind::*;
        [
            Pipe,
            PipeStderr,
            And,
            Or,
            Sequence,
            Background,
            Negation,
            Redirection,
            HereDoc,
            HereString,
            CommandSubstitution,
            ProcessSubstitution,
            Arithmetic,
            ParameterExpansion,
            Glob,
            BraceExpansion,
            Tilde,
            Assignment,
            Subshell,
            Group,
            If,
            Loop,
            Case,
            Conditional,
            FunctionDefinition,
            BashQuoting,
            Time,
            Builtin,
        ]
    };

    /// The stable snake_case name used in JSON and policies.
    pub fn as_str(self) -> &'static str {
        match self {
            ConstructKind::Pipe => "pipe",
            ConstructKind::PipeStderr => "pipe_stderr",
            ConstructKind::And => "and",
            ConstructKind::Or => "or",
            ConstructKind::Sequence => "sequence",
            ConstructKind::Background => "background",
            ConstructKind::Negation => "negation",
            ConstructKind::Redirection => "redirection",
            ConstructKind::HereDoc => "here_doc",
            ConstructKind::HereString => "here_string",
            ConstructKind::CommandSubstitution => "command_substitution",
            ConstructKind::ProcessSubstitution => "process_substitution",
            ConstructKind::Arithmetic => "arithmetic",
            ConstructKind::ParameterExpansion => "parameter_expansion",
            ConstructKind::Glob => "glob",
            ConstructKind::BraceExpansion => "brace_expansion",
            ConstructKind::Tilde => "tilde",
            ConstructKind::Assignment => "assignment",
            ConstructKind::Subshell => "subshell",
            ConstructKind::Group => "group",
            ConstructKind::If => "if",
            ConstructKind::Loop => "loop",
            ConstructKind::Case => "case",
            ConstructKind::Conditional => "conditional",
            ConstructKind::FunctionDefinition => "function_definition",
            ConstructKind::BashQuoting => "bash_quoting",
            ConstructKind::Time => "time",
            ConstructKind::Builtin => "builtin",
        }
    }
}

/// How risky a command line is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Nothing notable.
    #[default]
    Low,
    /// Worth a look: unknown programs, privilege, recursive deletes.
    Medium,
    /// Likely harmful: writes to system paths, credential reads.
    High,
    /// Destroys the system or runs code from the network.
    Critical,
}

impl Risk {
    /// The snake_case name used in JSON and policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason behind the risk level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// A stable machine-readable code.
    pub code: ReasonCode,
    /// The risk this reason alone carries.
    pub risk: Risk,
    /// A sentence for people.
    pub message: String,
}

/// Stable reason codes (documented in `docs/classifier.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReasonCode {
    /// bash would reject the line.
    ParseError,
    /// A nested script (`bash -c '...'`) could not be parsed.
    NestedParseError,
    /// Wrappers nested deeper than the classifier follows: what the line
    /// finally runs is not judged (the line is not plain, not read-only).
    TooDeep,
    /// Recursive delete of `/`, the home directory or a system directory.
    RecursiveDeleteRoot,
    /// Any other recursive delete.
    RecursiveDelete,
    /// A downloaded script is run by an interpreter.
    RemoteScriptExecution,
    /// A write to a block device or kernel memory.
    DeviceWrite,
    /// A write into a system directory.
    SystemPathWrite,
    /// Creating a filesystem or wiping signatures.
    FilesystemFormat,
    /// Changing a partition table.
    DiskPartitioning,
    /// A function that multiplies itself.
    ForkBomb,
    /// World-writable permissions on `/` or a system directory.
    WorldWritableSystem,
    /// World-writable permissions elsewhere.
    WorldWritable,
    /// Changing owners recursively on `/` or a system directory.
    OwnershipChangeSystem,
    /// Reading a credential or secret file.
    CredentialAccess,
    /// `sudo`, `doas`, `su`, `pkexec`...
    PrivilegeEscalation,
    /// `eval` of text.
    Eval,
    /// A script whose text is only known at run time (`bash -c "$X"`).
    DynamicScript,
    /// A program whose name is only known at run time (`$CMD`).
    DynamicCommand,
    /// A program the catalog does not know.
    UnknownProgram,
    /// Shutting down or rebooting.
    PowerState,
    /// Killing every process or init.
    KillAll,
    /// Flushing or disabling the firewall (`iptables -F`, `nft flush
    /// ruleset`, `ufw disable`).
    FirewallFlush,
    /// Rewriting or discarding version-control history.
    DestructiveGit,
    /// Network access through a downloader.
    Network,
    /// bash's `/dev/tcp` or `/dev/udp` redirections.
    NetworkRedirection,
    /// A shell or interpreter reading its program from stdin.
    ScriptFromStdin,
    /// Secrets (credential files, the environment) read and sent over the
    /// network in one line.
    Exfiltration,
    /// A read-only program given an option the catalog does not list as
    /// harmless for it (or an argument known only at run time that may be
    /// one): not read-only.
    OptionNotKnownReadOnly,
    /// An option that runs another program (`--pager`, `--pre`,
    /// `--ext-diff`, `--compress-program`).
    OptionRunsProgram,
    /// An option (or operand) that writes a file (`sort -o`, `tree -o`).
    OptionWritesFile,
    /// An option that reads configuration from a named place or points the
    /// program at another repository (`git -c`, `file -m`).
    OptionReadsConfig,
}
