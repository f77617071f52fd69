"""``Keyring``: from a presented API key to a ``Principal`` (bootstrap keys, then stored keys).

Stored keys are read from the database on every request, so a key revoked by the CLI in another
process stops working at once. ``last_used_at`` is written at most once a minute per key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from context_service.store import Store
from context_service.trust.keys import Bootstrap, Principal, lookup_key, touch

Clock = Callable[[], float]
TOUCH_EVERY_SECONDS = 60.0


def iso(ts: float) -> str:
    """A POSIX time as ISO-8601 UTC (seconds)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Keyring:
    """Authenticates keys; also the field policy's source of per-key grants."""

    def __init__(self, store: Store, bootstrap: Iterable[str], clock: Clock) -> None:
        self.store = store
        self.bootstrap = Bootstrap(bootstrap)
        self.clock = clock
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    def principal(self, presented: str | None) -> Principal | None:
        """Who ``presented`` is, or ``None`` when it is no live key."""
        if not presented:
            return None
        found = self.bootstrap.match(presented) or lookup_key(self.store.conn, presented)
        if found is not None and found.key_id is not None:
            self._touch(found.key_id)
        return found

    def peek(self, presented: str) -> Principal | None:
        """Who ``presented`` is, without recording a use (``FieldPolicy`` asks this)."""
        return self.bootstrap.match(presented) or lookup_key(self.store.conn, presented)

    def _touch(self, key_id: str) -> None:
        now = self.clock()
        with self._lock:
            if now - self._touched.get(key_id, float("-inf")) < TOUCH_EVERY_SECONDS:
                return
            self._touched[key_id] = now
        touch(self.store, key_id, iso(now))
