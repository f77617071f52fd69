"""A worker process that works out ``resolve --all``'s index rows ahead of the engine.

``resolve --all`` indexes every record a chunk at a time before it clusters any. For each
chunk, decoding the records, normalizing them into features and working out their identifier
and blocking-key rows is pure (``identity.index_rows``); writing the rows, finding candidates
and deciding pairs needs the write transaction. The worker does the first for the next chunks
while the caller does the second for the current one, so the rebuild uses both cores.

The worker reads the records through its own read-only connection. The rebuild holds the write
lock from before it listed the records and writes none of them, so the worker reads the same
records the rebuild listed (the last committed state). If the worker fails, the caller works
out the rest of the rows itself: the rebuild is the same, only slower.
"""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from context_service.identity.index_rows import IndexRows, index_rows_of_stored
from context_service.snapshot.background import exit_with_parent
from context_service.store.db import read_only

log = logging.getLogger(__name__)
AHEAD = 2  # chunks the worker may be ahead of the caller (each a few MB of rows)


class IndexWorker:
    """Index rows of chunks of stored records, worked out in a worker process (see the module
    doc). Use it as a context manager; ``rows_of`` yields each chunk's rows in order."""

    def __init__(self, db_path: str, region: str) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(db_path, region),
        )
        self.error: str | None = None  # why the worker stopped, if it did

    def rows_of(
        self, batches: list[list[int]], local: Callable[[list[int]], IndexRows]
    ) -> Iterator[IndexRows]:
        """Each batch's index rows, in order. The first is worked out by ``local`` while the
        worker starts; so is every batch after the worker failed."""
        pending: deque[Future[IndexRows]] = deque()
        submitted = 1  # the next batch to hand to the worker
        for number, batch in enumerate(batches):
            while self.error is None and submitted < len(batches) and len(pending) < AHEAD:
                pending.append(self._submit(batches[submitted]))
                submitted += 1
            if number == 0:
                yield local(batch)
                continue
            rows = self._result(pending.popleft()) if pending else None
            yield rows if rows is not None else local(batch)

    def _submit(self, batch: list[int]) -> Future[IndexRows]:
        try:
            return self._pool.submit(_rows_of, batch)
        except RuntimeError as exc:  # the pool broke while idle (BrokenProcessPool is one)
            failed: Future[IndexRows] = Future()
            failed.set_exception(exc)
            return failed

    def _result(self, future: Future[IndexRows]) -> IndexRows | None:
        if self.error is not None:
            future.cancel()
            return None
        try:
            return future.result()
        except Exception as exc:  # the worker died or failed: the caller does the rest
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("index worker failed (%s); resolve --all goes on without it", self.error)
            self._pool.shutdown(wait=False, cancel_futures=True)
            return None

    def close(self) -> None:
        """Stop the worker."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> IndexWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Worker:
    conn: sqlite3.Connection
    region: str


_worker = _Worker()


def _start_worker(db_path: str, region: str) -> None:
    exit_with_parent()
    conn = read_only(db_path)
    _worker.conn, _worker.region = conn, region


def _rows_of(batch: list[int]) -> IndexRows:
    return index_rows_of_stored(_worker.conn, batch, _worker.region)
