"""MCP over streamable HTTP, as an ASGI callable the HTTP app mounts at ``/mcp``.

Stateless mode with JSON responses: every POST is answered on its own, so any server worker
can take any request (``CONTEXT_SERVICE_WORKERS`` > 1) and no session state is kept. The
HTTP app's API-key guard runs before a request reaches this, so DNS-rebinding protection
(meant for unauthenticated local servers) is left off: a page cannot forge the Bearer key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from context_service.mcp_server.server import build_mcp_server, current_api_key
from context_service.tools import ToolBox


class McpHttp:
    """The MCP server's streamable-HTTP transport, with a lifespan the host app runs."""

    def __init__(self, toolbox: ToolBox) -> None:
        self.server = build_mcp_server(toolbox)
        self.server.streamable_http_app(
            streamable_http_path="/",
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    @asynccontextmanager
    async def lifespan(self, _app: Any = None) -> AsyncIterator[None]:
        """Run the session manager for the life of the host app (once per instance)."""
        async with self.server.session_manager.run():
            yield

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one MCP request (the path below the mount point does not matter).

        The request's API key (already checked by the host app) is made visible to the tools,
        which run in tasks started from here, so its field-policy grant applies.
        """
        token = current_api_key.set(_bearer(scope))
        try:
            await self.server.session_manager.handle_request(scope, receive, send)
        finally:
            current_api_key.reset(token)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None
