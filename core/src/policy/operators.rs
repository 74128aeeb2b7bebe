//! `allowed_shell_operators`: which shell operators and constructs a
//! policy accepts, written as the operator (`&&`, `|`, `>`, `2>&1`, `$()`)
//! or as the construct's name from the classifier (`pipe`, `redirection`).

use crate::{Construct, ConstructKind};

/// The operator spellings and the construct each one allows.
const SPELLINGS: &[(&str, ConstructKind)] = &[
    ("|", ConstructKind::Pipe),
    ("|&", ConstructKind::PipeStderr),
    ("&&", ConstructKind::And),
    ("||", ConstructKind::Or),
    (";", ConstructKind::Sequence),
    ("\\n", ConstructKind::Sequence),
    ("&", ConstructKind::Background),
    ("!", ConstructKind::Negation),
    ("<<", ConstructKind::HereDoc),
    ("<<-", ConstructKind::HereDoc),
    ("<<<", ConstructKind::HereString),
    ("$()", ConstructKind::CommandSubstitution),
    ("`", ConstructKind::CommandSubstitution),
    ("``", ConstructKind::CommandSubstitution),
    ("<()", ConstructKind::ProcessSubstitution),
    (">()", ConstructKind::ProcessSubstitution),
    ("$(())", ConstructKind::Arithmetic),
    ("$", ConstructKind::ParameterExpansion),
    ("${}", ConstructKind::ParameterExpansion),
    ("*", ConstructKind::Glob),
    ("~", ConstructKind::Tilde),
    ("{}", ConstructKind::BraceExpansion),
    ("()", ConstructKind::Subshell),
    ("{ }", ConstructKind::Group),
    ("=", ConstructKind::Assignment),
];

/// The redirection operators (matched against the construct's detail).
const REDIRECTIONS: &[&str] = &[">", ">>", ">|", "<", "<>", "<&", ">&", "&>"];

/// Checks that every entry names an operator or construct; returns the
/// first one that does not.
pub fn validate(allowed: &[String]) -> Result<(), String> {
    for a in allowed {
        let a = a.trim();
        let known = SPELLINGS.iter().any(|(s, _)| *s == a)
            || ConstructKind::ALL.iter().any(|k| k.as_str() == a)
            || is_redirection_spelling(a);
        if !known {
            return Err(format!(
                "`{a}` is not a shell operator or construct name \
                 (examples: &&, ||, |, ;, >, 2>&1, $(), pipe, redirection)"
            ));
        }
    }
    Ok(())
}

/// Whether the construct is allowed by one of the entries.
pub fn allows(allowed: &[String], c: &Construct) -> bool {
    allowed.iter().any(|a| {
        let a = a.trim();
        if a == c.kind.as_str() || SPELLINGS.iter().any(|(s, k)| *s == a && *k == c.kind) {
            return true;
        }
        c.kind == ConstructKind::Redirection && redirection_allows(a, c.detail.as_deref())
    })
}

/// The operator as written in the policy for a construct, for messages.
pub fn spelling(c: &Construct) -> String {
    if c.kind == ConstructKind::Redirection {
        if let Some(d) = &c.detail {
            return d.clone();
        }
    }
    // Not an operator: say what it is, in a shell user's words.
    if c.kind == ConstructKind::Builtin {
        return match &c.detail {
            Some(name) => format!("the shell builtin {name}"),
            None => "a shell builtin".into(),
        };
    }
    SPELLINGS
        .iter()
        .find(|(_, k)| *k == c.kind)
        .map_or_else(|| c.kind.as_str().to_string(), |(s, _)| s.to_string())
}

/// A redirection detail is `[fd]op target` (`2>& 1`, `> out.txt`). An
/// entry allows it when it is the operator (any descriptor), the
/// descriptor and operator (`2>`), or the whole redirection (`2>&1`).
fn redirection_allows(entry: &str, detail: Option<&str>) -> bool {
    let Some(detail) = detail else { return false };
    let (op_with_fd, target) = detail.split_once(' ').unwrap_or((detail, ""));
    let op = op_with_fd.trim_start_matches(|c: char| c.is_ascii_digit());
    entry == op || entry == op_with_fd || entry.replace(' ', "") == format!("{op_with_fd}{target}")
}

fn is_redirection_spelling(a: &str) -> bool {
    let no_fd = a.trim_start_matches(|c: char| c.is_ascii_digit());
    REDIRECTIONS.iter().any(|r| {
        no_fd == *r
            || no_fd
                .strip_prefix(r)
                .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '-'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(entries: &[&str], cmd: &str) -> bool {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        validate(&entries).unwrap();
        crate::classify(cmd)
            .constructs
            .iter()
            .all(|c| allows(&entries, c))
    }

    #[test]
    fn operators_by_spelling_or_name() {
        assert!(allowed(&["&&"], "npm run build && npm test"));
        assert!(!allowed(&["&&"], "npm run build || npm test"));
        assert!(allowed(&["and", "pipe"], "a && b | c"));
        assert!(allowed(&["$()"], "echo $(date)"));
        assert!(!allowed(&["|"], "a > out"));
    }

    #[test]
    fn redirections_by_operator_descriptor_or_whole() {
        assert!(allowed(&[">"], "pytest > out.txt"));
        assert!(allowed(&[">"], "pytest 2> err.txt"));
        assert!(!allowed(&["2>"], "pytest > out.txt"));
        assert!(allowed(&["2>&1"], "pytest 2>&1"));
        assert!(!allowed(&["2>&1"], "pytest 2>&3"));
        assert!(allowed(&["redirection"], "a >> log"));
    }

    #[test]
    fn unknown_entries_are_rejected() {
        assert!(validate(&["&&".into(), "2>&1".into(), "pipe".into()]).is_ok());
        assert!(validate(&["and then".into()]).is_err());
        assert!(validate(&["rm".into()]).is_err());
    }

    #[test]
    fn every_construct_name_is_accepted() {
        for k in ConstructKind::ALL {
            // The name used in JSON is the one policies accept.
            let json = serde_json::to_value(k).unwrap();
            assert_eq!(json.as_str(), Some(k.as_str()));
            assert!(validate(&[k.as_str().to_string()]).is_ok(), "{k:?}");
        }
    }
}
