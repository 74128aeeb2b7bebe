//! Seeing through programs that run other programs: wrappers (`sudo`,
//! `env`, `timeout`, ...), `xargs`, `find -exec`, and shells, interpreters
//! and `eval` with the program text they are given.

use super::words::WordInfo;
use crate::catalog::{catalog, WrapperSpec};

/// What a program does with the rest of its command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Layer {
    /// An ordinary program.
    Program,
    /// A wrapper: the command starts at this index.
    Wrapper {
        /// Index of the command word.
        command_at: usize,
    },
    /// Like a wrapper, but arguments are appended at run time (`xargs`).
    Appending {
        /// Index of the command word (may be past the end).
        command_at: usize,
        /// The command run when none is given.
        default_command: &'static str,
    },
    /// `find` with `-exec`-like actions: the word ranges of each command.
    FindExec(Vec<(usize, usize)>),
    /// A shell, interpreter or `eval`, and where its program comes from.
    Script(Script),
}

/// Where a shell or interpreter gets its program text.
#[derive(Debug, PartialEq, Eq)]
pub enum Script {
    /// Text known statically.
    Text(String),
    /// Text known only at run time.
    Dynamic,
    /// Standard input.
    Stdin,
    /// A file, or code in a language other than shell.
    Other,
}

/// Decides what kind of layer `args` is.
pub fn layer(name: Option<&str>, args: &[WordInfo]) -> Layer {
    let Some(name) = name else {
        return Layer::Program;
    };
    let c = catalog();
    if name == "env" {
        if let Some(script) = env_split_string(args) {
            return Layer::Script(script);
        }
    }
    if let Some(spec) = c.wrappers.get(name) {
        return wrapper(spec, args);
    }
    match name {
        "xargs" => xargs(args),
        "find" => find(args),
        "eval" => Layer::Script(joined(&args[1..])),
        "source" | "." => Layer::Script(match args.get(1) {
            None => Script::Other,
            Some(a) if a.value().is_none() => Script::Dynamic,
            Some(_) => Script::Other,
        }),
        "su" => su(args),
        _ if c.has_tag(name, "shell") => Layer::Script(shell(args)),
        _ if c.has_tag(name, "interpreter") => Layer::Script(interpreter(args)),
        _ => Layer::Program,
    }
}

