//! Replay: what a policy would have decided on the commands of an audit
//! log. Reads the audit log's own JSON lines (the `decision` and
//! `execution` records of [`AuditRecord`](crate::audit::AuditRecord)),
//! decides each logged command again under a new policy, and reports every
//! command whose verdict would change — the tool for moving a deployment
//! from `warn` to `enforce`, or for checking a tightened policy against
//! what agents really ran.
//!
//! Commands in the log are redacted (secrets replaced); they are decided
//! as logged, which for a redacted command may differ from the original.

use super::{Policy, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

/// Why an audit log could not be replayed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The log could not be read.
    #[error("reading the audit log: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not an audit record.
    #[error("line {line}: not an audit record: {message}")]
    Record {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// The fields of an audit record replay needs; other fields (and other
/// events, such as `connection`) are ignored.
#[derive(Deserialize)]
struct LoggedRecord {
    event: String,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    verdict: Option<Verdict>,
    #[serde(default)]
    status: Option<String>,
}

/// One logged decision, decided again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayedCommand {
    /// 1-based line of the decision in the log.
    pub line: usize,
    /// The command, as logged.
    pub command: String,
    /// The verdict in the log.
    pub old: Verdict,
    /// The verdict under the new policy.
    pub new: Verdict,
    /// The rule behind the new verdict, if any.
    pub rule: Option<String>,
    /// Whether the log shows the command ran (an execution record follows
    /// its decision).
    pub ran: bool,
}

/// What a replay found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// Logged decisions replayed.
    pub decisions: usize,
    /// Every decision whose verdict changes, in log order.
    pub changed: Vec<ReplayedCommand>,
    /// How many decisions go from each verdict to each other one
    /// (`"warn -> deny"`), changed ones only.
    pub transitions: BTreeMap<String, usize>,
}

impl ReplayReport {
    /// Commands that ran according to the log and that the new policy
    /// denies: what enforcing it would have stopped.
    pub fn ran_now_denied(&self) -> impl Iterator<Item = &ReplayedCommand> {
        self.changed
            .iter()
            .filter(|c| c.ran && c.new == Verdict::Deny)
    }
}

/// Decides every logged decision again under `policy`.
///
/// A `decision` record is one decision. An `execution` record marks the
/// latest decision on the same command as run; an execution with no
/// decision before it (a log that starts mid-way) counts as a decision of
/// its own, which ran. Blank lines and other events are skipped.
pub fn replay(policy: &Policy, log: impl BufRead) -> Result<ReplayReport, ReplayError> {
    let mut replayed: Vec<ReplayedCommand> = Vec::new();
    // The latest decision on each command still waiting for its execution.
    let mut waiting: HashMap<String, usize> = HashMap::new();
    for (index, line) in log.lines().enumerate() {
        let line_no = index + 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record: LoggedRecord =
            serde_json::from_str(&line).map_err(|e| ReplayError::Record {
                line: line_no,
                message: e.to_string(),
            })?;
        let missing = |field: &str| ReplayError::Record {
            line: line_no,
            message: format!("a {} record without `{field}`", record.event),
        };
        match record.event.as_str() {
            "decision" => {
                let command = record.command.clone().ok_or_else(|| missing("command"))?;
                let old = record.verdict.ok_or_else(|| missing("verdict"))?;
                waiting.insert(command.clone(), replayed.len());
                replayed.push(decide(policy, line_no, command, old, false));
            }
            "execution" => {
                let command = record.command.clone().ok_or_else(|| missing("command"))?;
                // An execution that failed before starting (`error`) did not run.
                let ran = record.status.as_deref() != Some("error");
                match waiting.remove(&command) {
                    Some(i) => replayed[i].ran |= ran,
                    None => {
                        let old = record.verdict.ok_or_else(|| missing("verdict"))?;
                        replayed.push(decide(policy, line_no, command, old, ran));
                    }
                }
            }
            _ => {}
        }
    }
    let mut report = ReplayReport {
        decisions: replayed.len(),
        ..ReplayReport::default()
    };
    for r in replayed.into_iter().filter(|r| r.old != r.new) {
        *report
            .transitions
            .entry(format!("{} -> {}", r.old, r.new))
            .or_default() += 1;
        report.changed.push(r);
    }
    Ok(report)
}

