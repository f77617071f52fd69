"""``Keyring``: from a presented API key to a ``Principal`` (bootstrap keys, then stored keys).

Live keys are cached in memory, by the SHA-256 of the presented key (never the key itself: a
cache probe reveals no more about a key than the stored digest does), so a request costs a hash
and a dictionary lookup instead of a query. The cache is dropped whenever the keys may have
changed:

* at once when this process creates or revokes a key (``keys.generation`` moves);
* within ``RECHECK_SECONDS`` when another process does (``context-service keys revoke``): at
  most that often the keyring asks SQLite whether anything was committed since it last looked
  (``PRAGMA data_version``, plus the connection's own ``total_changes`` for an in-memory
  store) and forgets every key if so.

Unknown and revoked keys are never cached, so a key created anywhere works at once and a wrong
key always costs the full check. ``last_used_at`` is written at most once a minute per key, by a
background thread (``TouchWriter``): the check runs on the server's event loop, and a write
there would wait (up to the busy timeout) whenever another process holds the write lock.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from context_service.store import Store
from context_service.trust import keys
from context_service.trust.keys import Bootstrap, Principal, lookup_key, touch

Clock = Callable[[], float]
TOUCH_EVERY_SECONDS = 60.0
RECHECK_SECONDS = 0.25  # how stale a key revoked by another process may be, at most
_MAX_CACHED = 4096  # live keys; past this the cache starts over (there are never that many)
log = logging.getLogger(__name__)


def iso(ts: float) -> str:
    """A POSIX time as ISO-8601 UTC (seconds)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TouchWriter:
    """Writes keys' ``last_used_at`` from a background thread, started at the first use.

    ``add`` only notes the time and wakes the thread, so no request waits on SQLite's write
    lock; a failed write is logged and forgotten (the next use writes the key again). After
    ``close`` a use is written at once.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: dict[str, str] = {}  # key id -> last use (ISO-8601)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, key_id: str, at: str) -> None:
        """Note that a key was used at ``at``; written soon, off the caller's thread."""
        with self._lock:
            self._pending[key_id] = at
            closed = self._closed
            if not closed and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="key-touch", daemon=True)
                self._thread.start()
        if closed:
            self.write()
        else:
            self._wake.set()

    def write(self) -> None:
        """Write every noted use now (failures are logged)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        try:
            for key_id, at in pending.items():
                touch(self.store, key_id, at)
        except sqlite3.Error:
            log.warning("could not record API key use (last_used_at)", exc_info=True)

    def close(self) -> None:
        """Stop the thread and write what is noted."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)
        self.write()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            self.write()


class Keyring:
    """Authenticates keys; also the field policy's source of per-key grants.

    ``clock`` gives POSIX seconds (``last_used_at``); ``monotonic`` paces the cross-process
    check and the ``last_used_at`` writes (tests pass a clock they move by hand).
    """

    def __init__(
        self,
        store: Store,
        bootstrap: Iterable[str],
        clock: Clock,
        monotonic: Clock = time.monotonic,
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self.store = store
        self.bootstrap = Bootstrap(bootstrap)
        self.clock = clock
        self.monotonic = monotonic
        self.recheck_seconds = recheck_seconds
        self._touched: dict[str, float] = {}
        self.touches = TouchWriter(store)
        self._lock = threading.Lock()
        self._cache: dict[bytes, Principal] = {}
        self._seen: tuple[int, int, int] | None = None  # generation, data_version, changes
        self._keyset: tuple[int, ...] = ()  # count, revoked count, newest rowid of api_keys
        self._checked_at = float("-inf")

    def principal(self, presented: str | None) -> Principal | None:
        """Who ``presented`` is, or ``None`` when it is no live key."""
        if not presented:
            return None
        found = self._find(presented)
        if found is not None and found.key_id is not None:
            self._touch(found.key_id)
        return found

    def peek(self, presented: str) -> Principal | None:
        """Who ``presented`` is, without recording a use (``FieldPolicy`` asks this)."""
        return self._find(presented) if presented else None

    def forget(self) -> None:
        """Drop every cached key (the next request of each key reads the database)."""
        self._cache = {}

    def _find(self, presented: str) -> Principal | None:
        # The dict is taken before the lookup: if the keys change meanwhile, what the lookup
        # found goes into a dict that has already been replaced, never into the current one.
        cache = self._current()
        key_digest = hashlib.sha256(presented.encode()).digest()
        found = cache.get(key_digest)
        if found is not None:
            return found
        found = self.bootstrap.match(presented) or lookup_key(self.store.conn, presented)
        if found is not None:
            if len(cache) >= _MAX_CACHED:
                cache.clear()
            cache[key_digest] = found
        return found

    def _current(self) -> dict[bytes, Principal]:
        """The cache, emptied first when the keys may have changed (see the module doc)."""
        generation = keys.generation()
        seen = self._seen
        now = self.monotonic()
        elapsed = now - self._checked_at
        if seen is not None and seen[0] == generation and 0 <= elapsed < self.recheck_seconds:
            return self._cache
        conn = self.store.conn
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        state = (generation, int(version), conn.total_changes)
        if state != seen:
            # Something changed the file; only a change to the keys empties the cache (the
            # read audit commits every quarter second, and would otherwise empty it each time).
            # Keys are created or revoked, never edited, so this fingerprint sees every change.
            keyset = conn.execute(
                "SELECT count(*), count(revoked_at), coalesce(max(rowid), 0) FROM api_keys"
            ).fetchone()
            if seen is None or state[0] != seen[0] or tuple(keyset) != self._keyset:
                self._cache = {}
            self._keyset = tuple(keyset)
        self._seen = state
        self._checked_at = now
        return self._cache

    def _touch(self, key_id: str) -> None:
        # Paced by the monotonic clock: with the wall clock, a step back (NTP, a VM restored)
        # would leave ``last_used_at`` unwritten until the clock caught up again.
        steady = self.monotonic()
        with self._lock:
            if 0 <= steady - self._touched.get(key_id, float("-inf")) < TOUCH_EVERY_SECONDS:
                return
            self._touched[key_id] = steady
        self.touches.add(key_id, iso(self.clock()))

    def close(self) -> None:
        """Write the key uses not yet written and stop their writer."""
        self.touches.close()
