"""The skip policy (skip_policy.py): which variables make a skip a failure,
and what a skip becomes, on a real pytest run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from skip_policy import skips_fail

HERE = Path(__file__).parent


def test_no_skip_decides_and_the_older_names_are_aliases() -> None:
    assert not skips_fail({})
    assert skips_fail({"SANDBOXCORE_NO_SKIP": "1"})
    assert not skips_fail({"SANDBOXCORE_NO_SKIP": "0", "CI": "true"})
    assert skips_fail({"SANDBOXCORE_REQUIRE_DOCKER": "1"})
    assert skips_fail({"CI": "true"}) and not skips_fail({"CI": "false"})


def _run(tmp_path: Path, no_skip: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_child.py"
    test.write_text("import pytest\n\ndef test_needs_a_unicorn():\n    pytest.skip('no unicorn here')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "SANDBOXCORE_REQUIRE_DOCKER")}
    env.update(SANDBOXCORE_NO_SKIP=no_skip, PYTHONPATH=str(HERE))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "skip_policy", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_skip_is_reported_or_fails_under_no_skip(tmp_path: Path) -> None:
    r = _run(tmp_path, "0")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 skipped" in r.stdout and "no unicorn here" in r.stdout, r.stdout
    r = _run(tmp_path, "1")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 failed" in r.stdout, r.stdout
    assert "test_needs_a_unicorn: no unicorn here (SANDBOXCORE_NO_SKIP=1: a test may not skip)" in r.stdout, r.stdout
