"""Build snapshots in a worker process while the caller keeps ingesting.

A long import or backfill defers its snapshots (``snapshot_queue``) and, with this helper,
hands each committed batch's changed profiles to a worker. The worker reads the committed
state through its own read-only connection (WAL lets it read while the caller writes), builds
and encodes each snapshot, and sends back the rows; the caller stores a row only if the
profile's version is still the one the worker read (``save_if_current``), so a profile changed
again in the meantime is never overwritten with an older picture: its newer version is queued
and built again. Whatever the worker did not finish is left in the queue for
``drain_snapshots``, so a crash loses nothing.

The caller's process keeps one core busy with mapping, resolution and writes; the worker uses
the second.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import sqlite3
import threading
import time
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from context_service.snapshot.assemble import load_profiles
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.materialize import collector_paused, snapshot_rows
from context_service.store.db import read_only
from context_service.store.snapshots import StoredSnapshot, save_if_current

log = logging.getLogger(__name__)
_CHUNK = 200  # profiles per task: a handful of queries per chunk, and small messages


class BackgroundSnapshots:
    """A worker pool that builds snapshot rows for the caller to store (see the module doc)."""

    def __init__(
        self,
        db_path: str,
        links: DashboardLinks,
        region: str,
        workers: int = 0,
        window: float = 0.0,
    ) -> None:
        count = workers or max(1, min(2, (os.cpu_count() or 2) - 1))
        self._pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(db_path, links, region),
        )
        self._pending: list[Future[list[StoredSnapshot]]] = []
        self._held: set[str] = set()
        self._due: set[str] = set()  # committed, not yet handed to the worker
        self.window = window  # seconds between two hand-overs (see ``release``)
        self._handed_at = time.monotonic()  # of the last hand-over (or of the start)
        self.stored = 0  # snapshots stored so far, over the helper's life
        self.error: str | None = None  # why the worker stopped, if it did

    def hold(self, profile_ids: set[str]) -> None:
        """Remember profiles changed by the open transaction, to build once it commits."""
        self._held |= profile_ids

    def release(self, now: str) -> None:
        """The transaction committed: hand the changed profiles to the worker, to build from
        the state committed now.

        With a ``window``, profiles are handed over at most once per ``window`` seconds: a
        profile that changes again meanwhile (its orders come a few pages after the customer)
        is built once, not once per page, and no snapshot lags its data by much more than the
        window. Whatever is still due when the run ends is built by ``drain_snapshots``.
        """
        self._due |= self._held
        self._held = set()
        if self.error is not None:
            self._due.clear()  # they stay queued for ``drain_snapshots``
            return
        if time.monotonic() - self._handed_at < self.window:
            return
        wanted, self._due = sorted(self._due), set()
        self._handed_at = time.monotonic()
        self.submit(wanted, now)

    def submit(self, profile_ids: list[str], now: str) -> None:
        """Have the worker build these profiles from the state committed now."""
        for start in range(0, len(profile_ids), _CHUNK):
            chunk = profile_ids[start : start + _CHUNK]
            try:
                self._pending.append(self._pool.submit(_build, chunk, now))
            except (BrokenProcessPool, RuntimeError) as exc:  # the worker died while idle
                self._broken(exc)
                return

    def forget_due(self) -> None:
        """Drop the profiles not handed over yet (``drain_snapshots`` takes them from the
        queue instead)."""
        self._due.clear()

    @property
    def busy(self) -> int:
        """How many submitted chunks are not finished yet."""
        return sum(not future.done() for future in self._pending)

    def wait(self) -> None:
        """Wait until every submitted build has finished (call it outside a transaction, so
        other writers are not held off meanwhile)."""
        futures.wait(self._pending)

    def store_ready(self, conn: sqlite3.Connection, wait: bool = False) -> int:
        """Store every finished result that is still current (all of them with ``wait``);
        return how many snapshots were stored. Call it inside a write transaction."""
        stored = 0
        still: list[Future[list[StoredSnapshot]]] = []
        for future in self._pending:
            if not (wait or future.done()):
                still.append(future)
                continue
            try:
                rows = future.result()
            except Exception as exc:  # the worker died or failed: the queue still has them
                self._broken(exc)
                continue
            stored += save_if_current(conn, rows)
        self._pending = still if self.error is None else []
        self.stored += stored
        return stored

    def _broken(self, exc: Exception) -> None:
        if self.error is None:
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("snapshot worker failed (%s); the caller builds the rest", self.error)
            self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (results not stored stay queued for ``drain_snapshots``)."""
        for future in self._pending:
            future.cancel()
        self._pending = []
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BackgroundSnapshots:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Worker:
    conn: sqlite3.Connection
    links: DashboardLinks
    region: str


_worker = _Worker()


def _start_worker(db_path: str, links: DashboardLinks, region: str) -> None:
    exit_with_parent()
    conn = read_only(db_path)
    _worker.conn, _worker.links, _worker.region = conn, links, region


def exit_with_parent() -> None:
    """End this worker as soon as the process that started it is gone.

    A caller killed by SIGTERM or SIGKILL never shuts its pool down, and the worker would wait
    on its task queue forever (re-parented to init), holding the database open. A daemon
    thread waits on the parent's sentinel, which becomes ready when the parent exits.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not started by a pool (a test calling the initializer directly)
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(0)  # nothing of the worker's needs saving: it only reads

    threading.Thread(target=watch, name="worker-parent-watch", daemon=True).start()


def _build(profile_ids: list[str], now: str) -> list[StoredSnapshot]:
    with collector_paused():  # ``_rows_of`` frees what it built from before the block ends
        return _rows_of(profile_ids, now)


def _rows_of(profile_ids: list[str], now: str) -> list[StoredSnapshot]:
    """The chunk's rows; what they were built from is freed on return (``collector_paused``)."""
    conn = _worker.conn
    conn.execute("BEGIN")  # one consistent read of everything the chunk needs
    try:
        loaded = load_profiles(conn, profile_ids, _worker.links)
    finally:
        conn.execute("COMMIT")
    return snapshot_rows(loaded, _worker.links, now, _worker.region)
