//! Tool results and resources as a model reads them: a short text and the
//! same facts as structured content.

use rmcp::model::{CallToolResult, ContentBlock};
use sandboxcore::exec::{Capabilities, ExecOutcome};
use sandboxcore::policy::Effect;
use sandboxcore::{Classification, Decision, Error, Sandbox, Verdict};
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// The resource with the policy, backend and capabilities.
pub const STATUS_URI: &str = "sandboxcore://status";
/// The resource with the metrics.
pub const METRICS_URI: &str = "sandboxcore://metrics";

fn with_structured(mut result: CallToolResult, value: Value) -> CallToolResult {
    result.structured_content = Some(value);
    result
}

/// The result of `classify`.
pub fn classification(c: &Classification) -> CallToolResult {
    let value = serde_json::to_value(c).unwrap_or(Value::Null);
    let text = format!(
        "risk {}, {}, {}{}",
        value["risk"].as_str().unwrap_or("?"),
        if c.read_only {
            "read-only"
        } else {
            "not read-only"
        },
        match c.argv() {
            Some(argv) => format!("plain argv {argv:?}"),
            None => "needs a shell".to_string(),
        },
        reasons_text(value["reasons"].as_array()),
    );
    with_structured(
        CallToolResult::success(vec![
            ContentBlock::text(text),
            ContentBlock::text(value.to_string()),
        ]),
        value,
    )
}

fn reasons_text(reasons: Option<&Vec<Value>>) -> String {
    let mut out = String::new();
    for r in reasons.into_iter().flatten() {
        let _ = write!(out, "\n  - {}", r["message"].as_str().unwrap_or(""));
    }
    out
}

/// The result of `check`.
pub fn decision(d: &Decision) -> CallToolResult {
    let value = serde_json::to_value(d).unwrap_or(Value::Null);
    let text = format!(
        "verdict: {}{}",
        value["verdict"].as_str().unwrap_or("?"),
        explain(d)
    );
    with_structured(
        CallToolResult::success(vec![ContentBlock::text(text)]),
        value,
    )
}

/// The decision's reasons, one per line (notes left out).
fn explain(d: &Decision) -> String {
    let mut out = String::new();
    for r in d.reasons.iter().filter(|r| r.effect != Effect::Note) {
        let _ = write!(out, "\n  - {} (rule: {})", r.message, r.rule);
    }
    out
}

/// The policy's warnings about a command that runs anyway (verdict
/// `warn`), to show beside its result; empty otherwise.
fn warnings(d: &Decision) -> Vec<String> {
    if d.verdict != Verdict::Warn {
        return Vec::new();
    }
    d.reasons
        .iter()
        .filter(|r| r.effect != Effect::Note)
        .map(|r| r.message.clone())
        .collect()
}

/// The result of a command that ran (whatever its exit status: the tool
/// worked), with the policy's verdict and warnings about it.
pub fn outcome(o: &ExecOutcome, decision: &Decision) -> CallToolResult {
    let warnings = warnings(decision);
    let mut text = match (o.exit_code, o.signal) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        (None, None) => "ended without a status".to_string(),
    };
    if o.timed_out {
        text.push_str(" (timed out)");
    }
    if o.oom_killed {
        text.push_str(" (killed for exceeding the memory limit)");
    }
    let _ = write!(text, " after {} ms", o.duration.as_millis());
    for (name, bytes, truncated) in [
        ("stdout", &o.stdout, o.stdout_truncated),
        ("stderr", &o.stderr, o.stderr_truncated),
    ] {
        if bytes.is_empty() {
            continue;
        }
        let _ = write!(text, "\n--- {name} ---\n{}", String::from_utf8_lossy(bytes));
        if !text.ends_with('\n') {
            text.push('\n');
        }
        if truncated {
            let _ = writeln!(
                text,
                "[{name} truncated: the middle was dropped; {} bytes kept, head and tail]",
                bytes.len()
            );
        }
    }
    for w in &warnings {
        let _ = write!(text, "\n[policy warning: {w}]");
    }
    if !o.isolation_skipped.is_empty() {
        let _ = write!(
            text,
            "\n[isolation not applied: {}]",
            o.isolation_skipped.join("; ")
        );
    }
    let value = json!({
        "exit_code": o.exit_code,
        "signal": o.signal,
        "status": o.status(),
        "timed_out": o.timed_out,
        "oom_killed": o.oom_killed,
        "stdout": o.stdout_text(),
        "stderr": o.stderr_text(),
        "stdout_truncated": o.stdout_truncated,
        "stderr_truncated": o.stderr_truncated,
        "duration_ms": o.duration.as_millis() as u64,
        "isolation_skipped": o.isolation_skipped,
        "enforced": capability_map(&o.enforced),
        "verdict": decision.verdict,
        "warnings": warnings,
    });
    with_structured(
        CallToolResult::success(vec![ContentBlock::text(text)]),
        value,
    )
}

