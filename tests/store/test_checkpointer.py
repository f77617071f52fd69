"""The WAL is checkpointed by a background thread, never inside a commit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from context_service.store import Store


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
