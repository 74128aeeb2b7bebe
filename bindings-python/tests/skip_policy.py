"""The tests' one skip policy (docs/design.md, "Skipped tests"), as a pytest
plugin (loaded by conftest.py): a skip is reported as a skip (`pytest -rs`
lists why), or fails the test when SANDBOXCORE_NO_SKIP=1 (set by .ci/run).
The older names SANDBOXCORE_REQUIRE_DOCKER=1 and CI are accepted when
SANDBOXCORE_NO_SKIP is not set."""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from typing import Any

import pytest

NO_SKIP = "SANDBOXCORE_NO_SKIP"
ALIASES = ("SANDBOXCORE_REQUIRE_DOCKER", "CI")


def _on(value: str) -> bool:
    return value.strip() not in ("", "0", "false")


def skips_fail(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether a skip fails the test: SANDBOXCORE_NO_SKIP when set, else
    any of the older names."""
    if NO_SKIP in environ:
        return _on(environ[NO_SKIP])
    return any(_on(environ.get(name, "")) for name in ALIASES)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and skips_fail():
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: {reason} ({NO_SKIP}=1: a test may not skip)"