/// `env -S STRING ARGS...` (`--split-string`) runs STRING split into words,
/// then ARGS: the command, as a script (env's splitting honours quotes and
/// backslashes much as a shell does).
fn env_split_string(args: &[WordInfo]) -> Option<Script> {
    for (i, a) in args.iter().enumerate().skip(1) {
        let w = a.value()?;
        let (value, next) = if w == "-S" || w == "--split-string" {
            (args.get(i + 1).and_then(WordInfo::value), i + 2)
        } else if let Some(v) = w.strip_prefix("--split-string=") {
            (Some(v), i + 1)
        } else if let Some(v) = w.strip_prefix("-S") {
            (Some(v), i + 1)
        } else if w.starts_with('-') {
            continue;
        } else {
            return None;
        };
        let Some(value) = value else {
            return Some(Script::Dynamic);
        };
        let rest: Option<Vec<&str>> = args
            .get(next..)
            .unwrap_or(&[])
            .iter()
            .map(|a| a.value())
            .collect();
        return Some(match rest {
            Some(rest) => Script::Text(
                std::iter::once(value)
                    .chain(rest)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            None => Script::Dynamic,
        });
    }
    None
}

/// Joins static words with spaces (`eval a b` runs `a b`).
fn joined(words: &[WordInfo]) -> Script {
    let parts: Option<Vec<&str>> = words.iter().map(|w| w.value()).collect();
    match parts {
        Some(p) => Script::Text(p.join(" ")),
        None => Script::Dynamic,
    }
}

fn wrapper(spec: &WrapperSpec, args: &[WordInfo]) -> Layer {
    let has = |list: &[String], o: &str| list.iter().any(|x| x == o);
    let mut i = 1;
    let mut positionals = 0;
    while i < args.len() {
        let Some(v) = args[i].value() else {
            break;
        };
        if v == "--" {
            i += 1;
            break;
        }
        if spec.assignments && is_env_assignment(v) {
            i += 1;
            continue;
        }
        if let Some(long) = v.strip_prefix("--") {
            let (opt, attached) = match long.split_once('=') {
                Some((o, _)) => (o, true),
                None => (long, false),
            };
            let opt = format!("--{opt}");
            if has(&spec.no_command_options, &opt) {
                return Layer::Program;
            }
            i += if has(&spec.value_options, &opt) && !attached {
                2
            } else {
                1
            };
            continue;
        }
        if v.len() > 1 && v.starts_with('-') {
            if spec.numeric_options && v[1..].bytes().all(|b| b.is_ascii_digit()) {
                i += 1;
                continue;
            }
            let mut step = 1;
            for (k, ch) in v[1..].char_indices() {
                let opt = format!("-{ch}");
                if has(&spec.no_command_options, &opt) {
                    return Layer::Program;
                }
                if has(&spec.value_options, &opt) {
                    // The value is the rest of this word, or the next word.
                    if k + ch.len_utf8() == v.len() - 1 {
                        step = 2;
                    }
                    break;
                }
            }
            i += step;
            continue;
        }
        if positionals < spec.positionals {
            positionals += 1;
            i += 1;
            continue;
        }
        break;
    }
    if spec.joined_shell_command {
        return if i < args.len() {
            Layer::Script(joined(&args[i..]))
        } else {
            Layer::Program
        };
    }
    if i < args.len() {
        Layer::Wrapper { command_at: i }
    } else {
        Layer::Program
    }
}

fn is_env_assignment(v: &str) -> bool {
    match v.split_once('=') {
        Some((name, _)) => {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }
        None => false,
    }
}

fn xargs(args: &[WordInfo]) -> Layer {
    const VALUE: &[&str] = &[
        "-a",
        "--arg-file",
        "-E",
        "-I",
        "-L",
        "-n",
        "--max-args",
        "-P",
        "--max-procs",
        "-s",
        "--max-chars",
        "-d",
        "--delimiter",
        "--process-slot-var",
    ];
    let mut i = 1;
    while i < args.len() {
        let Some(v) = args[i].value() else {
            break;
        };
        if v == "--" {
            i += 1;
            break;
        }
        if !v.starts_with('-') || v == "-" {
            break;
        }
        let takes_value = VALUE.contains(&v) && !v.contains('=');
        i += if takes_value { 2 } else { 1 };
    }
    Layer::Appending {
        command_at: i.min(args.len()),
        default_command: "echo",
    }
}

fn find(args: &[WordInfo]) -> Layer {
    let mut ranges = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let v = args[i].value();
        if matches!(v, Some("-exec" | "-execdir" | "-ok" | "-okdir")) {
            let start = i + 1;
            let mut end = start;
            while end < args.len() {
                match args[end].value() {
                    Some(";") => break,
                    Some("+") if end > start && args[end - 1].value() == Some("{}") => break,
                    _ => end += 1,
                }
            }
            if end > start {
                ranges.push((start, end));
            }
            i = end + 1;
        } else {
            i += 1;
        }
    }
    if ranges.is_empty() {
        Layer::Program
    } else {
        Layer::FindExec(ranges)
    }
}

/// `sh [options] [-c script | file | -s]`.
fn shell(args: &[WordInfo]) -> Script {
    let mut i = 1;
    let mut command = false;
    let mut stdin = false;
    while i < args.len() {
        let Some(v) = args[i].value() else {
            return Script::Dynamic;
        };
        if v == "--" || v == "-" {
            i += 1;
            break;
        }
        if let Some(long) = v.strip_prefix("--") {
            i += if matches!(long, "rcfile" | "init-file") {
                2
            } else {
                1
            };
            continue;
        }
        if v.len() > 1 && (v.starts_with('-') || v.starts_with('+')) {
            let letters = &v[1..];
            command |= letters.contains('c');
            stdin |= letters.contains('s');
            i += if letters.contains('o') || letters.contains('O') {
                2
            } else {
                1
            };
            continue;
        }
        break;
    }
    if command {
        return match args.get(i) {
            Some(w) => match w.value() {
                Some(text) => Script::Text(text.to_string()),
                None => Script::Dynamic,
            },
            None => Script::Other,
        };
    }
    if stdin || i >= args.len() {
        Script::Stdin
    } else {
        Script::Other
    }
}

