//! The soundness rules behind `needs_shell == false`: when a command line
//! is exactly one simple command whose argv bash and dash agree on.

use super::walk::Facts;
use super::words::WordInfo;
use crate::catalog::catalog;
use crate::shell::ast::{Command, Script, Terminator, WordPart};
use crate::shell::RESERVED_WORDS;

/// Whether `script` runs without a shell, as the first program in `facts`
/// (which are those collected from `script`) with its words as argv.
pub fn is_plain(script: &Script, facts: &Facts) -> bool {
    let [item] = script.body.items.as_slice() else {
        return false;
    };
    // A trailing `;` or newline ends the command and changes nothing.
    if item.terminator == Terminator::Background || !item.and_or.rest.is_empty() {
        return false;
    }
    let pipeline = &item.and_or.first;
    if pipeline.negated || pipeline.timed {
        return false;
    }
    let [Command::Simple(cmd)] = pipeline.commands.as_slice() else {
        return false;
    };
    if !cmd.assignments.is_empty() || !cmd.redirects.is_empty() || cmd.words.is_empty() {
        return false;
    }
    // With no expansion in any word there are no substitutions, so the
    // first program the walker recorded is this command itself, with all
    // its words (programs it wraps, `bash -c` scripts included, come after).
    if cmd.words.iter().any(|w| has_expansion(&w.parts)) {
        return false;
    }
    words_are_plain(facts, cmd.words.len())
}

/// Whether a line that is one simple command of `word_count` words with no
/// assignment, redirection or expansion runs without a shell, with the
/// first program's words in `facts` as argv: every word is static and the
/// command is run by `execve`.
pub fn words_are_plain(facts: &Facts, word_count: usize) -> bool {
    let Some(first) = facts.invocations.first() else {
        return false;
    };
    first.via.is_empty()
        && first.args.len() == word_count
        && first.args.iter().all(|w| w.is_static)
        && runs_as_external(&first.args)
}

/// Whether any part is an expansion or substitution (inside double quotes
/// too) whose value is not known statically.
fn has_expansion(parts: &[WordPart]) -> bool {
    parts.iter().any(|p| match p {
        WordPart::Lit { .. } | WordPart::AnsiC(_) => false,
        // Arithmetic of constants has one value in bash and dash.
        WordPart::Arith(inner) => super::words::constant_arith(inner).is_none(),
        WordPart::DoubleQuoted(inner) | WordPart::Locale(inner) => has_expansion(inner),
        WordPart::Param(_)
        | WordPart::CommandSubst(_)
        | WordPart::LegacyArith(_)
        | WordPart::ProcessSubst(..) => true,
    })
}

/// Whether `argv[0]` names a program that bash and dash would `execve`
/// (or a builtin that behaves exactly like it with these arguments).
fn runs_as_external(argv: &[WordInfo]) -> bool {
    let name = argv[0].shape.as_str();
    // `%name` and `%1` are job specs: bash runs `fg` on them.
    if name.is_empty() || RESERVED_WORDS.contains(&name) || name.starts_with('%') {
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
        // is involved (dash's echo interprets escapes; options differ),
        // except one leading `-n`, which all three take the same way (dash
        // prints a second `-n` that bash would take as an option).
        "echo" => {
            let rest = match args.first() {
                Some(a) if a.shape == "-n" => &args[1..],
                _ => args,
            };
            rest.iter()
                .all(|a| !a.shape.starts_with('-') && !a.shape.contains('\\'))
        }
        // The common conversions and escapes behave the same everywhere.
        "printf" => {
            !args.is_empty()
                && args.iter().all(|a| !a.shape.starts_with('-'))
                && args.iter().all(|a| printf_is_portable(&a.shape))
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
