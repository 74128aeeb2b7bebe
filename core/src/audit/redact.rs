//! Secret redaction for everything that is logged: credentials in
//! `key=value` pairs and options, `Authorization` headers, URLs with
//! passwords, well-known token formats, and long high-entropy strings.

use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::LazyLock;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

struct Rules {
    key_value: Regex,
    option: Regex,
    auth_header: Regex,
    url_password: Regex,
    known_token: Regex,
    long_token: Regex,
}

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let re = |s: &str| Regex::new(s).expect("redaction patterns are valid");
    let names = r"[a-z0-9_.-]*(?:api[_-]?key|apikey|token|password|passwd|pwd|secret|credentials?|private[_-]?key|access[_-]?key)[a-z0-9_]*";
    Rules {
        key_value: re(&format!(
            r#"(?i)\b({names})(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s"'&;,]+)"#
        )),
        option: re(&format!(
            r#"(?i)(--{names}[\s=])("[^"]*"|'[^']*'|[^\s"']+)"#
        )),
        auth_header: re(
            r#"(?i)\b((?:proxy-)?authorization\s*:\s*(?:bearer|basic|token|digest)?\s*)[^\s"']+"#,
        ),
        url_password: re(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@"),
        known_token: re(concat!(
            r"\b(?:sk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{16,}",
            r"|gh[pousr]_[A-Za-z0-9]{20,}",
            r"|github_pat_[A-Za-z0-9_]{20,}",
            r"|A(?:KIA|SIA)[0-9A-Z]{16}",
            r"|xox[abposr]-[A-Za-z0-9-]{10,}",
            r"|glpat-[A-Za-z0-9_-]{20,}",
            r"|AIza[0-9A-Za-z_-]{35})"
        )),
        long_token: re(r"[A-Za-z0-9+_=-]{32,}"),
    }
});

/// Returns `text` with secrets replaced by [`REDACTED`]; borrows when there
/// is nothing to hide.
pub fn redact(text: &str) -> Cow<'_, str> {
    let r = &*RULES;
    let mut out = Cow::Borrowed(text);
    let mut apply = |re: &Regex, f: &dyn Fn(&Captures) -> String| {
        if re.is_match(&out) {
            let replaced = re.replace_all(&out, |c: &Captures| f(c)).into_owned();
            if replaced != out {
                out = Cow::Owned(replaced);
            }
        }
    };
    apply(&r.auth_header, &|c| format!("{}{REDACTED}", &c[1]));
    apply(&r.url_password, &|c| format!("{}{REDACTED}@", &c[1]));
    apply(&r.key_value, &|c| format!("{}{}{REDACTED}", &c[1], &c[2]));
    apply(&r.option, &|c| format!("{}{REDACTED}", &c[1]));
    apply(&r.known_token, &|_| REDACTED.to_string());
    apply(&r.long_token, &|c| {
        if looks_random(&c[0]) {
            REDACTED.to_string()
        } else {
            c[0].to_string()
        }
    });
    out
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
