//! Approved commands (`approved_commands:`) and the rule an approval
//! proposes: the narrowest rule that lets the same command run next time
//! without asking, and nothing riskier.
//!
//! An approved rule is the program's leading words, exactly as written
//! (`git push origin`), followed by at most `extra_operands` further
//! *plain* operands (names and relative paths: letters, digits, `_`, `.`,
//! `-`, `/`, not starting with `-`, `+`, `.`, `/` or `~`, no `..`). It
//! covers a program only when the whole command line is at most as risky
//! as the approved one (`max_risk`) and has no classifier reason the
//! approved one did not have (`reasons`). A covered program counts as
//! listed in `allowed_commands` and as a safe command, and its
//! `require_approval` matches no longer ask; nothing else changes:
//! blocked patterns, denied commands, the risk threshold and the shell
//! operator rules still deny.

use super::decision::{DecisionReason, Effect, Verdict};
use crate::catalog::{base_name, catalog};
use crate::{Classification, Program, ReasonCode, Risk};
use serde::{Deserialize, Serialize};

/// One entry of `approved_commands:`: a rule an approval added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovedCommand {
    /// The program and its leading words, quoted as in a shell; a program
    /// matches when its words start with exactly these.
    pub rule: String,
    /// How many plain operands (names, relative paths) may follow the
    /// rule's words (0: the words must be the whole command).
    #[serde(default)]
    pub extra_operands: usize,
    /// The highest risk of the command line this entry covers.
    #[serde(default)]
    pub max_risk: Risk,
    /// The classifier's reasons the command line may have (any other
    /// reason makes the entry not apply).
    #[serde(default)]
    pub reasons: Vec<ReasonCode>,
    /// When it was approved (`YYYY-MM-DD`), for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<String>,
    /// The command whose approval added it (redacted), for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

impl ApprovedCommand {
    /// Whether `other` is the same rule (`added` and `command` aside).
    pub fn same_rule(&self, other: &ApprovedCommand) -> bool {
        self.rule == other.rule
            && self.extra_operands == other.extra_operands
            && self.max_risk == other.max_risk
            && self.reasons == other.reasons
    }
}

/// The rule an approval would add: one [`ApprovedCommand`] per program the
/// command runs. Applying all of them makes the same command `allow` (or
/// `warn`) next time; [`Policy::decide`](super::Policy::decide) checks
/// that before proposing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedRule {
    /// The entries to add to `approved_commands`.
    pub rules: Vec<ApprovedCommand>,
}

