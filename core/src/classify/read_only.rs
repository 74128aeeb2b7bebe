//! Whether a command line is known to modify nothing.
//!
//! An allowlist judgement: a catalogued read-only program is read-only only
//! when every option it is given is on its list in the catalog
//! (`[options.NAME]` in `core/catalog/programs.toml`). An option not on the
//! list, an option that writes a file, runs a program or reads
//! configuration from a named place, and an argument known only at run
//! time that may be an option, make it not read-only, with a reason.

use super::types::{Reason, ReasonCode, Risk};
use super::walk::{Facts, Invocation};
use super::words::WordInfo;
use crate::catalog::{catalog, OptionList};
use crate::shell::ast::RedirectOp;

/// Whether the line is read-only, and the reasons an invocation of a
/// read-only program is not (its options).
pub fn judge(facts: &Facts) -> (bool, Vec<Reason>) {
    let mut reasons = Vec::new();
    if facts.too_deep || facts.invocations.is_empty() {
        return (false, reasons);
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
    let mut all = redirects_ok;
    for inv in &facts.invocations {
        if !invocation_read_only(inv, facts, &mut reasons) {
            all = false;
        }
    }
    (all, reasons)
}

fn invocation_read_only(inv: &Invocation, facts: &Facts, reasons: &mut Vec<Reason>) -> bool {
    // Still judged for the option's own reason (`git --git-dir=X`).
    let hidden = inv.unseen.is_some() || inv.writes_file;
    !hidden && options_read_only(inv, facts, reasons)
        || hidden && {
            options_read_only(inv, facts, reasons);
            false
        }
}

fn options_read_only(inv: &Invocation, facts: &Facts, reasons: &mut Vec<Reason>) -> bool {
    if inv.wraps {
        return !wrapper_writes(inv);
    }
    let Some(name) = inv.name.as_deref() else {
        return false;
    };
    if facts.functions.contains(name) {
        return false;
    }
    let c = catalog();
    if !c.program(name).is_some_and(|p| p.read_only) {
        return false;
    }
    let Some(list) = c.options(name) else {
        return false;
    };
    // Paths that `find -exec` substitutes for `{}` start with a starting
    // point (or `./`), never with `-`; anything else appended (`xargs`)
    // may be an option.
    let from_find = inv.via.last().is_some_and(|v| v.starts_with("find -"));
    if inv.appended && !from_find && !list.operands_only {
        reasons.push(Reason {
            code: ReasonCode::OptionNotKnownReadOnly,
            risk: Risk::Low,
            message: format!(
                "`{name}`: arguments appended at run time may be options it is not read-only with"
            ),
        });
        return false;
    }
    let skip_exec = crate::catalog::base_name(name) == "find";
    let verdict = check(name, list, &inv.args[1..], skip_exec);
    // An interpreter's options other than `--version` run code: another
    // mode, judged by the other rules.
    let verdict = match verdict {
        Err(Some(_)) if c.has_tag(name, "interpreter") => Err(None),
        v => v,
    };
    match verdict {
        Ok(()) => true,
        Err(Some((code, risk, message))) => {
            reasons.push(Reason {
                code,
                risk,
                message,
            });
            false
        }
        Err(None) => false,
    }
}

/// `Err(None)`: not read-only, but not because of an option (another
/// mode of the program, such as `git commit`), so no reason is given.
type Verdict = Result<(), Option<(ReasonCode, Risk, String)>>;

/// What the catalog says about one option.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Flag,
    Value,
    Optional,
    Runs,
    Writes,
    Config,
}

fn kind_of(list: &OptionList, opt: &str) -> Option<Kind> {
    Some(match list.list_of(opt)? {
        0 => Kind::Runs,
        1 => Kind::Writes,
        2 => Kind::Config,
        3 => Kind::Flag,
        4 => Kind::Value,
        _ => Kind::Optional,
    })
}

