"""The snapshot queue, built without making anyone wait for all of it.

A profile in ``snapshot_queue`` is never served from its stored row (``snapshot.lookup``): a
read of a queued profile builds that one first (``build_queued_on_read``), and ``serve`` builds
the rest in a background thread (``SnapshotDrain``) instead of before it answers, so a migration
that queued every profile, or a long run that stopped, does not keep it silent for minutes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from functools import partial

from context_service.snapshot import lookup
from context_service.snapshot.materialize import materialize
from context_service.store import Store, snapshots
from context_service.store.db import is_busy
from context_service.store.snapshots import StoredSnapshot
from context_service.sync.ingest import IngestContext, utc_now

log = logging.getLogger(__name__)


def build_queued_now(store: Store, profile_id: str, *, ctx: IngestContext) -> StoredSnapshot | None:
    """Build one profile's snapshot now if it is still queued (a read found it queued), take
    it off the queue, and return its row as stored, read in the same transaction (``None``
    when the profile has none: it went away meanwhile)."""
    with store.transaction() as conn:
        if snapshots.is_queued(conn, profile_id):
            snapshots.unqueue(conn, [profile_id])
            materialize(conn, [profile_id], ctx.links, utc_now(), ctx.region)
        return snapshots.read_snapshot(conn, profile_id)


def build_queued_on_read(store: Store, ctx: IngestContext) -> None:
    """Have every read of ``store`` (``snapshot.lookup``) build a queued profile's snapshot
    before serving it (``build_queued_now``), whichever process queued it."""
    lookup.build_queued_on_read(store.conn, store, partial(build_queued_now, ctx=ctx))


class SnapshotDrain:
    """Builds the snapshot queue in a background thread, ``chunk`` profiles per transaction,
    so that ``serve`` answers while it runs (a read of a profile still queued builds that one
    itself, ``build_queued_on_read``). A chunk that cannot take the write lock is tried again
    later; any other error is logged and stops the thread, leaving the rest queued for the
    next start-up (or the reads).

    ``before_chunk`` runs in the thread before each chunk (tests hold the drain with it).
    """

    RETRY_SECONDS = 5.0

    def __init__(
        self,
        store: Store,
        ctx: IngestContext,
        chunk: int = 100,
        before_chunk: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.ctx = ctx
        self.chunk = chunk
        self.before_chunk = before_chunk
        self.built = 0
        self._stopping = threading.Event()
        self._emptied = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="snapshot-drain", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the drain found the queue empty; whether it did within ``timeout``."""
        return self._emptied.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the chunk in progress (what is left stays queued)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self.before_chunk is not None:
                self.before_chunk()
            if self._stopping.is_set():
                return
            try:
                built = self._build_chunk()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):  # a lasting fault: retrying would only repeat it
                    log.exception("building queued snapshots failed; reads build theirs")
                    return
                log.warning("building queued snapshots: %s; trying again shortly", exc)
                self._stopping.wait(self.RETRY_SECONDS)
                continue
            except Exception:
                log.exception("building queued snapshots failed; reads build theirs on demand")
                return
            if built is None:
                self._emptied.set()
                return
            self.built += built

    def _build_chunk(self) -> int | None:
        """Build one chunk of the queue in its own transaction; ``None`` when it is empty."""
        with self.store.transaction() as conn:
            ids = snapshots.dequeue(conn, self.chunk)
            if not ids:
                return None
            return materialize(conn, ids, self.ctx.links, utc_now(), self.ctx.region)
