//! `classify` and the classification records.

use serde::Serialize;

/// How risky a command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Risk {
    /// Nothing notable.
    Low,
    /// Worth a look: unknown programs, privilege, recursive deletes.
    Medium,
    /// Likely harmful: writes to system paths, credential reads.
    High,
    /// Destroys the system or runs code from the network.
    Critical,
}

impl From<sandboxcore::Risk> for Risk {
    fn from(r: sandboxcore::Risk) -> Risk {
        match r {
            sandboxcore::Risk::Low => Risk::Low,
            sandboxcore::Risk::Medium => Risk::Medium,
            sandboxcore::Risk::High => Risk::High,
            sandboxcore::Risk::Critical => Risk::Critical,
        }
    }
}

/// One program a command line runs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Program {
    /// The program's name, or none when the command word is only known at
    /// run time (`$CMD`).
    pub name: Option<String>,
    /// The words as written, quotes removed, expansions kept.
    pub words: Vec<String>,
    /// The exact argv the program receives, when it is known statically.
    pub argv: Option<Vec<String>>,
    /// What runs it, outermost first (`sudo`, `bash -c`, `xargs`...).
    pub via: Vec<String>,
}

/// A shell feature the line uses.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Construct {
    /// Which feature (`pipeline`, `redirect`, `command_substitution`...).
    pub kind: String,
    /// Details: the redirection and its target, the variable name...
    pub detail: Option<String>,
}

/// Why the risk is what it is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reason {
    /// A stable machine-readable code (`docs/classifier.md`).
    pub code: String,
    /// The risk this reason alone carries.
    pub risk: Risk,
    /// A sentence for people.
    pub message: String,
}

/// What the classifier found out about a command line.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Classification {
    /// False promises that bash and dash would run exactly `argv`.
    pub needs_shell: bool,
    /// The exact argv when no shell is needed.
    pub argv: Option<Vec<String>>,
    /// Every program the line runs, through wrappers and launchers.
    pub programs: Vec<Program>,
    /// The shell features used.
    pub constructs: Vec<Construct>,
    /// True only when nothing is modified and nothing else is run.
    pub read_only: bool,
    /// The overall risk.
    pub risk: Risk,
    /// Why, strongest first.
    pub reasons: Vec<Reason>,
    /// Why bash would reject the line, if it would.
    pub parse_error: Option<String>,
}

/// The serialized name of a core enum value (`snake_case`, as in JSON).
pub(crate) fn name_of(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

impl From<sandboxcore::Classification> for Classification {
    fn from(c: sandboxcore::Classification) -> Classification {
        Classification {
            needs_shell: c.needs_shell,
            argv: c.argv().map(<[String]>::to_vec),
            programs: c
                .programs
                .into_iter()
                .map(|p| Program {
                    argv: p.argv().map(<[String]>::to_vec),
                    name: p.name,
                    words: p.words,
                    via: p.via,
                })
                .collect(),
            constructs: c
                .constructs
                .into_iter()
                .map(|k| Construct {
                    kind: name_of(&k.kind),
                    detail: k.detail,
                })
                .collect(),
            read_only: c.read_only,
            risk: c.risk.into(),
            reasons: c
                .reasons
                .into_iter()
                .map(|r| Reason {
                    code: name_of(&r.code),
                    risk: r.risk.into(),
                    message: r.message,
                })
                .collect(),
            parse_error: c.parse_error,
        }
    }
}

/// Classifies a command line as bash and dash would parse it.
#[uniffi::export]
pub fn classify(command: String) -> Classification {
    sandboxcore::classify(&command).into()
}

/// Classifies an argv (run as given, with no shell).
#[uniffi::export]
pub fn classify_argv(argv: Vec<String>) -> Classification {
    sandboxcore::classify_argv(&argv).into()
}
