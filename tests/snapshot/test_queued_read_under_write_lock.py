"""The snapshot queue under contention: a read of a queued profile writes (it builds the
profile first), so a write lock held by another process must not turn that read into a 500,
and the background drain must not retry for ever an error that is not a lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

import context_service.sync.snapshot_queue as snapshot_queue
from context_service.api import create_app
from context_service.store import Store
from context_service.sync.snapshot_queue import SnapshotDrain
from context_service.wiring import ingest_context
from tests.conftest import make_settings
from tests.snapshot.test_snapshot_queue_build_on_read import (  # noqa: F401  (fixture)
    AUTH,
    Gate,
    _email,
    _queued,
    upgraded,
)


@pytest.fixture
def locked_elsewhere(upgraded: Path) -> Iterator[sqlite3.Connection]:  # noqa: F811
    """Another process's writer (a sync's page, an import's batch) holding the write lock."""
    other = sqlite3.connect(upgraded, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize("params", [{}, {"audience": "agent"}], ids=["fast path", "full path"])
def test_a_queued_read_while_another_process_writes_is_503_not_500(
    upgraded: Path,  # noqa: F811
    locked_elsewhere: sqlite3.Connection,
    params: dict[str, str],
) -> None:
    store = Store(upgraded)
    store._writer.execute("PRAGMA busy_timeout=0")  # the 30 s wait, shortened for the test
    gate = Gate()
    drain = SnapshotDrain(store, ingest_context(make_settings(upgraded)), before_chunk=gate)
    app = create_app(make_settings(upgraded), store=store, snapshot_drain=drain)
    try:
        with TestClient(app=app, raise_server_exceptions=False) as client:
            try:
                assert gate.reached.wait(timeout=30)
                answer = client.get(
                    "/v1/context", params={"email": _email(0), **params}, headers=AUTH
                )
                assert answer.status_code == 503, answer.text
                assert answer.headers["Retry-After"] == "1"  # a review saw it come without
                assert _email(1) not in answer.text  # the queued row is still not served
            finally:
                gate.opened.set()
                drain.stop()
    finally:
        store.close()


def test_the_drain_does_not_retry_for_ever_an_error_that_is_no_lock(
    upgraded: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: Any) -> int:
        raise sqlite3.OperationalError("no such column: nope")  # a bug, not a busy store

    monkeypatch.setattr(snapshot_queue, "materialize", broken)
    attempts: list[int] = []
    store = Store(upgraded)
    drain = SnapshotDrain(
        store,
        ingest_context(make_settings(upgraded)),
        before_chunk=lambda: attempts.append(1),
    )
    drain.RETRY_SECONDS = 0.01
    try:
        drain.start()
        assert drain._thread is not None
        drain._thread.join(timeout=20)
        assert not drain._thread.is_alive(), f"still retrying after {len(attempts)} attempts"
        assert len(attempts) == 1
        assert _queued(upgraded) > 0  # left queued, for the reads and the next start-up
    finally:
        drain.stop()
        store.close()
