//! The fast path for the most common line: one command whose words are
//! ordinary characters and quoted text, separated by blanks
//! (`pytest -q tests/a.py -k "not slow"`).
//!
//! [`split`] accepts only lines in a small grammar where every word is
//! static and means the same in bash and dash, and gives up (`None`) on
//! anything else, which then goes through the full parser. A line it
//! accepts is classified exactly as the full parser would classify it
//! (the tests below check that on generated lines), so this is a shortcut,
//! never a second opinion.

use super::words::WordInfo;
use crate::shell::RESERVED_WORDS;

/// Lines longer than this always take the full parser.
const MAX_LEN: usize = 4096;

/// The words of `line` when it is nothing but words made of
/// [plain bytes](is_plain), `'single-quoted'` text and `"double-quoted"`
/// text without `$`, `` ` ``, `\` or `!`, separated by spaces and tabs, and
/// its first word is a non-empty command name that is not a reserved word
/// and has no `=` (so it cannot be an assignment). `None` otherwise.
pub fn split(line: &str) -> Option<Vec<WordInfo>> {
    let b = line.as_bytes();
    if b.len() > MAX_LEN {
        return None;
    }
    let mut words: Vec<WordInfo> = Vec::with_capacity(8);
    let mut i = 0;
    loop {
        while i < b.len() && is_blank(b[i]) {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        // Most words are one segment: their text is copied once, into a
        // string of the right size.
        let mut first: Option<(usize, usize)> = None;
        let mut word = String::new();
        while i < b.len() && !is_blank(b[i]) {
            let (segment, next) = match b[i] {
                b'\'' => quoted(b, i, b'\'', b"")?,
                b'"' => quoted(b, i, b'"', b"$`\\!")?,
                c if is_plain(c) => {
                    let end = b[i..]
                        .iter()
                        .position(|&c| !is_plain(c))
                        .map_or(b.len(), |n| i + n);
                    ((i, end), end)
                }
                _ => return None,
            };
            // Every byte accepted is ASCII, so these are char boundaries.
            match first {
                None => first = Some(segment),
                Some((start, end)) => {
                    if word.is_empty() {
                        word.push_str(line.get(start..end)?);
                    }
                    word.push_str(line.get(segment.0..segment.1)?);
                }
            }
            i = next;
        }
        let word = match first {
            Some((start, end)) if word.is_empty() => line.get(start..end)?.to_owned(),
            _ => word,
        };
        words.push(WordInfo::literal(word));
    }
    let first = &words.first()?.shape;
    if first.is_empty() || first.contains('=') || RESERVED_WORDS.contains(&first.as_str()) {
        return None;
    }
    // A quoted command word (`if''if`, `'ls'`) is left to the full parser,
    // which decides how it treats quotes in reserved words (found by the
    // property test comparing the two).
    let raw_first = line
        .trim_start_matches([' ', '\t'])
        .split([' ', '\t'])
        .next()
        .unwrap_or("");
    if raw_first.contains(['\'', '"']) {
        return None;
    }
    // Text that bash may evaluate as an array subscript (`test -v
    // 'a[$(id)]'`) is left to the full parser, which looks into it.
    if words
        .iter()
        .any(|w| w.shape.contains('[') && w.shape.contains(['$', '`']))
    {
        return None;
    }
    Some(words)
}

/// The quoted text opening at `start` (with `quote`) when every byte in it
/// is printable ASCII and not in `forbidden`: its range and where it ends.
fn quoted(b: &[u8], start: usize, quote: u8, forbidden: &[u8]) -> Option<((usize, usize), usize)> {
    let len = b[start + 1..].iter().position(|&c| c == quote)?;
    let end = start + 1 + len;
    let inner = &b[start + 1..end];
    inner
        .iter()
        .all(|&c| (b' '..=b'~').contains(&c) && !forbidden.contains(&c))
        .then_some(((start + 1, end), end + 1))
}

/// Space and tab separate words.
fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Bytes that are literal outside quotes in bash and dash wherever they
/// appear in a word (`=` too, outside the first word; `~`, `#`, `{`, `!`
/// and `^` are not, as they matter at some positions).
fn is_plain(c: u8) -> bool {
    PLAIN[usize::from(c)]
}

/// [`is_plain`] as a table, built at compile time.
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'/' | b':' | b',' | b'@' | b'%' | b'+' | b'='
            );
        c += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(line: &str) -> Option<Vec<String>> {
        split(line).map(|w| w.into_iter().map(|w| w.shape).collect())
    }

    #[test]
    fn splits_plain_words_and_quotes() {
        assert_eq!(
            values(r#"pytest -q tests/test_api.py -k "not slow""#).unwrap(),
            ["pytest", "-q", "tests/test_api.py", "-k", "not slow"]
        );
        assert_eq!(
            values("  git\tcommit -m 'fix: a; b' ").unwrap(),
            ["git", "commit", "-m", "fix: a; b"]
        );
        assert_eq!(
            values(r#"a b'c'"d"e '' """#).unwrap(),
            ["a", "bcde", "", ""]
        );
        // A quoted command word is the full parser's to judge.
        assert!(values("if''if").is_none());
        assert!(values("'ls' -la").is_none());
        assert_eq!(values("make CC=gcc").unwrap(), ["make", "CC=gcc"]);
    }

    #[test]
    fn gives_up_on_anything_else() {
        for line in [
            "",
            "   ",
            "ls *.py",
            "echo ~",
            "echo $X",
            "FOO=1 make",
            "'A=1' make",
            "'' x",
            "a && b",
            "a;b",
            "a &",
            "a\nb",
            "a # c",
            "echo {a,b}",
            "if x",
            "! x",
            "time x",
            "echo \"$x\"",
            "echo \"a\\b\"",
            "echo \"a!\"",
            "echo 'unterminated",
            "echo \"unterminated",
            "echo 'tab\there'",
            "echo caf\u{e9}",
            "echo 'caf\u{e9}'",
            "a\\ b",
            "a>b",
            "(a)",
        ] {
            assert_eq!(values(line), None, "{line:?}");
        }
        assert_eq!(values(&format!("echo {}", "a".repeat(MAX_LEN))), None);
    }

    /// Lines built from the characters that matter to the fast path's
    /// decisions: quotes, blanks, expansions, globs, operators.
    fn line() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("a"),
            Just("ls"),
            Just("echo"),
            Just("rm"),
            Just("-rf"),
            Just("/"),
            Just("sudo"),
            Just("bash"),
            Just("-c"),
            Just("x=1"),
            Just("="),
            Just(" "),
            Just("\t"),
            Just("'"),
            Just("\""),
            Just("$"),
            Just("*"),
            Just("~"),
            Just("{"),
            Just("}"),
            Just(","),
            Just("#"),
            Just("!"),
            Just(";"),
            Just("|"),
            Just("&"),
            Just("\\"),
            Just("\n"),
            Just("if"),
            Just("cd"),
            Just("true"),
            Just("printf"),
            Just("%s"),
            Just("curl"),
            Just("."),
            Just(":"),
        ];
        let any_line = proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat());
        // Lines the fast path mostly accepts: words of plain pieces and
        // quoted text with anything inside.
        let quoted = "['\"][a-z $*~{},#!;|&\\=.-]{0,6}['\"]";
        let word = prop_oneof![
            Just("rm".to_string()),
            Just("-rf".to_string()),
            Just("/".to_string()),
            Just("sudo".to_string()),
            Just("bash".to_string()),
            Just("-c".to_string()),
            Just("echo".to_string()),
            Just("curl".to_string()),
            Just("find".to_string()),
            Just("-exec".to_string()),
            Just("xargs".to_string()),
            Just("git".to_string()),
            Just("push".to_string()),
            Just("/etc/passwd".to_string()),
            Just("a=b".to_string()),
            "[a-z0-9./:,@%+=_-]{1,8}",
            quoted,
        ];
        let words_line = proptest::collection::vec(
            (
                proptest::collection::vec(word, 1..3),
                prop_oneof![Just(" "), Just("\t"), Just("  ")],
            ),
            1..7,
        )
        .prop_map(|ws| {
            ws.into_iter()
                .map(|(w, sep)| w.concat() + sep)
                .collect::<String>()
        });
        prop_oneof![any_line, words_line]
    }

    static ACCEPTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the fast path accepts, it classifies exactly as the
        /// full parser does (run by the test below, which also checks that
        /// enough generated lines took the fast path).
        fn fast_path_agrees_with_the_full_parser(line in line()) {
            if split(&line).is_some() {
                ACCEPTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                prop_assert_eq!(super::super::classify(&line), super::super::classify_parsed(&line));
            }
        }
    }

    #[test]
    fn generated_lines_exercise_the_fast_path() {
        fast_path_agrees_with_the_full_parser();
        let accepted = ACCEPTED.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            accepted > 1_000,
            "only {accepted} generated lines took the fast path"
        );
    }

    #[test]
    fn fast_path_agrees_on_the_corpora() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/");
        let mut lines = Vec::new();
        for file in [
            "plain_commands.txt",
            "shell_commands.jsonl",
            "risk_extra.jsonl",
        ] {
            let text = std::fs::read_to_string(format!("{root}{file}")).unwrap();
            for l in text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            {
                if file.ends_with(".jsonl") {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    lines.push(v["command"].as_str().unwrap().to_string());
                } else {
                    lines.push(l.to_string());
                }
            }
        }
        let mut fast = 0;
        for l in &lines {
            if split(l).is_some() {
                fast += 1;
                assert_eq!(
                    super::super::classify(l),
                    super::super::classify_parsed(l),
                    "{l}"
                );
            }
        }
        assert!(
            fast > 100,
            "only {fast} of {} lines took the fast path",
            lines.len()
        );
    }
}
