"""Paging helpers shared by connectors: a loop guard, Link-header parsing, JSON cursors."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

from context_service.errors import FatalError

_C = TypeVar("_C", bound=msgspec.Struct)

_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')


class LoopGuard:
    """Stops a run that receives the same page token twice (a vendor bug or our own)."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self._seen: set[str] = set()

    def check(self, token: str | None) -> None:
        """Raise ``FatalError`` if ``token`` was already followed in this run."""
        if token is None:
            return
        if token in self._seen:
            raise FatalError(f"{self.stream}: page token {token[:40]!r} repeated; stopping")
        self._seen.add(token)


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header (Shopify REST), if any."""
    if not header:
        return None
    for url, rel in _LINK.findall(header):
        if rel == "next":
            return str(url)
    return None


def decode_cursor(cursor: str | None, into: type[_C], what: str) -> _C | None:
    """A stream's committed cursor read back as ``into``; ``None`` before the first run.

    A cursor that does not decode is a ``FatalError`` naming ``what`` (``"stripe customers"``):
    resuming from a guess could skip or repeat records.
    """
    if cursor is None:
        return None
    try:
        return msgspec.json.decode(cursor, type=into)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FatalError(f"{what}: unreadable cursor {cursor[:80]!r}: {exc}") from exc


def encode_cursor(cursor: msgspec.Struct) -> str:
    """A cursor as the JSON text the sync runner commits with its page."""
    return msgspec.json.encode(cursor).decode()
