"""Full garbage collections made rare while a bulk run (a sync or an import) goes on.

A run keeps making objects that live for a page or a batch (payloads, mapped records, identity
state), so CPython's collector keeps finding "enough" new long-lived objects to walk every
object of the process again, caches included: about a seventh of a run's CPU at the default
thresholds, to find almost nothing (ingest makes few reference cycles). While a run goes on, a
full collection waits for ``FULL_COLLECTION_EVERY`` younger ones instead of 10; the young
generations are collected as usual, so short-lived cycles are still freed at once. Only when
collections happen changes: what they free, and every result, stays.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FULL_COLLECTION_EVERY = 1000


class RareFullCollections:
    """The thresholds the process had come back when the last run using this ends (runs may
    go on at once in threads: a sync in the server while an import runs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: tuple[int, int, int] | None = None

    @contextmanager
    def during(self) -> Iterator[None]:
        """Run a block with full collections ``FULL_COLLECTION_EVERY`` younger ones apart."""
        with self._lock:
            if self._users == 0:
                self._saved = gc.get_threshold()
                young, middle, full = self._saved
                gc.set_threshold(young, middle, max(full, FULL_COLLECTION_EVERY))
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._saved is not None:
                    gc.set_threshold(*self._saved)
                    self._saved = None


rare_full_collections = RareFullCollections()
