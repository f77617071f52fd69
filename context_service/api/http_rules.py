"""Two HTTP rules every answer of the app keeps, error answers and the routes mounted outside
the routers (``/mcp``) included, which litestar's ``after_request`` hooks never see.

- ``never_stored`` (a ``before_send`` hook, which sees every message the app sends): an
  answer that sets no ``Cache-Control`` says ``no-store``. Answers hold customers' data (a 409
  lists other customers' names and profile ids, a 404 repeats the email asked for), and no
  browser or proxy may keep a copy.
- ``head_as_get`` (around the app's ASGI handler, ahead of routing): ``HEAD`` is answered as
  ``GET`` would be, headers only (RFC 9110 9.1: every general-purpose server supports both).
  An uptime check that probes ``/health`` with HEAD sees a healthy server; HEAD on a route
  that has no GET is the 405 GET gets there, listing the methods the route takes. ``/mcp``
  keeps its own methods: GET there opens an event stream.
"""

from __future__ import annotations

from typing import cast

from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

_NO_STORE = (b"cache-control", b"no-store")
_OWN_METHODS = ("/mcp",)  # paths whose GET is no plain read


async def never_stored(message: Message, scope: Scope) -> None:
    """``before_send`` hook: ``Cache-Control: no-store`` on every answer that sets none."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", ()))
    if not any(name.lower() == b"cache-control" for name, _ in headers):
        message["headers"] = [*headers, _NO_STORE]


def head_as_get(app: ASGIApp) -> ASGIApp:
    """``app`` answering ``HEAD`` as ``GET``, with the body left out of the answer (its
    ``Content-Length`` stays the one GET would send)."""

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        http_scope = cast("HTTPScope", scope)  # a websocket's has no method
        if http_scope.get("method") != "HEAD" or _own_methods(http_scope["path"]):
            await app(scope, receive, send)
            return
        ended = False

        async def send_headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.body":
                if ended:
                    return
                ended = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        http_scope["method"] = "GET"
        await app(http_scope, receive, send_headers_only)

    return handler


def _own_methods(path: str) -> bool:
    return any(path == own or path.startswith(own + "/") for own in _OWN_METHODS)
