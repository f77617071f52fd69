"""The WAL is checkpointed by a background thread, never inside a commit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from context_service.store import Store
from context_service.trust.erasure import compact


def test_commits_leave_the_wal_to_the_checkpointer(tmp_path: Path) -> None:
    store = Store(tmp_path / "ck.db")
    try:
        autocheckpoint = store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert autocheckpoint == 0  # no commit runs a checkpoint itself
        with store.transaction() as conn:
            conn.executemany(
                "INSERT INTO profiles (id, version, created_at, updated_at) VALUES (?, 1, 'n', 'n')",
                [(f"prof_{i}",) for i in range(5000)],
            )
        checkpointer = store._checkpointer
        assert checkpointer is not None
        assert checkpointer.running
        with sqlite3.connect(tmp_path / "ck.db") as other:
            busy, frames, copied = checkpointer.checkpoint(other)
        assert busy == 0
        assert frames > 0
        assert copied == frames  # everything committed reaches the file
    finally:
        store.close()
    assert not checkpointer.running
    with sqlite3.connect(tmp_path / "ck.db") as reopened:
        assert reopened.execute("SELECT count(*) FROM profiles").fetchone()[0] == 5000


def test_compaction_empties_the_wal_even_while_the_checkpointer_runs(tmp_path: Path) -> None:
    """The erasure's TRUNCATE checkpoint must not lose a race with the background one: the
    checkpointer is held off during maintenance and a busy TRUNCATE is retried."""
    store = Store(tmp_path / "race.db")
    assert store._checkpointer is not None
    store._checkpointer.interval = 0.005  # checkpoint all the time, to provoke the race
    try:
        for round_ in range(8):
            with store.transaction() as conn:
                conn.executemany(
                    "INSERT INTO profiles (id, version, created_at, updated_at) "
                    "VALUES (?, 1, 'erase-me', 'n')",
                    [(f"prof_{round_}_{i}",) for i in range(3000)],
                )
            with store.transaction() as conn:
                conn.execute("DELETE FROM profiles")
            compact(store)
            wal = Path(f"{tmp_path / 'race.db'}-wal")
            assert not wal.exists() or b"erase-me" not in wal.read_bytes()
            assert not wal.exists() or wal.stat().st_size == 0
    finally:
        store.close()


def test_nested_transactions_are_seen_per_thread(tmp_path: Path) -> None:
    store = Store(tmp_path / "nest.db")
    try:
        assert not store.in_transaction
        with store.transaction():
            assert store.in_transaction
            with store.transaction():
                assert store.in_transaction
            assert store.in_transaction
        assert not store.in_transaction
    finally:
        store.close()
