"""MCP messages the HTTP tests send: the headers a streamable-HTTP client sends, and the
``initialize`` request that opens a session."""

from __future__ import annotations

from typing import Any

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