fn decide(
    policy: &Policy,
    line: usize,
    command: String,
    old: Verdict,
    ran: bool,
) -> ReplayedCommand {
    let decision = policy.check(&command);
    ReplayedCommand {
        line,
        new: decision.verdict,
        rule: decision.matched_rule,
        command,
        old,
        ran,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditRecord;

    fn log_of(policy: &Policy, commands: &[(&str, bool)]) -> String {
        let mut out = String::new();
        for (command, run) in commands {
            let d = policy.check(command);
            out.push_str(&serde_json::to_string(&AuditRecord::decision(command, &d)).unwrap());
            out.push('\n');
            if *run && d.is_allowed() {
                let mut exec = AuditRecord::decision(command, &d);
                exec.event = crate::audit::AuditKind::Execution;
                exec.status = Some("ok".into());
                out.push_str(&serde_json::to_string(&exec).unwrap());
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn warn_to_enforce_reports_each_change_and_counts_transitions() {
        let warn =
            Policy::from_yaml_str("enforcement: warn\nblocked_patterns: [\"rm -rf\"]\n").unwrap();
        let enforce =
            Policy::from_yaml_str("enforcement: enforce\nblocked_patterns: [\"rm -rf\"]\n")
                .unwrap();
        let log = log_of(
            &warn,
            &[
                ("ls -la", true),
                ("rm -rf build", true),
                ("rm -rf dist", false),
                ("pytest", true),
            ],
        );
        let report = replay(&enforce, log.as_bytes()).unwrap();
        assert_eq!(report.decisions, 4);
        let changed: Vec<(&str, Verdict, Verdict, bool)> = report
            .changed
            .iter()
            .map(|c| (c.command.as_str(), c.old, c.new, c.ran))
            .collect();
        assert_eq!(
            changed,
            [
                ("rm -rf build", Verdict::Warn, Verdict::Deny, true),
                ("rm -rf dist", Verdict::Warn, Verdict::Deny, false),
            ]
        );
        assert_eq!(report.transitions["warn -> deny"], 2);
        assert_eq!(report.ran_now_denied().count(), 1);
        assert_eq!(
            report.changed[0].rule.as_deref(),
            Some("blocked_patterns[0]: rm -rf")
        );
    }

    #[test]
    fn the_same_policy_changes_nothing_and_other_events_are_skipped() {
        let p = Policy::from_yaml_str("enforcement: enforce\n").unwrap();
        let mut log = log_of(&p, &[("ls", true), ("sudo rm -rf /", true), ("make", true)]);
        log.push_str("{\"event\":\"connection\",\"host\":\"pypi.org\"}\n\n");
        let report = replay(&p, log.as_bytes()).unwrap();
        assert_eq!(report.decisions, 3);
        assert!(report.changed.is_empty());
    }

    #[test]
    fn an_execution_without_its_decision_counts_as_one_that_ran() {
        let line =
            r#"{"event":"execution","command":"rm -rf build","verdict":"allow","status":"ok"}"#;
        let p = Policy::from_yaml_str("enforcement: enforce\nblocked_patterns: [\"rm -rf\"]\n")
            .unwrap();
        let report = replay(&p, line.as_bytes()).unwrap();
        assert_eq!(report.decisions, 1);
        assert_eq!(report.ran_now_denied().count(), 1);
    }

    #[test]
    fn bad_lines_are_errors_with_their_number() {
        let p = Policy::default();
        let e = replay(
            &p,
            "{\"event\":\"decision\",\"command\":\"ls\",\"verdict\":\"allow\"}\nnot json\n"
                .as_bytes(),
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("line 2: not an audit record"),
            "{e}"
        );
        let e = replay(
            &p,
            "{\"event\":\"decision\",\"verdict\":\"allow\"}\n".as_bytes(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("without `command`"), "{e}");
        let e = replay(
            &p,
            "{\"event\":\"decision\",\"command\":\"ls\",\"verdict\":\"maybe\"}\n".as_bytes(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("line 1:"), "{e}");
    }
}
