//! The environment a command gets: nothing is inherited unless asked, a
//! short allowlist by default, and names that look like secrets never
//! unless listed by name.

use crate::glob::glob_match;
use std::collections::BTreeMap;

/// The variables inherited by default (`*` is a glob).
pub const DEFAULT_INHERIT: &[&str] = &["PATH", "LANG", "LANGUAGE", "LC_*", "TERM", "TZ", "TMPDIR"];

/// The `PATH` given when the parent has none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub use crate::secrets::{is_secret_name, SECRET_PATTERNS};

/// Which of the parent's variables a command inherits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvConfig {
    /// Names or globs inherited from the parent (secrets excluded).
    pub inherit: Vec<String>,
    /// Secret-looking names that may still be inherited (exact names).
    pub allow_secrets: Vec<String>,
}

impl Default for EnvConfig {
    fn default() -> Self {
        EnvConfig {
            inherit: DEFAULT_INHERIT.iter().map(|s| s.to_string()).collect(),
            allow_secrets: Vec::new(),
        }
    }
}

impl EnvConfig {
    /// The child's environment: inherited variables from `parent`, then
    /// `HOME` (and `USER`/`LOGNAME` when given), then the request's own
    /// variables, which are passed as given.
    pub fn build(
        &self,
        parent: impl IntoIterator<Item = (String, String)>,
        home: &str,
        request: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = parent
            .into_iter()
            .filter(|(k, _)| self.inherits(k))
            .collect();
        env.entry("PATH".into())
            .or_insert_with(|| DEFAULT_PATH.to_string());
        env.insert("HOME".into(), home.to_string());
        for (k, v) in request {
            env.insert(k.clone(), v.clone());
        }
        env
    }

    fn inherits(&self, name: &str) -> bool {
        if self.allow_secrets.iter().any(|a| a == name) {
            return true;
        }
        self.inherit.iter().any(|p| glob_match(p, name)) && !is_secret_name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent() -> Vec<(String, String)> {
        [
            ("PATH", "/usr/bin:/bin"),
            ("LC_ALL", "C.UTF-8"),
            ("HOME", "/root"),
            ("ANTHROPIC_API_KEY", "sk-ant-x"),
            ("OPENAI_API_KEY", "sk-x"),
            ("GITHUB_TOKEN", "ghp_x"),
            ("DATABASE_URL", "postgres://u:p@h/db"),
            ("LC_SECRET_TOKEN", "x"),
            ("EDITOR", "vi"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn only_the_allowlist_is_inherited_and_home_is_replaced() {
        let env = EnvConfig::default().build(parent(), "/tmp/h", &BTreeMap::new());
        let names: Vec<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(names, ["HOME", "LC_ALL", "PATH"]);
        assert_eq!(env["HOME"], "/tmp/h");
    }

    #[test]
    fn secrets_only_by_name_and_request_values_win() {
        let cfg = EnvConfig {
            inherit: vec!["*".into()],
            allow_secrets: vec!["GITHUB_TOKEN".into()],
        };
        let mut req = BTreeMap::new();
        req.insert("CI".to_string(), "1".to_string());
        let env = cfg.build(parent(), "/h", &req);
        assert!(env.contains_key("GITHUB_TOKEN"));
        assert!(env.contains_key("EDITOR"));
        assert_eq!(env["CI"], "1");
        for k in [
            "ANTHROPIC_API_KEY",
            "OPENAI_API_KEY",
            "DATABASE_URL",
            "LC_SECRET_TOKEN",
        ] {
            assert!(!env.contains_key(k), "{k}");
        }
    }
}