/// A command that was not run, or a run that failed in the backend: an
/// error result (not a protocol error) with the reasons, so a model can
/// read why and adapt.
pub fn error(e: &Error) -> CallToolResult {
    let code = e.code().as_str();
    let mut value = Map::new();
    value.insert("code".into(), code.into());
    value.insert("error".into(), e.to_string().into());
    let mut text = format!("not run: {e}");
    if let Some(d) = e.decision() {
        let d_value = serde_json::to_value(d).unwrap_or(Value::Null);
        for key in ["verdict", "reasons", "matched_rule"] {
            value.insert(key.into(), d_value[key].clone());
        }
        text.push_str(&explain(d));
        let approval = match e {
            Error::ApprovalRequired(_) => Some("not_asked"),
            Error::ApprovalRefused(_) => Some("refused"),
            Error::ApprovalFailed { .. } => Some("failed"),
            _ => None,
        };
        if let Some(approval) = approval {
            value.insert("approval".into(), approval.into());
        }
        if matches!(e, Error::ApprovalRequired(_)) {
            text.push_str(
                "\nThe policy asks for a person's approval of this command, and this client \
                 cannot ask (no elicitation support).",
            );
        }
    }
    with_structured(
        CallToolResult::error(vec![ContentBlock::text(text)]),
        Value::Object(value),
    )
}

/// Arguments that are not valid.
pub fn invalid(message: &str) -> CallToolResult {
    with_structured(
        CallToolResult::error(vec![ContentBlock::text(format!(
            "invalid arguments: {message}"
        ))]),
        json!({ "code": "INVALID_ARGUMENT", "error": message }),
    )
}

/// The status resource: the policy, the backend and what it enforces.
pub fn status(sandbox: &Sandbox) -> Value {
    let capabilities = sandbox
        .capabilities()
        .map(|c| capability_map(&c))
        .unwrap_or_default();
    json!({
        "backend": sandbox.backend(),
        "policy": sandbox.policy().settings(),
        "capabilities": capabilities,
    })
}

/// A bool for each field of `c`, by its snake_case name.
fn capability_map(c: &Capabilities) -> Map<String, Value> {
    c.fields()
        .into_iter()
        .map(|(name, on)| (name.to_string(), Value::Bool(on)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_says_what_was_enforced_for_it() {
        let policy = sandboxcore::Policy::from_yaml_str("enforcement: enforce\n").unwrap();
        let o = ExecOutcome {
            exit_code: Some(0),
            enforced: Capabilities {
                seccomp: true,
                read_only_root: true,
                ..Capabilities::default()
            },
            ..ExecOutcome::default()
        };
        let v = outcome(&o, &policy.check("ls")).structured_content.unwrap();
        let enforced = v["enforced"].as_object().unwrap();
        assert_eq!(enforced.len(), 14);
        let on: Vec<&str> = enforced
            .iter()
            .filter(|(_, v)| **v == Value::Bool(true))
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(on, ["read_only_root", "seccomp"]);
    }

    #[test]
    fn an_error_carries_the_code_and_reasons() {
        let policy = sandboxcore::Policy::from_yaml_str(
            "enforcement: enforce\nblocked_patterns: ['rm -rf']\n",
        )
        .unwrap();
        let d = policy.check("rm -rf /tmp/x");
        let r = error(&Error::Denied(Box::new(d)));
        assert_eq!(r.is_error, Some(true));
        let v = r.structured_content.unwrap();
        assert_eq!(v["code"], "POLICY_DENIED");
        assert_eq!(v["verdict"], "deny");
        assert!(v["reasons"][0]["rule"].as_str().unwrap().contains("rm -rf"));
    }
}
