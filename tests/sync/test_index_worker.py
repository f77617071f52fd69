"""``resolve --all``'s index worker: a worker process works out each chunk's index rows ahead
of the rebuild, and the rebuild comes out the same as without it, even when the worker dies."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from context_service.identity.index_rows import IndexRows
from context_service.identity.rebuild import rebuild
from context_service.store import Store
from context_service.sync import IngestContext, ingest_batch
from context_service.sync import rebuild as sync_rebuild
from context_service.sync.index_worker import IndexWorker
from context_service.wiring import default_mappers
from tests.identity.test_engine_updates_match_rebuild import (
    Put,
    assert_consistent,
    open_review_pairs,
    payload_of,
    profiles_by_id,
    stamp,
)

# Every slot written, with households, nicknames and typos: links, reviews and lone records.
_STEPS = [
    Put(0, 0, 0, 0, 0),
    Put(1, 1, 2, 1, 0),
    Put(2, 0, 1, 0, 0),
    Put(3, 2, 2, 1, 0),
    Put(4, 0, 0, 0, 1),
    Put(5, 4, 3, 2, 2),
    Put(6, 3, 4, 2, 1),
    Put(7, 5, 3, 0, 2),
]
_TABLES = (
    "SELECT kind, value, record_id, strong FROM identifiers",
    "SELECT record_id, features FROM identity_features",
    "SELECT a, b, link, probability FROM identity_edges",
    "SELECT profile_id, record_id, other_record_id, rule FROM identity_links",
    "SELECT alias, profile_id FROM profile_aliases",
    "SELECT id, a, b, status FROM review_items",
)


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    store = Store(path)
    ctx = IngestContext(mappers=default_mappers())
    for n, step in enumerate(_STEPS):
        ingest_batch(store, [payload_of(step, stamp(n))], ctx)
    store.close()
    return path


def _copy(path: Path, name: str) -> Store:
    source, copy = Store(path), Store(path.with_name(name))
    source.conn.backup(copy.conn)
    source.close()
    return copy


def _state(store: Store) -> tuple[Any, ...]:
    assert_consistent(store)
    tables = tuple(sorted(tuple(row) for row in store.conn.execute(sql)) for sql in _TABLES)
    return profiles_by_id(store), open_review_pairs(store), tables


Local = Callable[[list[int]], IndexRows]


def _counting(local: Local, calls: list[int]) -> Local:
    def counted(batch: list[int]) -> IndexRows:
        calls.append(len(batch))
        return local(batch)

    return counted


def _rebuilt(store: Store, worker: IndexWorker | None, local_calls: list[int]) -> tuple[Any, ...]:
    def prepare(batches: list[list[int]], local: Local) -> Iterable[IndexRows]:
        assert worker is not None
        return worker.rows_of(batches, _counting(local, local_calls))

    with store.transaction() as conn:
        report = rebuild(
            conn, "US", "2026-12-02T00:00:00Z", chunk=1, prepare=prepare if worker else None
        )
    assert report.records == len(_STEPS)
    return _state(store)


def test_the_worker_gives_the_rebuild_of_the_engine_alone(stored: Path) -> None:
    alone, helped = _copy(stored, "alone.db"), _copy(stored, "helped.db")
    expected = _rebuilt(alone, None, [])
    assert len(expected[0]) >= 3
    assert expected[1]  # open review items
    assert all(expected[2][:3])  # identifiers, features and edges
    calls: list[int] = []
    with IndexWorker(helped.path, "US") as worker:
        assert _rebuilt(helped, worker, calls) == expected
        assert worker.error is None
    assert calls == [1]  # only the first chunk, while the worker started; it did the other 7
    alone.close()
    helped.close()


def test_a_worker_that_cannot_start_leaves_the_rows_to_the_caller(
    stored: Path, tmp_path: Path
) -> None:
    alone, helped = _copy(stored, "alone.db"), _copy(stored, "helped.db")
    expected = _rebuilt(alone, None, [])
    calls: list[int] = []
    with IndexWorker(str(tmp_path / "missing.db"), "US") as worker:  # read-only open fails
        assert _rebuilt(helped, worker, calls) == expected
        assert worker.error is not None
    assert calls == [1] * len(_STEPS)  # every chunk worked out by the caller
    alone.close()
    helped.close()


def test_resolve_all_hands_a_file_store_to_a_worker_and_an_in_memory_one_not(
    stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []
    real = rebuild

    def spying(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("prepare"))
        return real(*args, **kwargs)

    monkeypatch.setattr(sync_rebuild, "rebuild", spying)
    ctx = IngestContext(mappers=default_mappers())
    on_disk = Store(stored)
    memory = Store(":memory:")
    on_disk.conn.backup(memory.conn)
    before = profiles_by_id(on_disk)
    sync_rebuild.resolve_all(on_disk, ctx)
    sync_rebuild.resolve_all(memory, ctx)
    assert seen[0] is not None
    assert seen[1] is None
    assert profiles_by_id(on_disk) == before == profiles_by_id(memory)
    on_disk.close()
    memory.close()


def test_a_worker_killed_mid_rebuild_leaves_the_rest_to_the_caller(
    stored: Path, tmp_path: Path
) -> None:
    """The worker process dies (SIGKILL) after handing over its first chunk: the chunks it
    had not handed over are worked out by the caller, and the rebuild is the same."""
    alone, helped = _copy(stored, "alone.db"), _copy(stored, "helped.db")
    expected = _rebuilt(alone, None, [])
    calls: list[int] = []
    with IndexWorker(helped.path, "US") as worker:
        real = worker.rows_of

        def killing(batches: list[list[int]], local: Local) -> Iterable[IndexRows]:
            for number, rows in enumerate(real(batches, local)):
                yield rows
                if number == 1:  # the first chunk the worker worked out is in
                    for process in list(worker._pool._processes.values()):
                        assert process.pid is not None
                        os.kill(process.pid, signal.SIGKILL)
                        process.join()

        with helped.transaction() as conn:
            rebuild(
                conn,
                "US",
                "2026-12-02T00:00:00Z",
                chunk=1,
                prepare=lambda batches, local: killing(batches, _counting(local, calls)),
            )
        assert worker.error is not None
    assert _state(helped) == expected
    # The first chunk locally, the second from the worker, the third from it too if it had
    # finished it before it died, and every later one locally.
    assert len(calls) in (len(_STEPS) - 2, len(_STEPS) - 1)
    alone.close()
    helped.close()
