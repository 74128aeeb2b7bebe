//! What counts as the name of a secret: one definition for the
//! environment scrub (a command never inherits such a variable unless it is
//! listed by name) and for the audit redaction (the value of `NAME=value`,
//! `NAME: value` and `--name value` is replaced), so a name one hides the
//! other cannot print.

use crate::glob::glob_match;

/// Globs (compared with the name upper-cased, `-` and `.` read as `_`) of
/// names that are treated as secrets.
pub const SECRET_PATTERNS: &[&str] = &[
    "*API_KEY*",
    "*APIKEY*",
    "*TOKEN*",
    "*SECRET*",
    "*PASSWORD*",
    "*PASSWD*",
    "*PWD*",
    "*CREDENTIAL*",
    "*PRIVATE_KEY*",
    "*ACCESS_KEY*",
    "*_AUTH",
    "*SESSION_KEY*",
    "DATABASE_URL",
    "*_DATABASE_URL",
    "*_DSN",
    "REDIS_URL",
    "MONGO*_URI",
    "AWS_*",
    "AZURE_*",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "SSH_AUTH_SOCK",
];

/// Names the patterns would match that are not secrets.
const NOT_SECRETS: &[&str] = &["PWD", "OLDPWD"];

/// The name as the patterns see it: upper case (characters whose lower or
/// upper case is an ASCII letter, such as the Kelvin sign, fold to it), with
/// `-` and `.` as `_`.
fn normalize(name: &str) -> String {
    /// The character when `chars` is exactly one ASCII character.
    fn single_ascii(mut chars: impl Iterator<Item = char>) -> Option<char> {
        let first = chars.next()?;
        (chars.next().is_none() && first.is_ascii()).then_some(first)
    }
    name.chars()
        .map(|c| {
            if c.is_ascii() {
                return c.to_ascii_uppercase();
            }
            single_ascii(c.to_lowercase())
                .or_else(|| single_ascii(c.to_uppercase()))
                .map_or(c, |a| a.to_ascii_uppercase())
        })
        .map(|c| if c == '-' || c == '.' { '_' } else { c })
        .collect()
}

/// Whether a variable, key or option name names a secret.
pub fn is_secret_name(name: &str) -> bool {
    let name = normalize(name.trim_start_matches('-'));
    !NOT_SECRETS.contains(&name.as_str()) && SECRET_PATTERNS.iter().any(|p| glob_match(p, &name))
}

/// Whether an ASCII text may contain a secret name (a necessary condition:
/// every pattern's longest run of letters, ignoring case).
pub fn may_contain_secret_name(text: &str) -> bool {
    static NEEDLES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        SECRET_PATTERNS
            .iter()
            .filter_map(|p| {
                p.split(['*', '_'])
                    .max_by_key(|chunk| chunk.len())
                    .map(str::to_ascii_lowercase)
            })
            .collect()
    });
    NEEDLES.iter().any(|n| {
        text.as_bytes()
            .windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in [
            "OPENAI_API_KEY",
            "api-key",
            "github_token",
            "DB_PASSWORD",
            "db.pwd",
            "AWS_REGION",
            "DATABASE_URL",
            "GITHUB_AUTH",
            "session_key",
            "--password",
            "api_\u{212A}ey",
        ] {
            assert!(is_secret_name(n), "{n}");
            assert!(!n.is_ascii() || may_contain_secret_name(n), "{n}");
        }
        for n in [
            "PATH",
            "LANG",
            "TERM",
            "CARGO_HOME",
            "EDITOR",
            "PWD",
            "OLDPWD",
            "fix",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }
}
