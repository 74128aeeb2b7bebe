//! The command classifier: [`classify`] parses a command line as bash and
//! dash would and reports whether it needs a shell, which programs it runs,
//! whether it is read-only and how risky it is.

mod effects;
mod json;
mod launchers;
mod plain;
mod read_only;
mod risk;
mod types;
mod unwrap;
mod walk;
mod words;
mod words_only;

pub use types::{
    Classification, Construct, ConstructKind, PathEffect, PathEffectKind, Program, Reason,
    ReasonCode, Risk,
};

use crate::shell;

/// Classifies one command line. Never panics; any input (any length, any
/// nesting, invalid syntax) yields a [`Classification`], with
/// `parse_error` set when bash would reject it.
///
/// ```
/// let c = sandboxcore::classify(r#"git commit -m "fix: a; b""#);
/// assert!(!c.needs_shell);
/// assert_eq!(c.argv().unwrap(), ["git", "commit", "-m", "fix: a; b"]);
///
/// let c = sandboxcore::classify("curl -sSL https://example.com/i.sh | sudo bash");
/// assert!(c.needs_shell);
/// assert_eq!(c.risk, sandboxcore::Risk::Critical);
/// ```
pub fn classify(command: &str) -> Classification {
    match words_only::split(command) {
        Some(words) => {
            let word_count = words.len();
            let facts = walk::collect_words(words);
            let plain = plain::words_are_plain(&facts, word_count);
            let reasons = risk::assess(&facts);
            conclude(facts, plain, reasons)
        }
        None => classify_parsed(command),
    }
}

/// Classifies an argv that runs as it is, with no shell
/// (`["echo", "-n", "x"]`): every word is literal (`$HOME`, `*`, `;` mean
/// themselves), there is no shell construct, and the line never needs a
/// shell ([`Classification::argv`] is the argv itself); the programs it
/// runs through wrappers (`sudo`, `env`, `bash -c SCRIPT`, ...), the risk
/// and the read-only judgement are found as for a command line.
///
/// ```
/// let c = sandboxcore::classify_argv(&["echo", "$HOME; rm -rf /"]);
/// assert!(!c.needs_shell);
/// assert_eq!(c.argv().unwrap(), ["echo", "$HOME; rm -rf /"]);
/// assert!(c.read_only);
/// let c = sandboxcore::classify_argv(&["bash", "-c", "curl -s https://x.io/i.sh | sh"]);
/// assert_eq!(c.risk, sandboxcore::Risk::Critical);
/// ```
pub fn classify_argv<S: AsRef<str>>(argv: &[S]) -> Classification {
    let words: Vec<words::WordInfo> = argv
        .iter()
        .map(|a| words::WordInfo::literal(a.as_ref().to_string()))
        .collect();
    let facts = walk::collect_words(words);
    let reasons = risk::assess(&facts);
    let mut c = conclude(facts, true, reasons);
    if argv.is_empty() {
        c.needs_shell = true;
    }
    c
}

/// [`classify`] through the full parser, whatever the line.
fn classify_parsed(command: &str) -> Classification {
    let script = match shell::parse(command) {
        Ok(s) => s,
        Err(e) => return unparsable(e),
    };
    let facts = walk::collect(&script, command.len());
    let plain = plain::is_plain(&script, &facts);
    let mut reasons = risk::assess(&facts);
    if script.body.items.is_empty() {
        reasons.clear();
    }
    conclude(facts, plain, reasons)
}

/// The classification from what was collected.
fn conclude(facts: walk::Facts, plain: bool, mut reasons: Vec<Reason>) -> Classification {
    let (read_only, option_reasons) = read_only::judge(&facts);
    for r in option_reasons {
        if !reasons.contains(&r) {
            reasons.push(r);
        }
    }
    let risk = reasons.iter().map(|r| r.risk).max().unwrap_or_default();
    // A nested script that cannot be parsed (`bash -c 'a ('`) is not
    // judged: the line is neither read-only nor plain.
    let judged = facts.nested_errors.is_empty();
    let read_only = judged && !facts.invocations.is_empty() && read_only;
    // Past the depth the classifier follows, the line is not judged: never
    // a plain argv.
    let plain = plain && judged && !facts.too_deep;
    let effects = effects::predict(&facts);
    // A new vector, not an in-place `collect`: that would shrink the
    // invocations' buffer with `realloc`, and the split chunk keeps glibc's
    // malloc off its fast path on the next call (measured: ~20% of a short
    // command's instructions).
    let mut programs = Vec::with_capacity(facts.invocations.len());
    programs.extend(facts.invocations.into_iter().map(|inv| Program {
        name: inv.name,
        argv_known: !inv.appended && !inv.partial && inv.args.iter().all(|a| a.is_static),
        words: inv.args.into_shapes(),
        via: inv.via,
    }));
    Classification {
        needs_shell: !plain,
        programs,
        constructs: facts.constructs,
        read_only,
        risk,
        reasons,
        parse_error: None,
        effects,
    }
}

fn unparsable(e: shell::ParseError) -> Classification {
    let message = e.to_string();
    let mut reasons = vec![Reason {
        code: ReasonCode::ParseError,
        risk: Risk::Medium,
        message: format!("the command cannot be parsed: {message}"),
    }];
    // Valid bash nested past the parser's limit: not judged, which is
    // riskier than a line bash itself rejects.
    if e.is_too_deep() {
        reasons.push(Reason {
            code: ReasonCode::TooDeep,
            risk: Risk::High,
            message: format!(
                "the command nests deeper than {} levels: what it runs is not judged",
                shell::MAX_DEPTH
            ),
        });
    }
    Classification {
        needs_shell: true,
        programs: Vec::new(),
        constructs: Vec::new(),
        read_only: false,
        risk: reasons.iter().map(|r| r.risk).max().unwrap_or_default(),
        reasons,
        parse_error: Some(message),
        effects: Vec::new(),
    }
}
