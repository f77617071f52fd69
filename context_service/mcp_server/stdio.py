"""MCP over stdio (``context-service mcp``): the SDK's transport, each line checked first.

The SDK's stdio transport drops a line it cannot parse as a JSON-RPC message, so a client that
sent one waits forever for its answer. Here every line read from stdin goes through
``envelope.envelope_error`` before the SDK sees it: a line that is not JSON is answered with
-32700 (parse error, id null), one that is no JSON-RPC 2.0 message with -32600, as ``POST
/mcp`` answers them, and the server reads on. Blank lines are skipped. When stdin ends,
the requests still running are answered before the server stops.

stdin is read through its own text wrapper (the SDK reads the one it is handed); stdout is
the SDK's, which keeps stray prints off the wire.
"""

from __future__ import annotations

import io
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable
from types import TracebackType
from typing import Any, Protocol, Self, cast

import anyio
import msgspec
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import ErrorData, JSONRPCError, JSONRPCResponse

from context_service.mcp_server.envelope import envelope_error

DRAIN_SECONDS = 60.0  # at most this long for answers still due when the client closes stdin
CANCELLED = "notifications/cancelled"  # a client's cancellation of one of its requests


class _Sender(Protocol):
    async def send(self, item: SessionMessage, /) -> None: ...


class _WriteStream(_Sender, Protocol):
    """The SDK's write stream, as the server uses it."""

    async def aclose(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None: ...


class CheckedLines:
    """The lines of ``lines`` that are JSON-RPC 2.0 messages; each other line is answered on
    the stream given to ``answer_on`` (the transport's write stream) and left out.

    At the end of ``lines`` it waits (``DRAIN_SECONDS`` at most) until every request it let
    through is answered, as seen by ``watch``, or cancelled by the client (which then gets
    no answer): the SDK cancels the requests still running when stdin ends, so a client that
    writes its requests and closes stdin (a pipe) would miss the answers of tools that run on
    a worker thread.
    """

    def __init__(self, lines: AsyncIterable[str]) -> None:
        self._lines = lines
        self._answers: _Sender | None = None
        self._ready = anyio.Event()
        self._due: set[str | int] = set()
        self._answered = anyio.Event()

    def answer_on(self, answers: _Sender) -> None:
        """Send the answers to bad lines on ``answers`` (lines wait for this to be called)."""
        self._answers = answers
        self._ready.set()

    def watch(self, stream: _WriteStream) -> _WriteStream:
        """``stream``, noting each answer sent on it (give this one to the server)."""
        return _Watched(stream, self._note_answer)

    async def __aiter__(self) -> AsyncIterator[str]:
        async for line in self._lines:
            if not line.strip():
                continue
            error = envelope_error(line)
            if error is None:
                self._note_request(line)
                yield line
                continue
            await self._ready.wait()
            if self._answers is not None:
                await self._answers.send(SessionMessage(_error_message(error)))
        with anyio.move_on_after(DRAIN_SECONDS):
            while self._due:
                await self._answered.wait()
                self._answered = anyio.Event()

    def _note_request(self, line: str) -> None:
        message = msgspec.json.decode(line)  # a JSON-RPC message: envelope_error said so
        request_id = message.get("id")
        if "method" in message and request_id is not None:
            self._due.add(request_id)
        elif message.get("method") == CANCELLED:  # the SDK answers a cancelled request never
            self._forget(message.get("params", {}).get("requestId"))

    def _forget(self, request_id: Any) -> None:
        """Stop waiting for the answer to ``request_id``."""
        if isinstance(request_id, str | int):
            self._due.discard(request_id)
            self._answered.set()

    def _note_answer(self, item: SessionMessage) -> None:
        message = item.message
        if isinstance(message, JSONRPCResponse | JSONRPCError) and message.id is not None:
            self._due.discard(message.id)
            self._answered.set()


class _Watched:
    """A write stream that calls ``seen`` with each message it has sent."""

    def __init__(self, stream: _WriteStream, seen: Callable[[SessionMessage], None]) -> None:
        self._stream = stream
        self._seen = seen

    async def send(self, item: SessionMessage, /) -> None:
        await self._stream.send(item)
        self._seen(item)  # once sent: stdin's end may stop the server from here on

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> Self:
        await self._stream.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        return await self._stream.__aexit__(exc_type, exc_val, exc_tb)


def _error_message(error: dict[str, Any]) -> JSONRPCError:
    return JSONRPCError(
        jsonrpc="2.0", id=error["id"], error=ErrorData.model_validate(error["error"])
    )


async def serve_stdio(server: Server[Any]) -> None:
    """Run ``server`` (the low-level server of an ``MCPServer``) on stdin and stdout until the
    client closes stdin."""
    # A byte that is no UTF-8 stays a lone surrogate, so that the line is refused (-32700) as
    # over HTTP, not run with U+FFFD in place of what was sent.
    text = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape")
    lines = CheckedLines(anyio.wrap_file(text))
    try:
        # The SDK only iterates the stdin it is handed; an AsyncFile is what it names.
        async with stdio_server(stdin=cast("anyio.AsyncFile[str]", lines)) as (reader, writer):
            lines.answer_on(writer)
            options = server.create_initialization_options()
            await server.run(reader, lines.watch(writer), options)
    finally:
        text.detach()  # leave sys.stdin's buffer open: it is not ours to close
