//! Secret redaction for everything that is logged: credentials in
//! `key=value` pairs and options, `Authorization` headers, URLs with
//! passwords, well-known token formats, and long high-entropy strings.

use crate::secrets::{is_secret_name, may_contain_secret_name};
use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::LazyLock;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// A pattern, compiled the first time a text might contain what it
/// matches: compiling them all costs milliseconds, more than a short-lived
/// CLI spends on everything else, and most texts (`ls`, `make test`) need
/// none of them.
struct Rule {
    pattern: LazyLock<Regex>,
    /// Whether an ASCII text may match (a necessary condition: `false`
    /// only when it cannot). Texts with other characters always go to the
    /// pattern (case-insensitive matching folds some of them to ASCII
    /// letters: `\u{212A}` is `k`).
    may_match: fn(&str) -> bool,
}

fn re(s: &str) -> Regex {
    Regex::new(s).expect("redaction patterns are valid")
}

/// A name in `key=value` pairs and options; whether it names a secret is
/// [`is_secret_name`]'s decision, the same one the environment scrub makes.
const NAME: &str = r"[\w.-]*\w";

/// `text` contains `needle` (lowercase ASCII), ignoring ASCII case.
fn contains_ignore_case(text: &str, needle: &str) -> bool {
    text.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A run of at least 32 characters of `[A-Za-z0-9+_=-]`.
fn has_long_run(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'_' | b'=' | b'-') {
            run += 1;
            if run >= 32 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

static AUTH_HEADER: Rule = Rule {
    pattern: LazyLock::new(|| {
        re(r#"(?i)\b((?:proxy-)?authorization\s*:\s*(?:bearer|basic|token|digest)?\s*)[^\s"']+"#)
    }),
    may_match: |t| contains_ignore_case(t, "authorization"),
};
static URL_PASSWORD: Rule = Rule {
    pattern: LazyLock::new(|| re(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@")),
    may_match: |t| t.contains("://") && t.contains('@'),
};
static KEY_VALUE: Rule = Rule {
    pattern: LazyLock::new(|| {
        re(&format!(
            r#"\b({NAME})(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s"'&;,]+)"#
        ))
    }),
    may_match: may_contain_secret_name,
};
static OPTION: Rule = Rule {
    pattern: LazyLock::new(|| re(&format!(r#"(--({NAME})[\s=])("[^"]*"|'[^']*'|[^\s"']+)"#))),
    may_match: may_contain_secret_name,
};
static KNOWN_TOKEN: Rule = Rule {
    pattern: LazyLock::new(|| {
        re(concat!(
            r"\b(?:sk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{16,}",
            r"|gh[pousr]_[A-Za-z0-9]{20,}",
            r"|github_pat_[A-Za-z0-9_]{20,}",
            r"|A(?:KIA|SIA)[0-9A-Z]{16}",
            r"|xox[abposr]-[A-Za-z0-9-]{10,}",
            r"|glpat-[A-Za-z0-9_-]{20,}",
            r"|AIza[0-9A-Za-z_-]{35})"
        ))
    }),
    may_match: |t| {
        [
            "sk-",
            "gh",
            "github_pat_",
            "AKIA",
            "ASIA",
            "xox",
            "glpat-",
            "AIza",
        ]
        .iter()
        .any(|p| t.contains(p))
    },
};
static LONG_TOKEN: Rule = Rule {
    pattern: LazyLock::new(|| re(r"[A-Za-z0-9+_=-]{32,}")),
    may_match: has_long_run,
};

/// Returns `text` with secrets replaced by [`REDACTED`]; borrows when there
/// is nothing to hide.
pub fn redact(text: &str) -> Cow<'_, str> {
    redact_with(text, true)
}

/// [`redact`], skipping patterns that cannot match when `prefilter`.
fn redact_with(text: &str, prefilter: bool) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    let skip =
        |out: &Cow<'_, str>, rule: &Rule| prefilter && out.is_ascii() && !(rule.may_match)(out);
    let apply = |out: &mut Cow<'_, str>, rule: &Rule, f: &dyn Fn(&Captures) -> String| {
        if skip(out, rule) {
            return;
        }
        let re = &*rule.pattern;
        if re.is_match(out) {
            let replaced = re.replace_all(out, |c: &Captures| f(c)).into_owned();
            if replaced != **out {
                *out = Cow::Owned(replaced);
            }
        }
    };
    apply(&mut out, &AUTH_HEADER, &|c| format!("{}{REDACTED}", &c[1]));
    apply(&mut out, &URL_PASSWORD, &|c| {
        format!("{}{REDACTED}@", &c[1])
    });
    for (rule, name_group) in [(&KEY_VALUE, 1), (&OPTION, 2)] {
        if skip(&out, rule) {
            continue;
        }
        if let Cow::Owned(replaced) = redact_named(&out, &rule.pattern, name_group) {
            out = Cow::Owned(replaced);
        }
    }
    apply(&mut out, &KNOWN_TOKEN, &|_| REDACTED.to_string());
    apply(&mut out, &LONG_TOKEN, &|c| {
        if looks_random(&c[0]) {
            REDACTED.to_string()
        } else {
            c[0].to_string()
        }
    });
    out
}

/// Replaces the value (the last group) of every match of `re` whose name
/// (group `name_group`) names a secret. A match whose name is not a secret
/// is not consumed past its name and separator, so a secret later in its
/// value (`https://h?api_key=v`) is still found.
fn redact_named<'t>(text: &'t str, re: &Regex, name_group: usize) -> Cow<'t, str> {
    let mut out = String::new();
    let (mut copied, mut at) = (0, 0);
    while at <= text.len() {
        let Some(c) = re.captures_at(text, at) else {
            break;
        };
        let value = c.get(c.len() - 1).expect("the value group always matches");
        if is_secret_name(&c[name_group]) {
            out.push_str(&text[copied..value.start()]);
            out.push_str(REDACTED);
            copied = value.end();
            at = value.end().max(next_char(text, at));
        } else {
            // Go on from the value's start (a secret may be inside it).
            at = value.start().max(next_char(text, at));
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The byte offset of the character after the one at `at`.
fn next_char(text: &str, at: usize) -> usize {
    text[at..]
        .chars()
        .next()
        .map_or(at + 1, |c| at + c.len_utf8())
}

/// A long run of token characters that mixes letters and digits and has
/// high Shannon entropy (a key), unlike words or paths.
fn looks_random(s: &str) -> bool {
    if s.contains(REDACTED.trim_matches(['[', ']'])) {
        return false;
    }
    let has_digit = s.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = s.bytes().any(|b| b.is_ascii_alphabetic());
    has_digit && has_alpha && entropy(s) >= 3.5
}

/// Shannon entropy in bits per byte.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Skipping the patterns a text cannot match changes nothing.
        #[test]
        fn the_prefilters_only_skip_patterns_that_cannot_match(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "api_KEY", "apikey", "Token", "PASSWD", "pwd", "secret", "credentials",
                "private-key", "access_key", "--password", "Authorization", "proxy-authorization",
                ": Bearer ", "https://", "u:", "@", "host", "/", "sk-", "ant-x-", "ghp_", "github_pat_",
                "AKIA", "ASIA", "xoxb-", "glpat-", "AIza", "abcdefghij", "0123456789", "ABCDEFGH",
                "=", ":", " ", "'", "\"", "&", ";", ",", "-", "_", "+", "\u{212A}ey", "ſecret",
            ]), 0..14)
        ) {
            let text: String = parts.concat();
            prop_assert_eq!(redact_with(&text, true), redact_with(&text, false));
        }
    }

    #[test]
    fn redacts_real_looking_secrets() {
        let cases = [
            (
                "curl https://api.x.io?api_key=9f8e7d6c5b4a&q=1",
                "api_key=[REDACTED]&q=1",
            ),
            ("mysql --password=hunter2 db", "--password=[REDACTED] db"),
            ("login --token abc123", "--token [REDACTED]"),
            (
                "export GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",
                "GITHUB_TOKEN=[REDACTED]",
            ),
            (
                "DB_PASSWORD='s3cr3t pass' ./run",
                "DB_PASSWORD=[REDACTED] ./run",
            ),
            (
                "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc' x",
                "Authorization: Bearer [REDACTED]'",
            ),
            (
                "git clone https://user:pa55w0rd@github.com/o/r",
                "https://user:[REDACTED]@github.com/o/r",
            ),
            ("echo sk-proj-AbCdEfGhIjKlMnOpQrStUvWx", "echo [REDACTED]"),
            (
                "echo sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx",
                "echo [REDACTED]",
            ),
            (
                "echo github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
                "echo [REDACTED]",
            ),
            (
                "aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE",
                "aws_access_key_id [REDACTED]",
            ),
            ("slack xoxb-123456789012-abcdefghijkl", "slack [REDACTED]"),
            (
                "echo Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo",
                "echo [REDACTED]",
            ),
            ("client_secret: 'abc'", "client_secret: [REDACTED]"),
        ];
        for (input, expected) in cases {
            let out = redact(input);
            assert!(out.contains(expected), "{input} -> {out}");
            assert!(out.contains(REDACTED), "{input} -> {out}");
        }
    }

    #[test]
    fn leaves_ordinary_commands_alone() {
        for cmd in [
            "pytest -q tests/test_api.py -k \"not slow\"",
            "git commit -m 'fix: token parsing in the lexer'",
            "ls /usr/lib/python3.11/site-packages/some_package_name/submodule",
            "cargo build --release --target x86_64-unknown-linux-gnu",
            "npm run build-and-test-everything-in-the-monorepo-now",
        ] {
            assert!(
                matches!(redact(cmd), Cow::Borrowed(_)),
                "{cmd} -> {}",
                redact(cmd)
            );
        }
    }

    #[test]
    fn entropy_separates_keys_from_words() {
        assert!(entropy("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") < 1.0);
        assert!(entropy("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo") > 4.0);
    }
}

#[cfg(test)]
mod one_definition {
    use super::*;
    use crate::exec::{EnvConfig, SECRET_PATTERNS};
    use std::collections::BTreeMap;

    /// Every name the environment scrub withholds has its value redacted
    /// in the audit text, in each spelling a command line uses.
    #[test]
    fn what_the_environment_hides_the_audit_does_not_print() {
        let names = [
            "OPENAI_API_KEY",
            "GITHUB_TOKEN",
            "DB_PASSWORD",
            "MY_PASSWD",
            "DB_PWD",
            "GCP_CREDENTIALS",
            "SSH_PRIVATE_KEY",
            "S3_ACCESS_KEY",
            "GITHUB_AUTH",
            "FLASK_SESSION_KEY",
            "DATABASE_URL",
            "APP_DATABASE_URL",
            "SENTRY_DSN",
            "REDIS_URL",
            "MONGODB_URI",
            "AWS_REGION",
            "AZURE_TENANT",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "SSH_AUTH_SOCK",
            "CLIENT_SECRET",
        ];
        let parent: BTreeMap<String, String> = names
            .iter()
            .map(|n| (n.to_string(), "v".to_string()))
            .collect();
        let scrub = EnvConfig {
            inherit: vec!["*".into()],
            allow_secrets: Vec::new(),
        };
        let env = scrub.build(parent, "/h", &BTreeMap::new());
        for name in names {
            assert!(!env.contains_key(name), "the scrub passes {name}");
            for text in [
                format!("{name}=plain-value-1 ./run"),
                format!("export {}=plain-value-1", name.to_lowercase()),
                format!(
                    "tool --{}=plain-value-1",
                    name.to_lowercase().replace('_', "-")
                ),
                format!("{name}: plain-value-1"),
            ] {
                let out = redact(&text);
                assert!(!out.contains("plain-value-1"), "{text} -> {out}");
            }
        }
        assert!(SECRET_PATTERNS.len() >= 20);
    }

    #[test]
    fn a_secret_inside_another_value_is_found() {
        let out = redact("curl https://h.io/x?a=1&api_key=plain-value-1 -o out");
        assert!(!out.contains("plain-value-1"), "{out}");
        assert!(out.contains("-o out"), "{out}");
    }
}
