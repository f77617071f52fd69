"""Serve an in-memory vendor fake (an httpx-style handler) over real HTTP on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


def handler_class(handler: Handler, throttle_every: int = 0) -> type[BaseHTTPRequestHandler]:
    """A request handler forwarding to ``handler``; every Nth request answers 429 if asked."""
    lock = threading.Lock()
    counter = {"n": 0}

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK stall every keep-alive response by ~40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _forward(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                counter["n"] += 1
                if throttle_every and counter["n"] % throttle_every == 0:
                    response = httpx.Response(429, headers={"Retry-After": "0"}, json={})
                else:
                    request = httpx.Request(
                        self.command,
                        f"http://loopback{self.path}",
                        headers=dict(self.headers),
                        content=body,
                    )
                    response = handler(request)
            payload = response.content
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _forward
        do_POST = _forward

        def log_message(self, *args: Any) -> None:
            return

    return Forward


@contextmanager
def serving(handler: Handler, throttle_every: int = 0) -> Iterator[str]:
    """Run a loopback HTTP server for ``handler``; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class(handler, throttle_every))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
