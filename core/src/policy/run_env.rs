//! Environment variables given to a run that change what its programs
//! run: the policy judges a command by the programs it names, so a
//! variable that makes `ls` load a library, makes bash source a file
//! first, or names the pager git starts would run code the policy never
//! saw. Such variables need approval (`ask`), as a program that runs
//! other programs would.
//!
//! Module search paths (`PYTHONPATH`, `NODE_PATH`, `PERL5LIB`, `RUBYLIB`)
//! are not on the list: they only change what an interpreter imports, and
//! an interpreter the policy allows runs any code given to it anyway.

use super::decision::{DecisionReason, Effect};
use std::collections::BTreeMap;

/// Variable names (exact) that load or run other code.
const NAMES: &[(&str, &str)] = &[
    ("GCONV_PATH", "makes the C library load code"),
    ("BASH_ENV", "makes bash run a file first"),
    ("ENV", "makes sh run a file first"),
    ("SHELLOPTS", "changes how bash runs"),
    ("BASHOPTS", "changes how bash runs"),
    ("PS4", "runs command substitutions when bash traces"),
    ("PROMPT_COMMAND", "names a command bash runs"),
    ("SHELL", "names the shell programs start"),
    ("PAGER", "names a program to start"),
    ("MANPAGER", "names a program to start"),
    ("EDITOR", "names a program to start"),
    ("VISUAL", "names a program to start"),
    ("BROWSER", "names a program to start"),
    ("LESSOPEN", "names a program less starts"),
    ("LESSCLOSE", "names a program less starts"),
    ("SSH_ASKPASS", "names a program to start"),
    ("SUDO_ASKPASS", "names a program to start"),
    ("NODE_OPTIONS", "passes options (such as --require) to node"),
    ("PERL5OPT", "passes options (such as -M) to perl"),
    ("RUBYOPT", "passes options (such as -r) to ruby"),
    ("PYTHONSTARTUP", "makes python run a file first"),
    ("PYTHONHOME", "changes the python library python loads"),
    (
        "JAVA_TOOL_OPTIONS",
        "passes options (such as -javaagent) to java",
    ),
    (
        "_JAVA_OPTIONS",
        "passes options (such as -javaagent) to java",
    ),
    (
        "JDK_JAVA_OPTIONS",
        "passes options (such as -javaagent) to java",
    ),
    ("RUSTC_WRAPPER", "names a program cargo starts"),
    ("RUSTC", "names a program cargo starts"),
    ("MAKEFLAGS", "passes options (such as SHELL=) to make"),
];

/// Variable names (exact) whose value is a command line a program runs
/// (through a shell, for most): git's `GIT_SSH_COMMAND`, `PAGER`, less's
/// `LESSOPEN` (after a leading `|`). Each is also named by [`why`].
pub const COMMAND_VALUED: &[&str] = &[
    "GIT_SSH_COMMAND",
    "GIT_SSH",
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_ASKPASS",
    "GIT_PROXY_COMMAND",
    "PAGER",
    "MANPAGER",
    "EDITOR",
    "VISUAL",
    "BROWSER",
    "LESSOPEN",
    "LESSCLOSE",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "PROMPT_COMMAND",
    "RUSTC_WRAPPER",
    "RUSTC",
];

/// Whether the value of `name` is a command line a program runs.
pub fn names_command(name: &str) -> bool {
    COMMAND_VALUED.contains(&name) && why(name).is_some()
}

/// Name prefixes that load or run other code.
const PREFIXES: &[(&str, &str)] = &[
    ("LD_", "changes what the dynamic loader loads"),
    ("BASH_FUNC_", "defines a bash function"),
    (
        "GIT_",
        "changes what git runs or which repository and configuration it reads",
    ),
    (
        "NPM_CONFIG_",
        "sets npm configuration (such as script-shell)",
    ),
    (
        "CARGO_",
        "sets cargo configuration (such as a rustc wrapper)",
    ),
];

/// Variables of git and cargo that are known not to run anything.
const HARMLESS: &[&str] = &[
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "GIT_TERMINAL_PROMPT",
    "GIT_TRACE",
    "CARGO_TERM_COLOR",
    "CARGO_INCREMENTAL",
    "CARGO_TARGET_DIR",
    "CARGO_HOME",
];

/// Why `name` changes what a run's programs run, if it does. Names are
/// compared without regard to case (npm reads `npm_config_*` too).
pub fn why(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    if HARMLESS.contains(&upper.as_str()) {
        return None;
    }
    NAMES
        .iter()
        .find(|(n, _)| *n == upper)
        .or_else(|| PREFIXES.iter().find(|(p, _)| upper.starts_with(p)))
        .map(|(_, why)| *why)
}

/// The reasons against running with `env`: one per variable that changes
/// what the programs run.
pub fn reasons(env: &BTreeMap<String, String>) -> Vec<DecisionReason> {
    env.keys()
        .filter_map(|name| {
            why(name).map(|why| DecisionReason {
                rule: "run_env".to_string(),
                effect: Effect::Ask,
                message: format!("the run's environment variable {name} {why}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_that_run_code_are_named() {
        for name in [
            "LD_PRELOAD",
            "ld_audit",
            "BASH_ENV",
            "ENV",
            "BASH_FUNC_ls%%",
            "GIT_SSH_COMMAND",
            "GIT_EXTERNAL_DIFF",
            "GIT_CONFIG_COUNT",
            "GIT_DIR",
            "npm_config_script_shell",
            "PAGER",
            "LESSOPEN",
            "NODE_OPTIONS",
            "RUSTC_WRAPPER",
            "PS4",
        ] {
            assert!(why(name).is_some(), "{name}");
        }
        for name in COMMAND_VALUED {
            assert!(why(name).is_some(), "{name}");
        }
        for name in [
            "FOO",
            "CI",
            "PYTHONPATH",
            "NODE_ENV",
            "GIT_AUTHOR_NAME",
            "CARGO_TARGET_DIR",
            "HOME",
            "LANG",
        ] {
            assert!(why(name).is_none(), "{name}");
        }
    }
}
