//! Whether a command line is known to modify nothing.

use super::walk::{Facts, Invocation};
use crate::catalog::{catalog, ProgramSpec};
use crate::shell::ast::RedirectOp;

/// True only when every program is known not to modify anything with the
/// arguments given and no redirection writes to a file.
pub fn is_read_only(facts: &Facts) -> bool {
    if facts.too_deep {
        return false;
    }
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
    if inv.unseen.is_some() || inv.writes_file {
        return false;
    }
    if inv.wraps {
        return !wrapper_writes(inv);
    }
    let Some(name) = inv.name.as_deref() else {
        return false;
    };
    if writes_output_operand(crate::catalog::base_name(name), &inv.args) {
        return false;
    }
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

/// Wrappers that write a file of their own: `strace -o FILE`, `ltrace -o`,
/// `time -o` (GNU time), and `flock FILE`, which creates its lock file.
fn wrapper_writes(inv: &Invocation) -> bool {
    let Some(name) = inv.name.as_deref().map(crate::catalog::base_name) else {
        return false;
    };
    let args: Vec<&str> = inv.args[1..].iter().map(|a| a.shape.as_str()).collect();
    match name {
        "strace" | "ltrace" | "time" => args.iter().any(|a| {
            *a == "-o"
                || a.starts_with("--output")
                || (a.starts_with("-o") && a.len() > 2)
                || (name != "time" && a.starts_with('-') && !a.starts_with("--") && a.contains('o'))
        }),
        // `flock FILE CMD` (a number is a descriptor, not a file).
        "flock" => args
            .iter()
            .find(|a| !a.starts_with('-'))
            .is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit())),
        _ => false,
    }
}

/// Programs whose Nth operand is a file they write: `uniq IN OUT`,
/// `xxd IN OUT`.
fn writes_output_operand(name: &str, args: &[super::words::WordInfo]) -> bool {
    let nth = match name {
        "uniq" | "xxd" => 2,
        _ => return false,
    };
    let mut operands = 0;
    let mut options_done = false;
    for a in &args[1..] {
        let s = a.shape.as_str();
        if !options_done && s == "--" {
            options_done = true;
            continue;
        }
        if !options_done && s.starts_with('-') && s.len() > 1 {
            continue;
        }
        operands += 1;
    }
    // Options that take a value (`uniq -f 1`, `xxd -c 16`) may be counted
    // as operands: that errs on the side of "writes".
    operands >= nth
}

/// Whether any argument is one of the program's writing options. A long
/// option may be abbreviated (GNU tools accept any unambiguous prefix:
/// `--in-pl` is `--in-place`), so any prefix of one counts.
fn writes(spec: &ProgramSpec, args: &[&str]) -> bool {
    args.iter().any(|a| {
        spec.writes_with.iter().any(|w| {
            if a == w {
                return true;
            }
            if w.starts_with("--") {
                let given = a.split('=').next().unwrap_or(a);
                return given.len() > 2 && given.starts_with("--") && w.starts_with(given);
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