/// A long option as the program resolves it: exact, or the one listed
/// option it abbreviates (GNU getopt_long accepts any unambiguous
/// prefix). When a prefix matches several, the worst of them counts.
fn resolve_long<'a>(list: &'a OptionList, given: &'a str) -> Option<(Kind, &'a str)> {
    let all = || list.lists().into_iter().flatten();
    if let Some(k) = kind_of(list, given) {
        return Some((k, given));
    }
    if given.len() <= 2 {
        return None;
    }
    let mut found: Option<(Kind, &str)> = None;
    for o in all().filter(|o| o.starts_with("--") && o.starts_with(given)) {
        let k = kind_of(list, o)?;
        match found {
            None => found = Some((k, o)),
            // Ambiguous among harmless options: the program refuses it.
            Some((fk, _)) if matches!(fk, Kind::Flag | Kind::Value | Kind::Optional) => {
                if !matches!(k, Kind::Flag | Kind::Value | Kind::Optional) {
                    found = Some((k, o));
                } else if fk != k {
                    return None;
                }
            }
            Some(_) => {}
        }
    }
    found
}

fn bad(name: &str, opt: &str, kind: Kind, value: Option<&str>) -> Verdict {
    let shown = match value {
        Some(v) if opt.starts_with("--") => format!("{opt}={v}"),
        Some(v) => format!("{opt}{v}"),
        None => opt.to_string(),
    };
    Err(Some(match kind {
        Kind::Runs => (
            ReasonCode::OptionRunsProgram,
            Risk::Medium,
            format!("`{name} {shown}` runs another program"),
        ),
        Kind::Writes => (
            ReasonCode::OptionWritesFile,
            Risk::Low,
            format!("`{name} {shown}` writes or deletes files"),
        ),
        Kind::Config => (
            ReasonCode::OptionReadsConfig,
            Risk::Low,
            format!(
                "`{name} {shown}` reads configuration or another repository from a named place"
            ),
        ),
        _ => unknown(name, opt),
    }))
}

fn unknown(name: &str, opt: &str) -> (ReasonCode, Risk, String) {
    (
        ReasonCode::OptionNotKnownReadOnly,
        Risk::Low,
        format!("`{name}`: `{opt}` is not an option the catalog knows it to be read-only with"),
    )
}

/// Whether a word known only at run time can only be one operand: it does
/// not start with `-` or with an expansion or pattern that may produce one,
/// and no parameter or command substitution in it may split into words.
fn safe_dynamic_operand(w: &WordInfo) -> bool {
    if w.home_rest.is_some() && !w.shape.contains('`') && w.shape.matches('$').count() <= 1 {
        return true;
    }
    !w.shape.contains(['$', '`'])
        && w.shape
            .chars()
            .next()
            .is_some_and(|c| !matches!(c, '-' | '*' | '?' | '[' | '{' | '~'))
}

