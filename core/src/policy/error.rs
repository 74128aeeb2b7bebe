//! Errors from loading and validating policies, with locations and
//! suggestions for misspelt keys.

use std::path::PathBuf;

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file is not valid YAML/JSON, or a key or value is not allowed.
    #[error("{origin}{}: {message}{}", location(*line, *column), hint(suggestion))]
    Syntax {
        /// The file name (or `<string>`).
        origin: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong, with the path of the key (`security.enforcement_level`).
        message: String,
        /// The closest valid key or value to an unknown one.
        suggestion: Option<String>,
    },
    /// The file could not be read.
    #[error("cannot read policy file {}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// An environment variable has a value that is not allowed.
    #[error("environment variable {name}={value:?}: {message}")]
    Env {
        /// The variable's name.
        name: String,
        /// Its value.
        value: String,
        /// What is allowed.
        message: String,
    },
    /// Examples the policy file carries (`examples:`) that the policy it
    /// defines does not decide as they expect; every one is listed.
    #[error("{origin}: {} of the policy's examples {} not hold:{}", failures.len(), if failures.len() == 1 { "does" } else { "do" }, super::examples::describe(failures))]
    Examples {
        /// The file name (or `<string>`).
        origin: String,
        /// Each example that does not hold.
        failures: Vec<super::examples::ExampleFailure>,
    },
    /// An error in one layer of a stacked policy: names the layer and,
    /// unless the error already does, its file.
    #[error("policy layer `{layer}`{}: {error}", layer_file(path, error))]
    Layer {
        /// The layer's name (`user`).
        layer: String,
        /// Its file, when it was read from one.
        path: Option<PathBuf>,
        /// The error (its text is part of this one's).
        error: Box<PolicyError>,
    },
    /// An approved rule could not be added to the policy file (it was not
    /// changed).
    #[error("cannot add the approved rule to {}: {message}", path.display())]
    Persist {
        /// The policy file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A setting's value is well-formed but not usable (a rule that does
    /// not parse, for example).
    #[error("{setting}: {message}")]
    Invalid {
        /// The setting (`blocked_patterns[2]`).
        setting: String,
        /// What is wrong.
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// ` (FILE)` when the error does not name the file itself.
fn layer_file(path: &Option<PathBuf>, source: &PolicyError) -> String {
    match path {
        Some(p) if !source.to_string().contains(&p.display().to_string()) => {
            format!(" ({})", p.display())
        }
        _ => String::new(),
    }
}

fn hint(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

impl PolicyError {
    /// Builds a [`PolicyError::Syntax`] from a serde error message, removing
    /// the location suffix the YAML and JSON parsers append and suggesting
    /// the closest expected key or variant for an unknown one.
    pub(crate) fn syntax(
        origin: &str,
        message: &str,
        line: Option<usize>,
        column: Option<usize>,
    ) -> PolicyError {
        let message = match message.rfind(" at line ") {
            Some(i) if message[i..].contains(" column ") => &message[..i],
            _ => message,
        };
        PolicyError::Syntax {
            origin: origin.to_string(),
            line,
            column,
            suggestion: suggest(message),
            message: message.to_string(),
        }
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (and unknown
/// variant) messages: the expected name closest to `x`, if close enough.
fn suggest(message: &str) -> Option<String> {
    let rest = message
        .split_once("unknown field `")
        .or_else(|| message.split_once("unknown variant `"))?
        .1;
    let (unknown, expected) = rest.split_once('`')?;
    let expected = expected.split_once("expected")?.1;
    let candidates = expected.split('`').skip(1).step_by(2);
    let unknown_lower = unknown.to_ascii_lowercase();
    candidates
        .map(|c| (edit_distance(&unknown_lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(unknown.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

/// Levenshtein distance between two short strings.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_expected_key() {
        let m = "security: unknown field `enforcment_level`, expected one of `enforcement_level`, `allowed_commands`";
        assert_eq!(suggest(m).as_deref(), Some("enforcement_level"));
        let m = "unknown variant `strct`, expected one of `disabled`, `warn`, `enforce`, `strict`";
        assert_eq!(suggest(m).as_deref(), Some("strict"));
        let m = "unknown field `zzzzzzzz`, expected `mode` or `security_policy`";
        assert_eq!(suggest(m), None);
    }

    #[test]
    fn strips_the_parser_location_suffix() {
        let e = PolicyError::syntax("p.yml", "x: bad at line 3 column 7", Some(3), Some(7));
        assert_eq!(e.to_string(), "p.yml:3:7: x: bad");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
