"""Paging helpers shared by connectors: a loop guard and Link-header parsing."""

from __future__ import annotations

import re

from context_service.errors import FatalError

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