/// Checks the arguments (after the program name) against the list.
fn check(name: &str, list: &OptionList, args: &[WordInfo], skip_exec: bool) -> Verdict {
    if list.operands_only {
        return Ok(());
    }
    let mut operands = 0usize;
    let mut options_done = false;
    let mut i = 0;
    while i < args.len() {
        let w = &args[i];
        i += 1;
        // `--include=*.rs`: a pattern can only match names that start with
        // `--include=`, so the option is known.
        let glob_value =
            (!w.is_static && w.shape.starts_with("--") && !w.shape.contains(['$', '`']))
                .then(|| w.shape.split_once('='))
                .flatten()
                .filter(|(o, _)| !o.contains(['*', '?', '[', '{', '~']))
                .map(|_| w.shape.as_str());
        let Some(a) = w.value().or(glob_value) else {
            if (options_done || safe_dynamic_operand(w))
                && list.subcommands.is_empty()
                && list.operand_prefix.is_none()
            {
                operands += 1;
                continue;
            }
            return Err(Some((
                ReasonCode::OptionNotKnownReadOnly,
                Risk::Low,
                format!(
                    "`{name}`: `{}` is known only at run time and may be an option it is not read-only with",
                    w.shape
                ),
            )));
        };
        if skip_exec && matches!(a, "-exec" | "-execdir" | "-ok" | "-okdir") {
            // The command is judged as a program of its own.
            while i < args.len() {
                let v = args[i].value();
                i += 1;
                if v == Some(";") || (v == Some("+") && args[i - 2].value() == Some("{}")) {
                    break;
                }
            }
            continue;
        }
        if list.plus_commands && a.starts_with('+') {
            return Err(Some(unknown(name, a)));
        }
        if options_done || a == "-" || !a.starts_with('-') {
            if !list.subcommands.is_empty() {
                return match list.subcommands.get(a) {
                    Some(sub) => check(&format!("{name} {a}"), sub, &args[i..], false),
                    // Another mode of the program (`git commit`): not
                    // read-only, and nothing to explain.
                    None => Err(None),
                };
            }
            operands += 1;
            if let Some(prefix) = list.operand_prefix.as_deref() {
                if !a.starts_with(prefix) {
                    return Err(Some((
                        ReasonCode::OptionNotKnownReadOnly,
                        Risk::Low,
                        format!("`{name}`: an operand not starting with `{prefix}` (`{a}`) changes state"),
                    )));
                }
            }
            match list.max_operands {
                // `python3 script.py`: another mode, judged elsewhere.
                Some(0) if !name.contains(' ') => return Err(None),
                Some(m) if operands > m => {
                    return Err(Some((
                        ReasonCode::OptionWritesFile,
                        Risk::Low,
                        format!("`{name}` with more than {m} operands writes (`{a}`)"),
                    )))
                }
                _ => {}
            }
            continue;
        }
        if a == "--" {
            options_done = true;
            continue;
        }
        // A whole word listed as it is: `--all`, find's `-name`.
        let (given, inline) = match a.split_once('=') {
            Some((g, v)) if a.starts_with("--") => (g, Some(v)),
            _ => (a, None),
        };
        let whole = if a.starts_with("--") {
            resolve_long(list, given)
        } else {
            kind_of(list, a).map(|k| (k, a))
        };
        if let Some((kind, canonical)) = whole {
            match kind {
                Kind::Flag if inline.is_some() => return Err(Some(unknown(name, a))),
                Kind::Flag | Kind::Optional => {}
                Kind::Value => {
                    if inline.is_none() {
                        i += 1;
                    }
                }
                _ => return bad(name, canonical, kind, inline),
            }
            continue;
        }
        if a.starts_with("--") {
            return Err(Some(unknown(name, a)));
        }
        if list.numeric && a[1..].bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        // A cluster of one-letter options: `-la`, `-n5`, `-C3`.
        let body = &a[1..];
        for (at, ch) in body.char_indices() {
            let opt = format!("-{ch}");
            let rest = &body[at + ch.len_utf8()..];
            match kind_of(list, &opt) {
                Some(Kind::Flag) => {}
                Some(Kind::Value) => {
                    if rest.is_empty() {
                        i += 1;
                    }
                    break;
                }
                Some(Kind::Optional) => break,
                Some(kind) => {
                    return bad(name, &opt, kind, Some(rest).filter(|r| !r.is_empty()));
                }
                None => {
                    if list.numeric && ch.is_ascii_digit() {
                        continue;
                    }
                    return Err(Some(unknown(name, &opt)));
                }
            }
        }
    }
    if list.subcommand_required && !list.subcommands.is_empty() {
        // `git stash` alone pushes: another mode of the program.
        return Err(None);
    }
    Ok(())
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

/// The option allowlists as a Markdown table, for `docs/catalog.md`.
#[cfg(test)]
pub fn render_allowlists() -> String {
    fn list_md(v: &[String]) -> String {
        let mut v: Vec<&str> = v.iter().map(String::as_str).collect();
        v.sort_unstable();
        v.iter()
            .map(|o| format!("`{o}`"))
            .collect::<Vec<_>>()
            .join(" ")
    }
    fn row(out: &mut String, name: &str, l: &OptionList) {
        let mut notes = Vec::new();
        if l.operands_only {
            notes.push("every argument is an operand".to_string());
        }
        if l.numeric {
            notes.push("`-NUM`".to_string());
        }
        if l.plus_commands {
            notes.push("`+CMD` is not read-only".to_string());
        }
        if let Some(p) = &l.operand_prefix {
            notes.push(format!("operands start with `{p}`"));
        }
        if let Some(m) = l.max_operands {
            notes.push(format!("at most {m} operands"));
        }
        if !l.optional.is_empty() {
            notes.push(format!("optional `=VALUE`: {}", list_md(&l.optional)));
        }
        if !l.runs_program.is_empty() {
            notes.push(format!("runs a program: {}", list_md(&l.runs_program)));
        }
        if !l.writes.is_empty() {
            notes.push(format!("writes: {}", list_md(&l.writes)));
        }
        if !l.config.is_empty() {
            notes.push(format!("reads config: {}", list_md(&l.config)));
        }
        if l.subcommand_required {
            notes.push("needs a read-only subcommand".to_string());
        }
        let name = name.replace('|', "\\|");
        out.push_str(&format!(
            "| `{name}` | {} | {} | {} |\n",
            list_md(&l.flags),
            list_md(&l.values),
            notes.join("; ")
        ));
        let mut subs: Vec<_> = l.subcommands.iter().collect();
        subs.sort_by(|a, b| a.0.cmp(b.0));
        for (s, sl) in subs {
            row(out, &format!("{name} {s}"), sl);
        }
    }
    let c = catalog();
    let mut out =
        String::from("| program | flags | options with a value | notes |\n|---|---|---|---|\n");
    // The table's names are sorted.
    for (n, list) in &c.options {
        row(&mut out, n, list);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_read_only_program_has_an_allowlist_and_back() {
        let c = catalog();
        for (name, spec) in &c.programs {
            if spec.read_only {
                assert!(
                    c.options.contains_key(name),
                    "{name} has no [options.{name}]"
                );
            }
        }
        for name in c.options.keys() {
            assert!(
                c.programs.get(name).is_some_and(|p| p.read_only),
                "[options.{name}] belongs to no read-only program"
            );
        }
    }

    /// A listed option is in one category only, and short options are one
    /// letter (or a whole word like find's `-name`, matched exactly).
    #[test]
    fn allowlists_are_consistent() {
        fn walk(name: &str, l: &OptionList) {
            let all = [
                &l.flags,
                &l.values,
                &l.optional,
                &l.runs_program,
                &l.writes,
                &l.config,
            ];
            let mut seen = std::collections::HashSet::new();
            for list in all {
                for o in list {
                    assert!(o.starts_with('-') && o.len() >= 2, "{name}: {o}");
                    assert!(seen.insert(o.as_str()), "{name}: {o} listed twice");
                }
            }
            for (s, sl) in &l.subcommands {
                walk(&format!("{name} {s}"), sl);
            }
        }
        for (name, l) in &catalog().options {
            walk(name, l);
        }
    }

    const BEGIN: &str = "<!-- allowlists:begin (generated: SANDBOXCORE_BLESS_DOCS=1 cargo test -p sandboxcore --lib allowlists) -->\n";
    const END: &str = "<!-- allowlists:end -->";

    /// `docs/catalog.md` lists every allowlist as the catalog has it.
    #[test]
    fn docs_list_the_allowlists() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/catalog.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let start = doc
            .find(BEGIN)
            .expect("docs/catalog.md has the begin marker")
            + BEGIN.len();
        let end = doc.find(END).expect("docs/catalog.md has the end marker");
        let table = render_allowlists();
        if std::env::var_os("SANDBOXCORE_BLESS_DOCS").is_some() {
            let new = format!("{}{}{}", &doc[..start], table, &doc[end..]);
            std::fs::write(path, new).unwrap();
            return;
        }
        assert!(
            doc[start..end] == table,
            "docs/catalog.md is out of date: run SANDBOXCORE_BLESS_DOCS=1 cargo test -p sandboxcore --lib allowlists"
        );
    }
}
