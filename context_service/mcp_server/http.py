"""MCP over streamable HTTP, as an ASGI callable the HTTP app mounts at ``/mcp``.

Stateless mode with JSON responses: every POST is answered on its own, so any server worker
can take any request (``CONTEXT_SERVICE_WORKERS`` > 1) and no session state is kept. The
HTTP app's API-key guard runs before a request reaches this, so DNS-rebinding protection
(meant for unauthenticated local servers) is left off: a page cannot forge the Bearer key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Message, Receive, Scope, Send

from context_service.errors import ContextServiceError
from context_service.mcp_server.envelope import envelope_error, is_malformed
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

        A body that is no JSON-RPC 2.0 message is answered here (400, see ``envelope``), and
        a ``tools/call`` with unusable params too (200 with error -32602). The
        request's API key (already checked by the host app) is made visible to the tools,
        which run in tasks started from here, so its field-policy grant applies.
        """
        body = await read_body(receive)
        error = envelope_error(body)
        if error is not None:  # invalid params: 200, as the SDK answers a JSON-RPC error
            await _send_json(send, 400 if is_malformed(error) else 200, error)
            return
        token = current_api_key.set(_bearer(scope))
        try:
            await self.server.session_manager.handle_request(scope, replaying(body, receive), send)
        finally:
            current_api_key.reset(token)


# An ASGI ``receive`` as Starlette or Litestar types it.
AnyReceive = Callable[[], Awaitable[Mapping[str, Any]]]


class BodyTooLarge(ContextServiceError):
    """The request body is larger than the limit it was read with."""

    status_code = 413
    title = "Payload too large"


async def read_body(receive: AnyReceive, limit: int | None = None) -> bytes:
    """The whole request body; raises ``BodyTooLarge`` as soon as more than ``limit`` bytes
    have come (the caller checks ``Content-Length`` first: a client may send none)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect: no more body will come
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise BodyTooLarge(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: AnyReceive) -> Receive:
    """A ``receive`` that hands out ``body`` (already read) once, then defers to ``receive``
    (which then reports the disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else dict(await receive())

    return replay


async def _send_json(send: Send, status: int, document: dict[str, Any]) -> None:
    body = msgspec.json.encode(document)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None
