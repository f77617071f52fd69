"""MCP messages the tests send: the headers a streamable-HTTP client sends, the
``initialize`` request that opens a session, and a whole conversation with
``context-service mcp`` on stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

ACCEPT_MCP = {"Accept": "application/json, text/event-stream"}


def initialize(client_name: str = "test") -> dict[str, Any]:
    """A JSON-RPC ``initialize`` request from a client called ``client_name``."""
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": client_name, "version": "1"},
        },
    }


def stdio_answers(db: Path, lines: Sequence[str | bytes]) -> dict[Any, Any]:
    """The answers of ``context-service mcp`` on the store ``db`` to ``lines`` (after the
    handshake, then a ping with id 99, then the end of stdin; a line given as bytes is sent
    as it is), by id; answers with id null are
    under ``None`` in a list, in order."""
    messages = [
        json.dumps(initialize("test")),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        *lines,
        json.dumps({"jsonrpc": "2.0", "id": 99, "method": "ping"}),
    ]
    raw = [m if isinstance(m, bytes) else m.encode() for m in messages]  # bytes as sent
    proc = subprocess.run(
        [sys.executable, "-m", "context_service.cli", "mcp"],
        input=b"\n".join(raw) + b"\n",
        capture_output=True,
        env={**os.environ, "CONTEXT_SERVICE_DB": str(db)},
        timeout=120,
        cwd=REPO,
        check=True,
    )
    answers: dict[Any, Any] = {None: []}
    for line in proc.stdout.decode().splitlines():
        answer = json.loads(line)
        if answer["id"] is None:
            answers[None].append(answer)
        else:
            answers[answer["id"]] = answer
    return answers
