//! Whether a command line is known to modify nothing.

use super::walk::{Facts, Invocation};
use crate::catalog::{catalog, ProgramSpec};
use crate::shell::ast::RedirectOp;

/// True only when every program is known not to modify anything with the
/// arguments given and no redirection writes to a file.
pub fn is_read_only(facts: &Facts) -> bool {
    let redirects_ok = facts.redirects.iter().all(|r| match r.op {
        RedirectOp::DupOutput | RedirectOp::DupInput => {
            let t = r.target.shape.as_str();
            t == "-" || (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        }
        op if op.writes_file() => matches!(
            r.target.value(),
            Some("/dev/null" | "/dev/stdout" | "/dev/stderr")
        ),
        _ => true,
    });
    redirects_ok
        && facts
            .invocations
            .iter()
            .all(|inv| invocation_read_only(inv, facts))
}

fn invocation_read_only(inv: &Invocation, facts: &Facts) -> bool {
    if inv.wraps {
        return true;
    }
    let Some(name) = inv.name.as_deref() else {
        return false;
    };
    if facts.functions.contains(name) {
        return false;
    }
    let Some(spec) = catalog().program(name) else {
        return false;
    };
    let args: Option<Vec<&str>> = inv.args[1..].iter().map(|a| a.value()).collect();
    let Some(args) = args else {
        // Dynamic arguments may turn into writing options.
        return spec.read_only && spec.writes_with.is_empty() && !inv.appended;
    };
    if inv.appended {
        return spec.read_only && spec.writes_with.is_empty();
    }
    if spec
        .read_only_exact
        .iter()
        .any(|form| form.iter().map(String::as_str).eq(args.iter().copied()))
    {
        return true;
    }
    if writes(spec, &args) {
        return false;
    }
    if spec.read_only {
        return true;
    }
    subcommand(spec, &args).is_some_and(|sub| spec.read_only_subcommands.iter().any(|s| s == sub))
}

/// Whether any argument is one of the program's writing options.
fn writes(spec: &ProgramSpec, args: &[&str]) -> bool {
    args.iter().any(|a| {
        spec.writes_with.iter().any(|w| {
            if a == w {
                return true;
            }
            if w.starts_with("--") {
                return a.starts_with(w.as_str()) && a.as_bytes().get(w.len()) == Some(&b'=');
            }
            // A single-letter option inside a cluster (`-ni`, `-i.bak`).
            w.len() == 2 && a.starts_with('-') && !a.starts_with("--") && a[1..].contains(&w[1..])
        })
    })
}

/// The first argument that is not a global option.
fn subcommand<'a>(spec: &ProgramSpec, args: &[&'a str]) -> Option<&'a str> {
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if !a.starts_with('-') {
            return Some(a);
        }
        i += if spec.subcommand_value_options.iter().any(|o| o == a) {
            2
        } else {
            1
        };
    }
    None
}
