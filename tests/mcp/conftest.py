"""Fixtures of the Python MCP SDK end-to-end tests of `sandboxcore mcp`."""

from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # The SDK runs on anyio; its pytest plugin runs the `anyio`-marked tests.
    return "asyncio"


@pytest.fixture
def server_stderr(tmp_path: Path):
    """Where the server's stderr (its log) goes; shown when a test fails."""
    path = tmp_path / "server.stderr"
    path.touch()
    yield path
    text = path.read_text(errors="replace")
    if text.strip():
        # Printed at teardown: pytest shows it with the failure's report.
        print(f"--- server stderr ({path}) ---\n{text[-8000:]}")
