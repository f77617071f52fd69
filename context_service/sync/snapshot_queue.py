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


def build_queued_now(
    store: Store,
    profile_id: str,
    now: str | None = None,
    wait_s: float | None = None,
    *,
    ctx: IngestContext,
) -> StoredSnapshot | None:
    """Build one profile's snapshot as of ``now`` (default: the current time) if it is still
    queued, or its time-dependent signals changed by then (``refresh_at``: given a new version
    first, ``snapshots.queue_refresh``), take it off the queue, and return its row as stored,
    read in the same transaction (``None`` when the profile has none: it went away meanwhile).
    ``wait_s`` bounds the wait for the write lock (``Store.transaction``).
    """
    at = now or utc_now()
    with store.transaction(wait_s=wait_s) as conn:
        if snapshots.is_due(conn, profile_id, at):
            snapshots.queue_refresh(conn, [profile_id], at)
        if snapshots.is_queued(conn, profile_id):
            snapshots.unqueue(conn, [profile_id])
            materialize(conn, [profile_id], ctx.links, at, ctx.region)
        return snapshots.read_snapshot(conn, profile_id)


def refresh_due(store: Store, ctx: IngestContext, now: str, chunk: int = 100) -> int:
    """Build again, each with a new version, the snapshots whose time-dependent signals
    changed by ``now`` (``refresh_at`` passed: an invoice fell overdue), ``chunk`` profiles per
    transaction, so pushes and caches catch up without a read. Each chunk is queued and built
    in one transaction; return how many snapshots were stored. Whether any is due is read
    first (the partial index, no write lock): most passes find none."""
    if not snapshots.due_for_refresh(store.conn, now, 1):
        return 0
    built = 0
    while True:
        with store.transaction() as conn:
            ids = snapshots.due_for_refresh(conn, now, chunk)
            if not ids:
                return built
            snapshots.queue_refresh(conn, ids, now)
            snapshots.unqueue(conn, ids)
            built += materialize(conn, ids, ctx.links, now, ctx.region)


def build_queued_on_read(store: Store, ctx: IngestContext) -> None:
    """Have every read of ``store`` (``snapshot.lookup``) build a queued profile's snapshot
    before serving it (``build_queued_now``), whichever process queued it."""
    lookup.build_queued_on_read(store.conn, store, partial(build_queued_now, ctx=ctx))


class SnapshotDrain:
    """Builds the snapshot queue in a background thread, ``chunk`` profiles per transaction,
    so that ``serve`` answers while it runs (a read of a profile still queued builds that one
    itself, ``build_queued_on_read``). A chunk that cannot take the write lock is tried again
    later. A chunk that fails otherwise is built again one profile at a time: a profile that
    still fails is logged once (its id and the error type) and left queued, so that its reads
    build it or fail visibly, and the drain goes on past it. An error outside any chunk (the
    queue cannot be read) is logged and stops the thread, leaving the rest queued for the next
    start-up (or the reads).

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
        self.failed: set[str] = set()  # queued profiles whose snapshot could not be built
        self._after = ""  # the queue before (and at) this id is built or failed, this run
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
            self.built += built or 0
            if built is None or (self._after and self._nothing_left()):
                self._emptied.set()
                return

    def _build_chunk(self) -> int | None:
        """Build the next chunk of the queue in its own transaction (one profile at a time if
        that fails for another reason than a lock); ``None`` when nothing is left to build."""
        ids: list[str] = []
        try:
            with self.store.transaction() as conn:
                ids = snapshots.queued_after(conn, self._after, self.chunk)
                if not ids:
                    return None
                snapshots.unqueue(conn, ids)
                return self._materialize(conn, ids)
        except Exception as exc:
            if not ids or _is_lock(exc):
                raise
            log.warning(
                "building %d queued snapshots failed (%s); building them one at a time",
                len(ids),
                type(exc).__name__,
            )
        built = sum(self._build_one(profile_id) for profile_id in ids)
        self._after = ids[-1]  # what failed stays queued; the next chunk starts past it
        return built

    def _build_one(self, profile_id: str) -> int:
        """Build one queued profile in its own transaction; a failure (other than a lock) is
        logged once and leaves it queued. Return how many snapshots were stored."""
        try:
            with self.store.transaction() as conn:
                if not snapshots.is_queued(conn, profile_id):  # a read built it meanwhile
                    return 0
                snapshots.unqueue(conn, [profile_id])
                return self._materialize(conn, [profile_id])
        except Exception as exc:
            if _is_lock(exc):
                raise
            if profile_id not in self.failed:
                self.failed.add(profile_id)
                log.warning(
                    "the snapshot of queued profile %s could not be built (%s); "
                    "left queued for its reads",
                    profile_id,
                    type(exc).__name__,
                )
            return 0

    def _materialize(self, conn: sqlite3.Connection, ids: list[str]) -> int:
        return materialize(conn, ids, self.ctx.links, utc_now(), self.ctx.region)

    def _nothing_left(self) -> bool:
        """Whether nothing is queued past the profiles this run could not build (read on the
        store's read connection: no write lock needed to find the drain done)."""
        return not snapshots.queued_after(self.store.conn, self._after, 1)


def _is_lock(exc: Exception) -> bool:
    """Whether ``exc`` says another connection holds a lock (worth retrying later)."""
    return isinstance(exc, sqlite3.OperationalError) and is_busy(exc)
