"""Approval scopes and proposed rules from Python: an approver returns a
bool, "once", "session", "persist", "deny" or an ``Approval``."""

import asyncio
import json

import pytest

import sandboxcore as sc

POLICY = (
    "enforcement: enforce  # keep\n"
    'require_approval: ["*://external-domain.com/*"]\n'
    "# end of the policy\n"
)
ASKED = "echo https://external-domain.com/x"


def _counting(answer):
    seen = []

    def approver(decision):
        seen.append(decision)
        return answer

    return approver, seen


def test_the_decision_carries_the_proposed_rule():
    d = sc.Policy.from_yaml(POLICY).check(ASKED)
    assert d.verdict == "ask"
    rule = d.proposed_rule
    assert rule["rules"][0]["rule"] == "echo https://external-domain.com/x"
    assert rule["rules"][0]["extra_operands"] == 0
    assert rule["rules"][0]["max_risk"] == "low"
    assert d.to_dict()["proposed_rule"] == rule
    assert sc.Policy.from_yaml(POLICY).check("echo plain").proposed_rule is None


@pytest.mark.parametrize("answer", ["session", sc.Approval.SESSION, " Session "])
def test_session_asks_once(answer):
    approver, seen = _counting(answer)
    with sc.Sandbox(sc.Policy.from_yaml(POLICY), approver=approver) as sb:
        assert sb.run(ASKED).ok
        assert sb.run(ASKED).ok
        assert sb.check(ASKED).verdict == "allow"
    assert len(seen) == 1


@pytest.mark.parametrize("answer", [True, "once", sc.Approval.ONCE])
def test_once_asks_every_time(answer):
    approver, seen = _counting(answer)
    with sc.Sandbox(sc.Policy.from_yaml(POLICY), approver=approver) as sb:
        assert sb.run(ASKED).ok
        assert sb.run(ASKED).ok
    assert len(seen) == 2


def test_persist_writes_the_policy_file(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text(POLICY)

    async def approver(decision):
        return "persist"

    with sc.Sandbox(sc.Policy.from_file(path, env=False), approver=approver, policy_file=path) as sb:
        assert sb.run(ASKED).ok
    text = path.read_text()
    assert text.startswith(POLICY)
    assert "approved_commands:" in text and "# approved " in text
    assert sc.Policy.from_file(path, env=False).check(ASKED).verdict == "allow"


def test_persist_without_a_file_is_kept_for_the_session_and_audited(tmp_path):
    audit = tmp_path / "audit.jsonl"
    approver, seen = _counting("persist")
    with sc.Sandbox(sc.Policy.from_yaml(POLICY), approver=approver, audit_log=audit) as sb:
        assert sb.run(ASKED).ok
        assert sb.run(ASKED).ok
    assert len(seen) == 1
    runs = [json.loads(l) for l in audit.read_text().splitlines()]
    runs = [r for r in runs if r["event"] == "execution"]
    assert runs[0]["approval"] == "session"
    assert "no policy file" in runs[0]["approval_note"]


@pytest.mark.parametrize("answer", [False, "deny", sc.Approval.DENY, None])
def test_deny_refuses(answer):
    approver, _ = _counting(answer)
    with sc.Sandbox(sc.Policy.from_yaml(POLICY), approver=approver) as sb:
        with pytest.raises(sc.ApprovalRequired, match="approval refused"):
            sb.run(ASKED)


def test_an_invalid_answer_or_a_raise_denies_and_says_why():
    approver, _ = _counting("always")
    with sc.Sandbox(sc.Policy.from_yaml(POLICY), approver=approver) as sb:
        with pytest.raises(sc.ApprovalRequired, match='invalid approval "always"'):
            sb.run(ASKED)

    async def raising(decision):
        await asyncio.sleep(0)
        raise RuntimeError("no")

    with sc.Sandbox(sc.Policy.from_yaml(POLICY), approver=raising) as sb:
        with pytest.raises(sc.ApprovalRequired, match="raised RuntimeError: no"):
            sb.run(ASKED)
        # Nothing was kept: still asked.
        assert sb.check(ASKED).verdict == "ask"
