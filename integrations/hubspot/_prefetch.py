"""Copies fetched while a webhook delivery is parsed, handed to the applier's refetch.

``HubSpotConnector.parse_webhook`` fetches the records a delivery refetches, to follow the
merges they list (``hs_merged_object_ids``) as the streams do. The applier then asks
``fetch_one`` for the same records (``Delivery.refetch``); the copies fetched a moment before
answer it, so each record is fetched once per delivery. A copy is handed out once, and only
for ``max_age`` seconds: a copy left behind (a delivery that failed in between) is never
mistaken for a fresh one later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import msgspec

from integrations._connector import VendorObject

__all__ = ["Prefetched"]

Key = tuple[str, str]


class _Copy(msgspec.Struct, frozen=True):
    found: VendorObject | None
    fetched_at: float


class Prefetched:
    """Fetched copies by (kind, external id), each taken at most once within ``max_age``."""

    def __init__(self, now: Callable[[], float], max_age: float) -> None:
        self._now = now
        self._max_age = max_age
        self._copies: dict[Key, _Copy] = {}
        self._lock = threading.Lock()

    def put(self, key: Key, found: VendorObject | None) -> None:
        """Keep ``found`` (``None``: the vendor has no such record) as ``key``'s copy."""
        with self._lock:
            self._forget_stale()
            self._copies[key] = _Copy(found, self._now())

    def take(self, key: Key) -> tuple[bool, VendorObject | None]:
        """``(True, copy)`` for a fresh copy of ``key`` (now forgotten), else ``(False, None)``."""
        with self._lock:
            self._forget_stale()
            copy = self._copies.pop(key, None)
        return (False, None) if copy is None else (True, copy.found)

    def drop(self, keys: list[Key]) -> None:
        """Forget the copies of ``keys`` (a delivery that could not be parsed after all)."""
        with self._lock:
            for key in keys:
                self._copies.pop(key, None)

    def _forget_stale(self) -> None:
        oldest = self._now() - self._max_age
        for key in [k for k, copy in self._copies.items() if copy.fetched_at < oldest]:
            del self._copies[key]
