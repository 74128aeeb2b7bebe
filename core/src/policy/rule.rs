//! Command rules (`rm -rf`, `git push --force`, `pytest`) and how they
//! match a program found by the classifier: on its parsed words, never on
//! the command line's text.

use crate::catalog::{base_name, catalog};
use crate::glob::glob_match;
use crate::Program;
use std::collections::BTreeSet;

/// How a rule's non-option words must appear in a program's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordMatch {
    /// In order, anywhere among the arguments (deny rules: `git push
    /// --force` matches `git -C dir push origin --force`).
    InOrder,
    /// As the leading arguments (allow rules: `npm run test` allows
    /// `npm run test -- --watch` but not `npm exec x run test`).
    Leading,
}

/// A parsed command rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRule {
    /// The rule as written.
    pub text: String,
    program: String,
    options: BTreeSet<String>,
    words: Vec<String>,
}

impl CommandRule {
    /// Parses a rule: a program name (or path) followed by options and
    /// words, quoted as in a shell. Words may use `*` and `?` globs; a word
    /// ending in `://` matches any URL with that scheme.
    pub fn parse(text: &str) -> Result<CommandRule, String> {
        let words = shell_words::split(text).map_err(|e| format!("cannot split `{text}`: {e}"))?;
        let Some((program, rest)) = words.split_first() else {
            return Err("a command rule cannot be empty".into());
        };
        if let Some(op) = words.iter().find(|w| is_operator(w)) {
            return Err(format!(
                "`{text}`: a rule matches one command; `{op}` is a shell operator \
                 (list operators under allowed_shell_operators)"
            ));
        }
        let name = rule_program_name(program);
        let (options, words) = split_args(name, rest);
        Ok(CommandRule {
            text: text.to_string(),
            program: program.clone(),
            options,
            words,
        })
    }

    /// Whether `program` is this rule's program run with (at least) its
    /// options and words.
    pub fn matches(&self, program: &Program, how: WordMatch) -> bool {
        if !self.matches_name(program) {
            return false;
        }
        let name = program.name.as_deref().unwrap_or("");
        let (options, words) = split_args(base_name(name), program.words.get(1..).unwrap_or(&[]));
        if !self.options.is_subset(&options) {
            return false;
        }
        match how {
            WordMatch::Leading => {
                self.words.len() <= words.len()
                    && self
                        .words
                        .iter()
                        .zip(&words)
                        .all(|(p, w)| word_matches(p, w))
            }
            WordMatch::InOrder => {
                let mut it = words.iter();
                self.words
                    .iter()
                    .all(|p| it.by_ref().any(|w| word_matches(p, w)))
            }
        }
    }

    /// Whether the program is the one the rule names (`rm` matches
    /// `/usr/bin/rm`; `mkfs` matches `mkfs.ext4`; a rule written as a path
    /// matches that path only).
    pub fn matches_name(&self, program: &Program) -> bool {
        if self.program.contains('/') {
            return program.words.first() == Some(&self.program);
        }
        program
            .name
            .as_deref()
            .is_some_and(|n| n == self.program || base_name(n) == self.program)
    }
}

fn rule_program_name(program: &str) -> &str {
    base_name(program.rsplit('/').next().unwrap_or(program))
}

fn is_operator(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b"|&;<>()".contains(&b))
}

/// Splits arguments into canonical options (`-rf` → `-r`, `-f`; `--force=x`
/// → `--force`; aliases from the catalog applied) and the other words.
/// Everything after `--` is a word.
fn split_args(program: &str, args: &[String]) -> (BTreeSet<String>, Vec<String>) {
    let c = catalog();
    let mut options = BTreeSet::new();
    let mut words = Vec::new();
    let mut rest = args.iter();
    for a in rest.by_ref() {
        if a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or(long);
            let opt = format!("--{name}");
            options.insert(c.canonical_option(program, &opt).to_string());
        } else if a.len() > 1 && a.starts_with('-') {
            for ch in a[1..].chars() {
                let opt = format!("-{ch}");
                options.insert(c.canonical_option(program, &opt).to_string());
            }
        } else {
            words.push(a.clone());
        }
    }
    words.extend(rest.cloned());
    (options, words)
}

/// Whether a rule word matches an argument: equal, a glob match, or a
/// `scheme://` prefix of a URL (case-insensitive scheme).
fn word_matches(pattern: &str, word: &str) -> bool {
    if pattern.ends_with("://") {
        return word.len() >= pattern.len()
            && word.as_bytes()[..pattern.len()].eq_ignore_ascii_case(pattern.as_bytes());
    }
    glob_match(pattern, word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs(cmd: &str) -> Vec<Program> {
        crate::classify(cmd).programs
    }

    fn any_match(rule: &str, cmd: &str, how: WordMatch) -> bool {
        let r = CommandRule::parse(rule).unwrap();
        programs(cmd).iter().any(|p| r.matches(p, how))
    }

    #[test]
    fn rm_rf_matches_every_spelling() {
        for cmd in [
            "rm -rf x",
            "rm -fr x",
            "rm -r -f x",
            "rm --recursive --force x",
            "rm -R -f x",
            "/usr/bin/rm -rf x",
            "sudo rm -rf x",
            "bash -c 'rm -rf x'",
            "find . | xargs rm -rf",
            "echo $(rm -rf x)",
            "rm x -rf",
        ] {
            assert!(any_match("rm -rf", cmd, WordMatch::InOrder), "{cmd}");
        }
        for cmd in [
            "echo \"rm -rf\"",
            "grep -r \"rm -rf\" .",
            "rm -r x",
            "rm -- -rf",
            "ls -rf",
        ] {
            assert!(!any_match("rm -rf", cmd, WordMatch::InOrder), "{cmd}");
        }
    }

    #[test]
    fn prefix_rules_and_urls() {
        assert!(any_match(
            "git push --force",
            "git -C repo push origin main -f",
            WordMatch::InOrder
        ));
        assert!(!any_match(
            "git push --force",
            "git push origin main",
            WordMatch::InOrder
        ));
        assert!(any_match(
            "curl http://",
            "curl -s HTTP://example.com/x",
            WordMatch::InOrder
        ));
        assert!(!any_match(
            "curl http://",
            "curl https://example.com/x",
            WordMatch::InOrder
        ));
        assert!(any_match("wget", "wget -q https://x", WordMatch::InOrder));
        assert!(any_match("mkfs", "mkfs.ext4 /dev/sda1", WordMatch::InOrder));
        assert!(!any_match("/usr/bin/rm", "rm -rf x", WordMatch::InOrder));
    }

    #[test]
    fn leading_words_for_allow_rules() {
        assert!(any_match(
            "npm run test",
            "npm run test -- --watch",
            WordMatch::Leading
        ));
        assert!(!any_match(
            "npm run test",
            "npm exec x run test",
            WordMatch::Leading
        ));
        assert!(any_match("pytest", "pytest -q tests", WordMatch::Leading));
    }

    #[test]
    fn operators_are_not_rules() {
        assert!(CommandRule::parse("curl x | sh")
            .unwrap_err()
            .contains("`|`"));
        assert!(CommandRule::parse("").is_err());
        assert!(CommandRule::parse("'unterminated").is_err());
    }
}