/// `python`, `perl`, `node`...: inline code or a file is `Other`; no
/// program argument (or `-`) reads the program from stdin.
fn interpreter(args: &[WordInfo]) -> Script {
    for a in &args[1..] {
        let Some(v) = a.value() else {
            return Script::Other;
        };
        if v == "-" {
            return Script::Stdin;
        }
        if !v.starts_with('-') {
            return Script::Other;
        }
        let letters = v.trim_start_matches('-');
        if v.starts_with("--") {
            if matches!(letters, "eval" | "print" | "command") {
                return Script::Other;
            }
            continue;
        }
        if letters.contains(['c', 'e', 'E', 'm', 'r', 'p']) {
            return Script::Other;
        }
    }
    Script::Stdin
}

/// `su [options] [-] [user] [-c command]`.
fn su(args: &[WordInfo]) -> Layer {
    let mut i = 1;
    while i < args.len() {
        let v = args[i].value();
        match v {
            Some("-c") | Some("--command") => {
                return Layer::Script(
                    match args.get(i + 1).map(|w| w.value().map(str::to_string)) {
                        Some(Some(t)) => Script::Text(t),
                        Some(None) => Script::Dynamic,
                        None => Script::Other,
                    },
                );
            }
            Some(s) if s.starts_with("--command=") => {
                return Layer::Script(Script::Text(s["--command=".len()..].to_string()));
            }
            Some("-s") | Some("--shell") | Some("-g") | Some("--group") => i += 2,
            None => return Layer::Script(Script::Dynamic),
            _ => i += 1,
        }
    }
    Layer::Program
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<WordInfo> {
        s.split(' ').map(WordInfo::literal).collect()
    }

    #[test]
    fn sudo_options_are_skipped() {
        let a = words("sudo -u root -E bash");
        assert_eq!(layer(Some("sudo"), &a), Layer::Wrapper { command_at: 4 });
        let a = words("sudo -uroot ls");
        assert_eq!(layer(Some("sudo"), &a), Layer::Wrapper { command_at: 2 });
        let a = words("sudo -l");
        assert_eq!(layer(Some("sudo"), &a), Layer::Program);
        let a = words("sudo --preserve-env bash");
        assert_eq!(layer(Some("sudo"), &a), Layer::Wrapper { command_at: 2 });
    }

    #[test]
    fn env_timeout_nice() {
        let a = words("env -i A=1 B=2 make");
        assert_eq!(layer(Some("env"), &a), Layer::Wrapper { command_at: 4 });
        let a = words("timeout -s KILL 5s make");
        assert_eq!(layer(Some("timeout"), &a), Layer::Wrapper { command_at: 4 });
        let a = words("nice -10 make");
        assert_eq!(layer(Some("nice"), &a), Layer::Wrapper { command_at: 2 });
    }

    #[test]
    fn shells_and_interpreters() {
        let a = words("bash -lc x");
        assert_eq!(
            layer(Some("bash"), &a),
            Layer::Script(Script::Text("x".into()))
        );
        assert_eq!(
            layer(Some("sh"), &words("sh")),
            Layer::Script(Script::Stdin)
        );
        assert_eq!(
            layer(Some("sh"), &words("sh script.sh")),
            Layer::Script(Script::Other)
        );
        assert_eq!(
            layer(Some("python3"), &words("python3 -m json.tool")),
            Layer::Script(Script::Other)
        );
        assert_eq!(
            layer(Some("python3"), &words("python3 -u")),
            Layer::Script(Script::Stdin)
        );
    }

    #[test]
    fn xargs_and_find() {
        let a = words("xargs -0 -n 1 rm -rf");
        assert_eq!(
            layer(Some("xargs"), &a),
            Layer::Appending {
                command_at: 4,
                default_command: "echo"
            }
        );
        let a = words("find . -name x -exec rm {} ;");
        assert_eq!(layer(Some("find"), &a), Layer::FindExec(vec![(5, 7)]));
    }
}