impl ProposedRule {
    /// The rules for people: `git push origin [+1 operand]; npm test`.
    pub fn summary(&self) -> String {
        self.rules
            .iter()
            .map(|r| match r.extra_operands {
                0 => r.rule.clone(),
                1 => format!("{} [+1 operand]", r.rule),
                n => format!("{} [+{n} operands]", r.rule),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl std::fmt::Display for ProposedRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

/// An [`ApprovedCommand`], compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApprovedRule {
    words: Vec<String>,
    extra_operands: usize,
    max_risk: Risk,
    reasons: Vec<ReasonCode>,
}

impl ApprovedRule {
    /// Compiles an entry (its rule must split into words, no operators).
    pub(crate) fn parse(entry: &ApprovedCommand) -> Result<ApprovedRule, String> {
        let words = shell_words::split(&entry.rule)
            .map_err(|e| format!("cannot split `{}`: {e}", entry.rule))?;
        if words.is_empty() {
            return Err("an approved rule cannot be empty".into());
        }
        if let Some(op) = words
            .iter()
            .find(|w| !w.is_empty() && w.bytes().all(|b| b"|&;<>()".contains(&b)))
        {
            return Err(format!(
                "`{}`: an approved rule matches one command; `{op}` is a shell operator",
                entry.rule
            ));
        }
        Ok(ApprovedRule {
            words,
            extra_operands: entry.extra_operands,
            max_risk: entry.max_risk,
            reasons: entry.reasons.clone(),
        })
    }

    /// Whether this rule covers `program`, one of the programs of `c`.
    pub(crate) fn covers(&self, program: &Program, c: &Classification) -> bool {
        if !program.argv_known || c.parse_error.is_some() {
            return false;
        }
        if c.risk > self.max_risk || c.reasons.iter().any(|r| !self.reasons.contains(&r.code)) {
            return false;
        }
        let w = &program.words;
        let head = self.words.len();
        w.len() >= head
            && w[..head] == self.words[..]
            && w.len() - head <= self.extra_operands
            && w[head..].iter().all(|a| plain_operand(a))
    }
}

/// Whether any of `rules` covers `program`.
pub(crate) fn covered(rules: &[ApprovedRule], program: &Program, c: &Classification) -> bool {
    rules.iter().any(|r| r.covers(program, c))
}

/// A name or relative path that cannot be an option, a refspec with `+` or
/// `:`, an absolute or home path, a parent directory, a URL or an
/// expansion.
pub fn plain_operand(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphanumeric() || first == '_')
        && word
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._-/".contains(ch))
        && !word.split('/').any(|part| part == ".." || part.is_empty())
}

/// Programs that run other programs or code named by their operands: an
/// approval of one of them is for the exact argv only.
const LAUNCHERS: &[&str] = &[
    "xargs",
    "find",
    "fd",
    "npx",
    "pnpx",
    "bunx",
    "uvx",
    "pipx",
    "parallel",
    "watch",
    "make",
    "just",
    "script",
    "expect",
    "ssh",
    "docker-compose",
    "nix",
    "nix-shell",
    "flatpak",
    "snap",
    "gdb",
    "lldb",
    "valgrind",
    "perf",
    "git-shell",
    "vim",
    "vi",
    "nvim",
    "emacs",
    "less",
    "more",
    "man",
    "awk",
    "gawk",
    "mawk",
    "nawk",
    "sed",
    "tar",
    "rsync",
    "crontab",
    "at",
    "systemd-run",
];

/// Subcommands that run a program or script their operands name.
const LAUNCHING_SUBCOMMANDS: &[(&str, &[&str])] = &[
    ("npm", &["exec", "x", "explore"]),
    ("pnpm", &["exec", "dlx", "x"]),
    ("yarn", &["exec", "dlx", "node"]),
    ("bun", &["x", "exec"]),
    ("uv", &["run", "tool", "x"]),
    ("poetry", &["run"]),
    ("pipenv", &["run"]),
    ("cargo", &["run", "install"]),
    ("go", &["run", "generate", "tool"]),
    ("docker", &["run", "exec", "create", "compose"]),
    ("podman", &["run", "exec", "create"]),
    ("kubectl", &["exec", "run", "debug", "attach"]),
    ("bundle", &["exec"]),
    ("dotnet", &["run", "exec", "tool"]),
    (
        "git",
        &["submodule", "bisect", "filter-branch", "rebase", "daemon"],
    ),
];

/// Programs whose first operand is a subcommand.
const SUBCOMMAND_PROGRAMS: &[&str] = &[
    "git",
    "npm",
    "pnpm",
    "yarn",
    "bun",
    "cargo",
    "go",
    "docker",
    "podman",
    "kubectl",
    "pip",
    "pip3",
    "uv",
    "poetry",
    "pipenv",
    "dotnet",
    "helm",
    "terraform",
    "gh",
    "gradle",
    "mvn",
    "composer",
    "bundle",
    "rustup",
    "apt",
    "apt-get",
    "brew",
    "systemctl",
    "conda",
];

fn runs_others(name: &str, words: &[String]) -> bool {
    let c = catalog();
    if c.wrappers.contains_key(name)
        || ["shell", "interpreter", "privilege", "wrapper"]
            .iter()
            .any(|t| c.has_tag(name, t))
        || LAUNCHERS.contains(&name)
        || c.options(name).is_some_and(|o| !o.runs_program.is_empty())
    {
        return true;
    }
    let sub = words.iter().skip(1).find(|w| !w.starts_with('-'));
    LAUNCHING_SUBCOMMANDS
        .iter()
        .any(|(p, subs)| *p == name && sub.is_some_and(|s| subs.contains(&s.as_str())))
}

fn has_subcommands(name: &str) -> bool {
    SUBCOMMAND_PROGRAMS.contains(&name)
        || catalog()
            .options(name)
            .is_some_and(|o| !o.subcommands.is_empty())
}

/// The narrowest rule for one program: its words up to the subcommand and
/// the operand after it (programs with subcommands) or its first operand
/// (others), then the trailing plain operands left as `extra_operands`.
/// Launchers get their exact argv. `None` when the argv is not known
/// statically (expansions, `xargs`' appended arguments).
pub(crate) fn rule_for(program: &Program) -> Option<(Vec<String>, usize)> {
    let name = base_name(program.name.as_deref()?);
    let w = program.argv()?;
    if w.is_empty() {
        return None;
    }
    if runs_others(name, w) {
        return Some((w.to_vec(), 0));
    }
    let fixed = if has_subcommands(name) { 2 } else { 1 };
    // The head: through the `fixed`-th operand and through the last word
    // that is not a plain operand (options and their values, URLs, paths).
    let mut head = 1;
    let mut seen = 0;
    for (i, a) in w.iter().enumerate().skip(1) {
        if !a.starts_with('-') && seen < fixed {
            seen += 1;
            head = i + 1;
        }
        if !plain_operand(a) {
            head = i + 1;
        }
    }
    Some((w[..head].to_vec(), w.len() - head))
}

/// Whether a decision with these reasons and verdict may get a proposal:
/// `ask`, or `deny` only because programs are not listed
/// (`allowed_commands`, `safe_commands_only`).
pub(crate) fn may_propose(verdict: Verdict, reasons: &[DecisionReason]) -> bool {
    match verdict {
        Verdict::Ask => true,
        Verdict::Deny => reasons
            .iter()
            .filter(|r| r.effect == Effect::Deny)
            .all(|r| r.rule == "allowed_commands" || r.rule == "safe_commands_only"),
        Verdict::Allow | Verdict::Warn => false,
    }
}

/// The entries for every program of `c` (one per distinct rule), or
/// `None` when one of them has no rule.
pub(crate) fn entries_for(command: &str, c: &Classification) -> Option<Vec<ApprovedCommand>> {
    if c.parse_error.is_some() || c.programs.is_empty() {
        return None;
    }
    let mut reasons: Vec<ReasonCode> = Vec::new();
    for r in &c.reasons {
        if !reasons.contains(&r.code) {
            reasons.push(r.code);
        }
    }
    let added = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let added = added.get(..10).unwrap_or(&added).to_string();
    let command = crate::audit::redact(command).into_owned();
    let mut out: Vec<ApprovedCommand> = Vec::new();
    for p in &c.programs {
        let (words, extra) = rule_for(p)?;
        let entry = ApprovedCommand {
            rule: shell_words::join(&words),
            extra_operands: extra,
            max_risk: c.risk,
            reasons: reasons.clone(),
            added: Some(added.clone()),
            command: Some(command.clone()),
        };
        if !out
            .iter()
            .any(|e| e.rule == entry.rule && e.extra_operands == entry.extra_operands)
        {
            out.push(entry);
        }
    }
    Some(out)
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn a_proposal_makes_the_same_command_allow_and_deny_rules_still_win() {
        let policy = Policy::from_yaml_str(
            "enforcement: enforce\nallowed_commands: [pytest]\n\
             denied_commands: [git push --force]\nblocked_patterns: [rm -rf]\n\
             require_approval: [\"*://external-domain.com/*\"]\n",
        )
        .unwrap();
        for cmd in [
            "npm run build",
            "git push origin main",
            "curl -s https://external-domain.com/api",
        ] {
            let d = policy.check(cmd);
            let rule = d
                .proposed_rule
                .clone()
                .unwrap_or_else(|| panic!("{cmd}: {d:?}"));
            let after = policy.with_approved(&rule).unwrap();
            assert_eq!(after.check(cmd).verdict, Verdict::Allow, "{cmd}");
            assert!(after.check(cmd).proposed_rule.is_none());
        }
        let d = policy.check("curl -s https://external-domain.com/api");
        assert_eq!(d.verdict, Verdict::Deny);
        // Denied by a rule, not for being unlisted: no proposal.
        for cmd in [
            "git push --force origin main",
            "rm -rf build",
            "sudo rm -rf /",
        ] {
            assert!(policy.check(cmd).proposed_rule.is_none(), "{cmd}");
        }
        // An approved rule does not beat a denied command or a blocked pattern.
        let approved = policy
            .with_approved(&ProposedRule {
                rules: vec![
                    ApprovedCommand {
                        rule: "rm -rf build".into(),
                        extra_operands: 0,
                        max_risk: Risk::Critical,
                        reasons: vec![ReasonCode::RecursiveDelete],
                        added: None,
                        command: None,
                    },
                    ApprovedCommand {
                        rule: "git push --force origin".into(),
                        extra_operands: 1,
                        max_risk: Risk::Critical,
                        reasons: vec![ReasonCode::DestructiveGit],
                        added: None,
                        command: None,
                    },
                ],
            })
            .unwrap();
        assert_eq!(approved.check("rm -rf build").verdict, Verdict::Deny);
        assert_eq!(
            approved.check("git push --force origin main").verdict,
            Verdict::Deny
        );
    }

    #[test]
    fn ask_verdicts_get_a_proposal_and_pipelines_need_every_program() {
        let policy = Policy::from_yaml_str(
            "security:\n  enforcement_level: strict\n  allowed_commands: [curl, jq, npm]\n  \
             allowed_shell_operators: [\"|\", \"&&\"]\n  \
             require_approval: [\"*://external-domain.com/*\"]\n",
        )
        .unwrap();
        let cmd = "curl -s https://external-domain.com/a.json | jq .name";
        let d = policy.check(cmd);
        assert_eq!(d.verdict, Verdict::Ask);
        let rule = d.proposed_rule.unwrap();
        assert_eq!(rule.rules.len(), 2, "{rule:?}");
        assert_eq!(
            rule.summary(),
            "curl -s https://external-domain.com/a.json; jq .name"
        );
        assert_eq!(
            policy.with_approved(&rule).unwrap().check(cmd).verdict,
            Verdict::Allow
        );
        // An operator not allowed: no proposal.
        let d = policy.check("curl -s https://external-domain.com/a.json; npm test");
        assert_eq!(d.verdict, Verdict::Deny);
        assert!(d.proposed_rule.is_none());
        // In JSON.
        let d = policy.check("curl https://external-domain.com/x");
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(
            v["proposed_rule"]["rules"][0]["rule"],
            "curl https://external-domain.com/x"
        );
        assert_eq!(v["proposed_rule"]["rules"][0]["max_risk"], "low");
        assert_eq!(v["proposed_rule"]["rules"][0]["reasons"][0], "network");
        assert!(serde_json::to_value(policy.check("npm test")).unwrap()["proposed_rule"].is_null());
    }

    fn rule(cmd: &str) -> Option<(String, usize)> {
        let c = crate::classify(cmd);
        let (w, n) = rule_for(&c.programs[0])?;
        Some((shell_words::join(&w), n))
    }

    #[test]
    fn the_narrowest_rule_keeps_the_subcommand_and_its_operand() {
        assert_eq!(rule("npm run build"), Some(("npm run build".into(), 0)));
        assert_eq!(
            rule("git push origin main"),
            Some(("git push origin".into(), 1))
        );
        assert_eq!(
            rule("git push -u origin main"),
            Some(("git push -u origin".into(), 1))
        );
        assert_eq!(
            rule("pytest tests/unit"),
            Some(("pytest tests/unit".into(), 0))
        );
        assert_eq!(
            rule("pytest -x tests a b"),
            Some(("pytest -x tests".into(), 2))
        );
        // A URL, an absolute path or a refspec is never generalised.
        assert_eq!(
            rule("curl -s https://example.com/x"),
            Some(("curl -s https://example.com/x".into(), 0))
        );
        assert_eq!(
            rule("git push origin +main"),
            Some(("git push origin +main".into(), 0))
        );
        assert_eq!(
            rule("cat a /etc/passwd"),
            Some(("cat a /etc/passwd".into(), 0))
        );
    }

    #[test]
    fn launchers_get_their_exact_argv_or_nothing() {
        for cmd in [
            "bash -c 'npm test'",
            "python script.py arg",
            "env FOO=1 npm test",
            "sudo npm run build",
            "npx prettier src",
            "find . -name x",
            "npm exec foo bar",
            "uv run pytest tests",
            "node build.js out",
        ] {
            let c = crate::classify(cmd);
            let (w, n) = rule_for(&c.programs[0]).unwrap();
            assert_eq!(n, 0, "{cmd}");
            assert_eq!(w, c.programs[0].words, "{cmd}");
        }
        // The argv xargs gives its command is not known: no rule.
        let c = crate::classify("xargs rm");
        assert!(rule_for(&c.programs[1]).is_none());
        let c = crate::classify("git push origin $BRANCH");
        assert!(rule_for(&c.programs[0]).is_none());
    }

    #[test]
    fn plain_operands() {
        for w in ["main", "src/a.rs", "feature-1", "v1.2", "_x"] {
            assert!(plain_operand(w), "{w}");
        }
        for w in [
            "", "-rf", "--force", "+main", "/", "/etc", "~", "~/x", "..", "a/../b", ".", "./x",
            "a:b", "http://x", "$X", "a b", "a//b", "x;y",
        ] {
            assert!(!plain_operand(w), "{w}");
        }
    }
}
