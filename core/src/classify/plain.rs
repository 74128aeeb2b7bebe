//! The soundness rules behind `needs_shell == false`: when a command line
//! is exactly one simple command whose argv bash and dash agree on.

use super::walk::Facts;
use crate::catalog::catalog;
use crate::shell::ast::{Command, Script, Terminator, WordPart};
use crate::shell::RESERVED_WORDS;

/// The argv to run without a shell, or `None` when a shell is needed.
/// `facts` are those collected from `script`.
pub fn plain_argv(script: &Script, facts: &Facts) -> Option<Vec<String>> {
    let [item] = script.body.items.as_slice() else {
        return None;
    };
    if item.terminator != Terminator::End || !item.and_or.rest.is_empty() {
        return None;
    }
    let pipeline = &item.and_or.first;
    if pipeline.negated || pipeline.timed {
        return None;
    }
    let [Command::Simple(cmd)] = pipeline.commands.as_slice() else {
        return None;
    };
    if !cmd.assignments.is_empty() || !cmd.redirects.is_empty() || cmd.words.is_empty() {
        return None;
    }
    // With no expansion in any word there are no substitutions, so the
    // first program the walker recorded is this command itself, with all
    // its words (programs it wraps, `bash -c` scripts included, come after).
    if cmd.words.iter().any(|w| has_expansion(&w.parts)) {
        return None;
    }
    let first = facts.invocations.first()?;
    if !first.via.is_empty() || first.args.len() != cmd.words.len() {
        return None;
    }
    let argv: Vec<String> = first
        .args
        .iter()
        .map(|w| w.value().map(str::to_string))
        .collect::<Option<_>>()?;
    if runs_as_external(&argv) {
        Some(argv)
    } else {
        None
    }
}

/// Whether any part is an expansion or substitution (inside double quotes
/// too).
fn has_expansion(parts: &[WordPart]) -> bool {
    parts.iter().any(|p| match p {
        WordPart::Lit { .. } | WordPart::AnsiC(_) => false,
        WordPart::DoubleQuoted(inner) | WordPart::Locale(inner) => has_expansion(inner),
        WordPart::Param(_)
        | WordPart::CommandSubst(_)
        | WordPart::Arith(_)
        | WordPart::ProcessSubst(..) => true,
    })
}

/// Whether `argv[0]` names a program that bash and dash would `execve`
/// (or a builtin that behaves exactly like it with these arguments).
fn runs_as_external(argv: &[String]) -> bool {
    let name = argv[0].as_str();
    if name.is_empty() || RESERVED_WORDS.contains(&name) {
        return false;
    }
    let c = catalog();
    if c.builtins.shell_only.contains(name) {
        return false;
    }
    if !c.builtins.same_as_external.contains(name) {
        return true;
    }
    let args = &argv[1..];
    match name {
        // Builtin and coreutils echo agree unless an option or a backslash
        // is involved (dash's echo interprets escapes; options differ).
        "echo" => args
            .iter()
            .all(|a| !a.starts_with('-') && !a.contains('\\')),
        // The common conversions and escapes behave the same everywhere.
        "printf" => {
            !args.is_empty()
                && args.iter().all(|a| !a.starts_with('-'))
                && args.iter().all(|a| printf_is_portable(a))
        }
        // `/bin/true --help` prints help; the builtins ignore arguments.
        "true" | "false" => args.is_empty(),
        _ => false,
    }
}

fn printf_is_portable(arg: &str) -> bool {
    let b = arg.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => match b.get(i + 1) {
                Some(b's' | b'd' | b'%') => i += 2,
                _ => return false,
            },
            b'\\' => match b.get(i + 1) {
                Some(b'n' | b't' | b'\\') => i += 2,
                _ => return false,
            },
            _ => i += 1,
        }
    }
    true
}
