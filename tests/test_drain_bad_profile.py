"""One profile whose snapshot cannot be built does not stop the background drain: its chunk
is built one profile at a time, the failing profile is logged once (id and error type, no
customer data) and left queued for its reads, and the rest of the queue is built."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import context_service.sync.snapshot_queue as snapshot_queue
from context_service.snapshot.materialize import materialize as real_materialize
from context_service.store import Store
from context_service.sync.snapshot_queue import SnapshotDrain
from context_service.wiring import ingest_context
from tests.conftest import make_settings
from tests.snapshot.test_snapshot_queue_build_on_read import _email, upgraded  # noqa: F401  (fixture)

SECRET = _email(0)  # customer data an error message might carry


def _queued_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return sorted(row[0] for row in conn.execute("SELECT profile_id FROM snapshot_queue"))


def _fail_for(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    """Make building ``bad``'s snapshot raise (with customer data in the message)."""
    real = real_materialize  # the function snapshot_queue.py imports

    def materialize(conn: sqlite3.Connection, ids: Any, *args: Any) -> int:
        if bad in set(ids):
            raise ValueError(f"cannot build the snapshot of {SECRET}")
        return real(conn, ids, *args)

    monkeypatch.setattr(snapshot_queue, "materialize", materialize)


def _drain(path: Path, chunk: int) -> SnapshotDrain:
    """Run a drain over ``path`` until its thread ends."""
    store = Store(path)
    drain = SnapshotDrain(store, ingest_context(make_settings(path)), chunk=chunk)
    try:
        drain.start()
        assert drain._thread is not None
        drain._thread.join(timeout=60)
        assert not drain._thread.is_alive()
    finally:
        drain.stop()
        store.close()
    return drain


@pytest.mark.parametrize("chunk", [1, 2, 100])
@pytest.mark.parametrize("position", [0, -1], ids=["first", "last"])
def test_a_profile_that_cannot_be_built_stays_queued_and_the_rest_is_built(
    upgraded: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    chunk: int,
    position: int,
) -> None:
    queued = _queued_ids(upgraded)
    bad = queued[position]
    _fail_for(monkeypatch, bad)
    with caplog.at_level(logging.WARNING, logger=snapshot_queue.__name__):
        drain = _drain(upgraded, chunk)
    assert drain.wait(timeout=0), "the drain stopped before the end of the queue"
    assert _queued_ids(upgraded) == [bad]  # left queued: a read builds it or fails visibly
    assert drain.built == len(queued) - 1
    mentions = [r for r in caplog.records if bad in r.getMessage()]
    assert len(mentions) == 1, [r.getMessage() for r in caplog.records]
    assert "ValueError" in mentions[0].getMessage()
    assert SECRET not in caplog.text


def test_a_restart_with_only_failing_profiles_left_ends(
    upgraded: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = _queued_ids(upgraded)[0]
    _fail_for(monkeypatch, bad)
    _drain(upgraded, chunk=2)
    again = _drain(upgraded, chunk=2)  # the next start-up meets the same profile first
    assert again.wait(timeout=0)
    assert again.built == 0
    assert _queued_ids(upgraded) == [bad]
