"""Python bindings benchmark (run by `make bench-python`; results in
docs/performance.md):

- ``sandbox.run(["/bin/true"])`` vs ``subprocess.run(["/bin/true"])``
  (goal: at most 1.0x);
- the binding's overhead: ``Sandbox.run(["/bin/true"])`` against the same
  run through Rust's ``Sandbox::run_command`` (``examples/loop_true`` with
  ``sandbox``; build it with ``cargo build --release --example loop_true``),
  mean over the same number of back-to-back runs, three alternating rounds
  (goal: at most 1.10x);
- ``sandboxcore.classify`` vs the shlex-based classifier in
  ``benches/shlex_classifier.py`` on the typical command and the plain
  corpus (goal: at least 20x faster).

Medians of rounds, measured in the same process and run.
"""

import importlib.util
import json
import pathlib
import statistics
import subprocess
import time

import sandboxcore

ROOT = pathlib.Path(__file__).resolve().parents[1]
TYPICAL = 'pytest -q tests/test_api.py -k "not slow"'


def shlex_classifier():
    spec = importlib.util.spec_from_file_location("shlex_classifier", ROOT / "benches" / "shlex_classifier.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.classify


def median_seconds(fn, rounds, per_round=1):
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(per_round):
            fn()
        samples.append((time.perf_counter() - t) / per_round)
    return statistics.median(samples)


def plain_corpus():
    path = ROOT / "tests" / "data" / "plain_commands.txt"
    if not path.exists():
        return [TYPICAL]
    return [l for l in path.read_text().splitlines() if l.strip() and not l.startswith("#")]


def binding_overhead(runs=301, rounds=3):
    """Python Sandbox.run against Rust Sandbox::run_command, both back to back."""
    rust_bin = ROOT / "target" / "release" / "examples" / "loop_true"
    if not rust_bin.exists():
        return [f"binding overhead: {rust_bin} missing (cargo build --release --example loop_true)"]
    out = []
    with sandboxcore.Sandbox(sandboxcore.Policy.for_mode("selfhosted")) as sb:
        for _ in range(rounds):
            t = time.perf_counter()
            for _ in range(runs):
                sb.run(["/bin/true"])
            py = (time.perf_counter() - t) / runs
            text = subprocess.run(
                [str(rust_bin), str(runs), "0", "sandbox"], capture_output=True, text=True, check=True
            ).stdout
            value, unit = text.split(" per run")[0][:-2], text.split(" per run")[0][-2:]
            rust = float(value) / (1e3 if unit == "ms" else 1e6) if unit in ("ms", "µs") else None
            if rust is None:
                return [f"binding overhead: cannot read {text!r}"]
            out.append(
                f"binding overhead: Sandbox.run {py * 1e6:.0f} us, Rust Sandbox::run_command {rust * 1e6:.0f} us, "
                f"ratio {py / rust:.2f}x ({runs} back-to-back runs each)"
            )
    return out


def main():
    lines = []
    sub = median_seconds(lambda: subprocess.run(["/bin/true"]), 301)
    with sandboxcore.Sandbox(sandboxcore.Policy.for_mode("selfhosted")) as sb:
        sb.run(["/bin/true"])
        sbx = median_seconds(lambda: sb.run(["/bin/true"]), 301)
    with sandboxcore.Sandbox(
        sandboxcore.Policy.for_mode("selfhosted"), cgroups="off", network_isolation="off"
    ) as sb:
        bare = median_seconds(lambda: sb.run(["/bin/true"]), 301)
    # What the sandbox must do anyway, done with subprocess alone: capture
    # the output, start a new session (references, not goals).
    captured = median_seconds(
        lambda: subprocess.run(["/bin/true"], capture_output=True, start_new_session=True), 301
    )
    lines.append(f"run /bin/true: subprocess.run {sub * 1e6:.0f} us")
    lines.append(
        f"run /bin/true: subprocess.run(capture_output=True, start_new_session=True) {captured * 1e6:.0f} us, "
        f"ratio {captured / sub:.2f}x subprocess.run (reference)"
    )
    lines.append(f"run /bin/true: Sandbox.run {sbx * 1e6:.0f} us, ratio {sbx / sub:.2f}x subprocess.run")
    lines.append(
        f"run /bin/true: Sandbox.run without cgroups and netns {bare * 1e6:.0f} us, ratio {bare / sub:.2f}x subprocess.run"
    )
    lines.extend(binding_overhead())
    shlex_classify = shlex_classifier()
    for name, cmds in [("typical", [TYPICAL] * 100), ("plain corpus", plain_corpus())]:
        rust = median_seconds(lambda: [sandboxcore.classify(c) for c in cmds], 51) / len(cmds)
        py = median_seconds(lambda: [shlex_classify(c) for c in cmds], 51) / len(cmds)
        lines.append(
            f"classify {name}: sandboxcore.classify {rust * 1e9:.0f} ns, shlex classifier {py * 1e9:.0f} ns, "
            f"ratio {py / rust:.1f}x ({len(set(cmds))} commands)"
        )
    report = "\n".join(lines) + "\n"
    print(report, end="")
    out = ROOT / "target" / "criterion"
    out.mkdir(parents=True, exist_ok=True)
    (out / "python_bindings.txt").write_text(report)


if __name__ == "__main__":
    main()
