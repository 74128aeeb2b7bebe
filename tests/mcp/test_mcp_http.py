"""`sandboxcore mcp --listen`: streamable HTTP behind a bearer token, with
the official Python SDK's HTTP client."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from test_mcp_python import BIN, POLICY, require_server, server_env

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def http_server(work: Path, token: str | None, listen: str = "127.0.0.1:0") -> AsyncIterator[str]:
    """Starts the server on a free loopback port; yields its URL."""
    require_server()
    env = server_env()
    env.pop("SANDBOXCORE_MCP_TOKEN", None)
    if token is not None:
        env["SANDBOXCORE_MCP_TOKEN"] = token
    proc = await asyncio.create_subprocess_exec(
        BIN, "mcp", "--policy", str(POLICY), "--listen", listen,
        cwd=work, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        with anyio.fail_after(20):
            line = (await proc.stderr.readline()).decode(errors="replace")
        m = re.search(r"(http://\S+/mcp)", line)
        assert m, f"the server did not say where it listens: {line!r}"
        yield m.group(1)
    finally:
        if proc.returncode is None:
            proc.terminate()
            with anyio.fail_after(10):
                await proc.wait()


async def run_echo(url: str, headers: dict[str, str]) -> str:
    async with httpx2.AsyncClient(headers=headers, timeout=20) as client:
        async with streamable_http_client(url, http_client=client) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = {t.name for t in (await session.list_tools()).tools}
                assert {"classify", "check", "run"} <= tools
                r = await session.call_tool("run", {"argv": ["echo", "over http"]})
                assert not r.is_error, r
                return r.structured_content["stdout"]


async def test_loopback_without_token(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with http_server(tmp_path, None) as url:
            assert await run_echo(url, {}) == "over http\n"


async def test_bearer_token_is_required(tmp_path: Path) -> None:
    token = secrets.token_hex(16)
    with anyio.fail_after(60):
        async with http_server(tmp_path, token) as url:
            init = {
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "t", "version": "1"}},
            }
            accept = {"Accept": "application/json, text/event-stream"}
            async with httpx2.AsyncClient(timeout=10) as client:
                for headers in ({}, {"Authorization": "Bearer wrong"},
                                {"Authorization": token}, {"Authorization": f"Bearer {token}x"}):
                    r = await client.post(url, json=init, headers={**accept, **headers})
                    assert r.status_code == 401, (headers, r.status_code, r.text)
                    assert r.headers["www-authenticate"] == "Bearer", r.headers
                    # The body was not read: the connection is closed, and
                    # the client is told so (it must not send the next
                    # request on it).
                    assert r.headers["connection"] == "close", r.headers
            assert await run_echo(url, {"Authorization": f"Bearer {token}"}) == "over http\n"


async def test_public_address_without_token_is_refused(tmp_path: Path) -> None:
    require_server()
    env = server_env()
    env.pop("SANDBOXCORE_MCP_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        BIN, "mcp", "--policy", str(POLICY), "--listen", "0.0.0.0:0",
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    with anyio.fail_after(20):
        _, err = await proc.communicate()
    assert proc.returncode == 2, err
    assert b"SANDBOXCORE_MCP_TOKEN" in err, err


def sleeps(n: int) -> list[str]:
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[:2] == [b"sleep", str(n).encode()]:
                        found.append(p)
            except OSError:
                pass
    return found


async def test_cancelling_over_http_kills_the_command(tmp_path: Path) -> None:
    n = secrets.randbelow(9_000_000) + 1_000_000
    with anyio.fail_after(60):
        async with http_server(tmp_path, None) as url:
            async with httpx2.AsyncClient(timeout=20) as client:
                async with streamable_http_client(url, http_client=client) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        # The SDK sends notifications/cancelled when the call times out.
                        with pytest.raises(Exception):
                            await session.call_tool(
                                "run", {"argv": ["sleep", str(n)]}, read_timeout_seconds=1.5
                            )
                        for _ in range(100):
                            if not sleeps(n):
                                break
                            await anyio.sleep(0.05)
                        assert not sleeps(n), "the cancelled command still runs"
                        r = await session.call_tool("run", {"argv": ["echo", "after"]})
                        assert r.structured_content["stdout"] == "after\n"
