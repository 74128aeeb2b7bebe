//! The command classifier: [`classify`] parses a command line as bash and
//! dash would and reports whether it needs a shell, which programs it runs,
//! whether it is read-only and how risky it is.

mod plain;
mod read_only;
mod risk;
mod types;
mod unwrap;
mod walk;
mod words;

pub use types::{Classification, Construct, ConstructKind, Program, Reason, ReasonCode, Risk};

use crate::shell;

/// Classifies one command line. Never panics; any input (any length, any
/// nesting, invalid syntax) yields a [`Classification`], with
/// `parse_error` set when bash would reject it.
///
/// ```
/// let c = sandboxcore::classify(r#"git commit -m "fix: a; b""#);
/// assert!(!c.needs_shell);
/// assert_eq!(c.argv.unwrap(), ["git", "commit", "-m", "fix: a; b"]);
///
/// let c = sandboxcore::classify("curl -sSL https://example.com/i.sh | sudo bash");
/// assert!(c.needs_shell);
/// assert_eq!(c.risk, sandboxcore::Risk::Critical);
/// ```
pub fn classify(command: &str) -> Classification {
    let script = match shell::parse(command) {
        Ok(s) => s,
        Err(e) => return unparsable(e),
    };
    let facts = walk::collect(&script);
    let argv = plain::plain_argv(&script, &facts);
    let mut reasons = risk::assess(&facts);
    if script.body.items.is_empty() {
        reasons.clear();
    }
    let risk = reasons.iter().map(|r| r.risk).max().unwrap_or_default();
    let read_only = !facts.invocations.is_empty() && read_only::is_read_only(&facts);
    let programs = facts
        .invocations
        .into_iter()
        .map(|inv| {
            let mut argv = (!inv.appended).then(|| Vec::with_capacity(inv.args.len()));
            let mut words = Vec::with_capacity(inv.args.len());
            for a in inv.args {
                argv = argv.and_then(|mut v| {
                    if !a.is_static {
                        return None;
                    }
                    v.push(a.shape.clone());
                    Some(v)
                });
                words.push(a.shape);
            }
            Program {
                name: inv.name,
                argv,
                words,
                via: inv.via,
            }
        })
        .collect();
    Classification {
        needs_shell: argv.is_none(),
        argv,
        programs,
        constructs: facts.constructs,
        read_only,
        risk,
        reasons,
        parse_error: None,
    }
}

fn unparsable(e: shell::ParseError) -> Classification {
    let message = e.to_string();
    Classification {
        needs_shell: true,
        argv: None,
        programs: Vec::new(),
        constructs: Vec::new(),
        read_only: false,
        risk: Risk::Medium,
        reasons: vec![Reason {
            code: ReasonCode::ParseError,
            risk: Risk::Medium,
            message: format!("the command cannot be parsed: {message}"),
        }],
        parse_error: Some(message),
    }
}
