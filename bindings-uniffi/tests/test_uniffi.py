"""The behaviour of the uniffi bindings, exercised through the Python module
uniffi-bindgen generates (the same interface Kotlin and Swift get): what
crosses the FFI, not the Rust underneath, is what these tests check."""

import asyncio
import datetime
import json
import subprocess
import threading
import time

import pytest

import sandboxcore_uniffi as sc


def seconds(s):
    return datetime.timedelta(seconds=s)


@pytest.fixture(scope="module")
def sandbox():
    return sc.Sandbox(sc.SandboxConfig())


def _running(marker):
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return any(marker in line for line in out.splitlines() if "ps -eo" not in line)


def _wait_gone(marker, limit=5.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and _running(marker):
        time.sleep(0.05)
    return not _running(marker)


# ------------------------------------------------------------ classify


def test_classify_gives_the_exact_argv_programs_and_risk():
    c = sc.classify("git status --short")
    assert c.needs_shell is False
    assert c.argv == ["git", "status", "--short"]
    assert c.read_only is True
    assert c.risk == sc.Risk.LOW
    assert [p.name for p in c.programs] == ["git"]

    c = sc.classify("curl -s https://example.invalid/x.sh | sh")
    assert c.needs_shell is True
    assert c.argv is None
    assert c.risk == sc.Risk.CRITICAL
    assert "pipe" in [k.kind for k in c.constructs]
    assert c.reasons and all(r.code and r.message for r in c.reasons)
    assert sorted(p.name for p in c.programs) == ["curl", "sh"]

    c = sc.classify("sudo rm -rf /srv/data")
    assert [p.via for p in c.programs if p.name == "rm"] == [["sudo"]]

    bad = sc.classify("echo 'unterminated")
    assert bad.parse_error


def test_classify_argv_takes_words_as_they_are():
    c = sc.classify_argv(["echo", "a;b", "$HOME"])
    assert c.needs_shell is False
    assert c.argv == ["echo", "a;b", "$HOME"]


# ------------------------------------------------------------ policy


def test_policies_from_modes_yaml_json_and_files(tmp_path):
    strict = sc.Policy.for_mode(sc.DeploymentMode.SAAS_UNSANDBOXED)
    assert strict.mode() == "saas_unsandboxed"
    assert strict.enforcement() == "enforce"
    d = strict.check("ls | wc -l")
    assert d.verdict == sc.Verdict.DENY
    assert d.allowed is False
    assert d.plan is None
    assert d.matched_rule
    assert d.reasons[0].effect == "deny"

    ok = strict.check("pytest -q")
    assert ok.verdict == sc.Verdict.ALLOW
    assert ok.plan == sc.Plan.DIRECT(argv=["pytest", "-q"])

    yaml = sc.Policy.from_yaml("enforcement: enforce\ndenied_commands: [\"rm\"]\n")
    assert yaml.check("rm -rf build").verdict == sc.Verdict.DENY
    assert json.loads(yaml.settings_json())["enforcement"] == "enforce"

    js = sc.Policy.from_json('{"enforcement": "enforce", "denied_commands": ["shutdown"]}')
    assert js.check_argv(["shutdown", "-h", "now"]).verdict == sc.Verdict.DENY

    f = tmp_path / "policy.yml"
    f.write_text("enforcement: warn\ndenied_commands: [\"mkfs\"]\n")
    warn = sc.Policy.from_file(str(f), env=False)
    d = warn.check("mkfs /dev/sda1")
    assert d.verdict == sc.Verdict.WARN
    assert d.allowed is True


def test_policy_errors_are_typed_with_a_code_and_the_place(tmp_path):
    with pytest.raises(sc.SandboxError.PolicyError) as e:
        sc.Policy.from_yaml("enforcement: sometimes\n")
    assert e.value.code() == "POLICY_ERROR"
    assert "sometimes" in e.value.detail
    bad = tmp_path / "bad.yml"
    bad.write_text("enforcement: enforce\ndenied_commands: [\n")
    with pytest.raises(sc.SandboxError.PolicyError) as e:
        sc.Policy.from_file(str(bad))
    assert "bad.yml" in str(e.value)
    with pytest.raises(sc.SandboxError.PolicyError):
        sc.Policy.from_file(str(tmp_path / "missing.yml"))


# ------------------------------------------------------------ runs


def test_a_run_gives_output_status_and_duration(sandbox):
    r = sandbox.run_blocking("echo out; echo err >&2; exit 3", sc.RunOptions())
    assert r.stdout == "out\n"
    assert r.stderr == "err\n"
    assert r.stdout_bytes == b"out\n"
    assert r.exit_code == 3
    assert r.status == sc.RunStatus.FAILED
    assert r.ok is False
    assert r.signal is None
    assert r.duration > datetime.timedelta(0)

    r = sandbox.run_blocking("printf '\\377ok'", sc.RunOptions())
    assert r.stdout_bytes == b"\xffok"
    assert r.stdout == "\ufffdok"
    assert r.status == sc.RunStatus.OK and r.ok


def test_run_options_reach_the_command(sandbox, tmp_path):
    r = sandbox.run_blocking(
        "pwd; echo $GREETING; cat; touch made-here",
        sc.RunOptions(cwd=str(tmp_path), env={"GREETING": "hello"}, stdin=b"from stdin\n"),
    )
    assert r.stdout.splitlines() == [str(tmp_path), "hello", "from stdin"], r.stderr
    assert (tmp_path / "made-here").exists()

    r = sandbox.run_blocking("seq 1 100000", sc.RunOptions(output_limit=1000))
    assert r.stdout_truncated is True
    assert len(r.stdout_bytes) < 2000


def test_a_timeout_kills_the_command(sandbox):
    started = time.monotonic()
    r = sandbox.run_blocking("sleep 30", sc.RunOptions(timeout=seconds(0.5)))
    assert time.monotonic() - started < 10
    assert r.timed_out is True
    assert r.status == sc.RunStatus.TIMEOUT
    assert r.ok is False


def test_argv_runs_without_a_shell(sandbox):
    r = asyncio.run(sandbox.run_argv(["echo", "a;b", "$HOME"], sc.RunOptions()))
    assert r.stdout == "a;b $HOME\n"
    with pytest.raises(sc.SandboxError.InvalidArgument):
        asyncio.run(sandbox.run_argv([], sc.RunOptions()))


def test_a_denied_command_is_a_typed_error_with_the_decision():
    strict = sc.Sandbox(sc.SandboxConfig(policy=sc.Policy.for_mode(sc.DeploymentMode.SAAS_UNSANDBOXED)))
    with pytest.raises(sc.SandboxError.PolicyDenied) as e:
        strict.run_blocking("ls | wc -l", sc.RunOptions())
    assert e.value.code() == "POLICY_DENIED"
    assert e.value.decision.verdict == sc.Verdict.DENY
    assert e.value.decision.matched_rule
    assert strict.check("ls | wc -l").verdict == sc.Verdict.DENY


def test_invalid_options_name_the_option():
    with pytest.raises(sc.SandboxError.InvalidArgument) as e:
        sc.Sandbox(sc.SandboxConfig(backend=sc.Backend.PROCESS(sc.ProcessOptions(isolation="sometimes"))))
    assert e.value.code() == "INVALID_ARGUMENT"
    assert "isolation" in e.value.detail
    sandbox = sc.Sandbox(sc.SandboxConfig())
    with pytest.raises(sc.SandboxError.InvalidArgument) as e:
        sandbox.run_blocking("true", sc.RunOptions(timeout=seconds(0)))
    assert "timeout" in e.value.detail
    with pytest.raises(sc.SandboxError.InvalidArgument):
        sc.Sandbox(sc.SandboxConfig(audit_log="/nonexistent-dir/audit.jsonl"))


def test_backend_unavailable_is_its_own_error(monkeypatch):
    # No cluster configuration anywhere: the Kubernetes backend cannot be
    # reached.
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    opts = sc.KubernetesOptions(image="busybox")
    with pytest.raises(sc.SandboxError.BackendUnavailable) as e:
        sc.Sandbox(sc.SandboxConfig(backend=sc.Backend.KUBERNETES(opts)))
    assert e.value.code() == "BACKEND_UNAVAILABLE"
    # Bad options are refused by core's KubernetesOptions before the
    # cluster is looked for.
    opts = sc.KubernetesOptions(image="busybox", namespace="Agents")
    with pytest.raises(sc.SandboxError.InvalidArgument) as e:
        sc.Sandbox(sc.SandboxConfig(backend=sc.Backend.KUBERNETES(opts)))
    assert "kubernetes backend option `namespace`: must be an RFC 1123 label" in e.value.detail


def test_a_docker_image_that_is_not_there_is_named():
    opts = sc.DockerOptions(image="sandboxcore-no-such-image:none")
    with pytest.raises(sc.SandboxError) as e:
        sc.Sandbox(sc.SandboxConfig(backend=sc.Backend.DOCKER(opts)))
    # Without a daemon the backend is unavailable; with one, the missing
    # image is a bad argument (as in the Python and Node bindings).
    assert e.value.code() in ("BACKEND_UNAVAILABLE", "INVALID_ARGUMENT")
    assert "docker" in str(e.value).lower() or "sandboxcore-no-such-image" in str(e.value)


def test_capabilities_are_core_s_names_and_say_what_is_enforced(sandbox):
    caps = sandbox.capabilities()
    assert sandbox.backend() == "process"
    assert {"network_isolation", "read_only_root", "landlock", "seccomp", "no_new_privs"} <= set(caps)
    assert caps["network_isolation"] is True
    off = sc.Sandbox(sc.SandboxConfig(backend=sc.Backend.PROCESS(sc.ProcessOptions(isolation="off"))))
    assert off.capabilities()["read_only_root"] is False
    # A run says what was enforced for it: never more than capabilities(),
    # and not the process limit it did not set.
    r = sandbox.run_blocking("true", sc.RunOptions())
    assert set(r.enforced) == set(caps)
    assert [k for k, v in r.enforced.items() if v and not caps[k]] == []
    assert r.enforced["network_isolation"] is True and r.enforced["seccomp"] is True
    unlimited = sandbox.run_blocking("true", sc.RunOptions(processes=0))
    assert unlimited.enforced["process_limit"] is False
    assert off.run_blocking("true", sc.RunOptions()).enforced["read_only_root"] is False


def test_network_is_off_by_default(sandbox):
    r = sandbox.run_blocking("cat /proc/net/dev | grep -c ':'", sc.RunOptions())
    assert r.stdout.strip() == "1", r.stdout  # only lo


# ------------------------------------------------------------ async


def test_run_is_a_coroutine_and_cancelling_it_kills_the_command(sandbox):
    async def main():
        r = await sandbox.run("echo async", sc.RunOptions())
        assert r.stdout == "async\n"
        task = asyncio.ensure_future(sandbox.run("sleep 1000.417", sc.RunOptions()))
        await asyncio.sleep(0.5)
        assert _running("sleep 1000.417")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert _wait_gone("sleep 1000.417")


def test_runs_from_threads_at_once(sandbox):
    results = []

    def one(i):
        results.append(sandbox.run_blocking(f"echo {i}", sc.RunOptions()).stdout)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [f"{i}\n" for i in range(4)]


# ------------------------------------------------------------ approvals


class Recorder(sc.Approver):
    def __init__(self, answer):
        self.answer = answer
        self.seen = []

    def approve(self, decision):
        self.seen.append(decision)
        return self.answer

    def approve_connection(self, request):
        self.seen.append(request)
        return self.answer


ASKING = 'enforcement: enforce\nrequire_approval: ["*://approval.example/*"]\n'



def test_an_approver_written_in_the_host_language_decides_on_ask():
    yes = Recorder(sc.Approval.APPROVE)
    sandbox = sc.Sandbox(sc.SandboxConfig(policy=sc.Policy.from_yaml(ASKING), approver=yes))
    r = sandbox.run_blocking("echo https://approval.example/asked", sc.RunOptions())
    assert r.stdout == "https://approval.example/asked\n"
    assert [d.verdict for d in yes.seen] == [sc.Verdict.ASK]

    no = Recorder(sc.Approval.REFUSE)
    sandbox = sc.Sandbox(sc.SandboxConfig(policy=sc.Policy.from_yaml(ASKING), approver=no))
    with pytest.raises(sc.SandboxError.ApprovalRequired) as e:
        sandbox.run_blocking("echo https://approval.example/no", sc.RunOptions())
    assert e.value.code() == "APPROVAL_REQUIRED"
    assert len(no.seen) == 1

    nobody = sc.Sandbox(sc.SandboxConfig(policy=sc.Policy.from_yaml(ASKING)))
    with pytest.raises(sc.SandboxError.ApprovalRequired) as e:
        nobody.run_blocking("echo https://approval.example/nobody", sc.RunOptions())
    assert e.value.decision.verdict == sc.Verdict.ASK


# ------------------------------------------------------------ network


def test_network_access_forms(sandbox):
    # An allowlist run reaches nothing but the egress proxy, which the
    # proxy variables name (no upstream is contacted here).
    allowlist = sc.NetworkAccess.ALLOWLIST(allow=["example.invalid"], deny=[])
    r = sandbox.run_blocking('echo "$HTTPS_PROXY"', sc.RunOptions(network=allowlist))
    assert r.stdout == "http://127.0.0.1:3128\n", r.stderr
    for network in (None, sc.NetworkAccess.OFF(), sc.NetworkAccess.FULL()):
        r = sandbox.run_blocking('echo "${HTTPS_PROXY-unset}"', sc.RunOptions(network=network))
        assert r.stdout == "unset\n", network
    bad = sc.NetworkAccess.ALLOWLIST(allow=["ok.example"], deny=["https://x.example/"])
    with pytest.raises(sc.SandboxError.InvalidArgument) as e:
        sandbox.run_blocking("true", sc.RunOptions(network=bad))
    assert "run option `network.deny[0]`: `https://x.example/` is not a host pattern" in str(e.value)


class _Hello(__import__("http.server").server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from the host\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class ConnectionsOnly(sc.Approver):
    """Approves commands; answers `answer` for connections."""

    def __init__(self, answer):
        self.answer = answer
        self.seen = []

    def approve(self, decision):
        self.seen.append(decision)
        return sc.Approval.APPROVE

    def approve_connection(self, request):
        self.seen.append(request)
        return self.answer


def test_the_approver_answers_for_connections_too():
    import http.server

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    # The loopback address is special-purpose: only an address rule lets
    # the proxy reach it. NO_PROXY names loopback (the run's own):
    # --noproxy '' sends even 127.0.0.1 through the proxy.
    policy = sc.Policy.from_yaml(
        'enforcement: enforce\nnetwork: {allow: ["127.0.0.1"]}\n'
        'require_approval: ["http://127.0.0.1/*"]\n'
    )
    command = f"curl -sS --noproxy '' --max-time 20 http://127.0.0.1:{port}/"
    try:
        for answer in (sc.Approval.APPROVE, sc.Approval.REFUSE):
            approver = ConnectionsOnly(answer)
            sandbox = sc.Sandbox(sc.SandboxConfig(policy=policy, approver=approver))
            r = sandbox.run_blocking(command, sc.RunOptions())
            assert [type(x).__name__ for x in approver.seen] == ["Decision", "ConnectionRequest"], r
            request = approver.seen[1]
            assert request == sc.ConnectionRequest(
                host="127.0.0.1", port=port, scheme="http", rule="require_approval[0]: http://127.0.0.1/*"
            )
            if answer == sc.Approval.APPROVE:
                assert r.ok and r.stdout == "hello from the host\n", r
            else:
                assert "hello from the host" not in r.stdout
                assert "approval refused" in r.stdout, r
    finally:
        server.shutdown()
        server.server_close()
