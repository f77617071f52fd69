"""The WAL is checkpointed by a background thread, never inside a commit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from context_service.store import Store
from context_service.store.db import wal_salt
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


def _write_pages(store: Store, tag: str, rows: int = 2000) -> None:
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO profiles (id, version, created_at, updated_at) VALUES (?, 1, 'n', 'n')",
            [(f"prof_{tag}_{i}",) for i in range(rows)],
        )


def test_a_long_wal_is_restarted_only_when_it_did_not_start_over_by_itself(
    tmp_path: Path,
) -> None:
    """A RESTART checkpoint holds writers off, so it runs only when the WAL kept growing: a
    reader held it the whole time. Without one, the next writer starts the WAL over itself."""
    path = tmp_path / "restart.db"
    store = Store(path)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    checkpointer.stop()  # rounds are run by hand below
    checkpointer.restart_frames = 10
    try:
        with sqlite3.connect(path) as other:
            _write_pages(store, "a")
            checkpointer.checkpoint(other)  # first round: nothing to compare with yet
            salt = wal_salt(str(path))
            _write_pages(store, "b")  # everything was copied: this writer starts the WAL over
            assert wal_salt(str(path)) != salt
            checkpointer.checkpoint(other)
            assert checkpointer.restarts == 0

            reader = sqlite3.connect(path)
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM profiles").fetchone()  # holds its snapshot
            _write_pages(store, "c")
            checkpointer.checkpoint(other)
            stuck = wal_salt(str(path))
            _write_pages(store, "d")  # the reader keeps the WAL from starting over
            assert wal_salt(str(path)) == stuck
            reader.execute("COMMIT")
            reader.close()
            busy, frames, copied = checkpointer.checkpoint(other)
            assert checkpointer.restarts == 1
            assert busy == 0
            assert copied == frames
            _write_pages(store, "e")  # after the RESTART the next commit starts the WAL over
            assert wal_salt(str(path)) != stuck
    finally:
        store.close()
    with sqlite3.connect(path) as reopened:
        assert reopened.execute("SELECT count(*) FROM profiles").fetchone()[0] == 10_000
