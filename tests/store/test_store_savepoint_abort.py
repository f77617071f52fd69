"""When SQLite itself ends the whole transaction inside a nested block (a full disk, an I/O
error, an interrupt), the outer block that catches the failure and goes on must not write
outside any transaction: nothing of it is committed, and it fails."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from context_service.store import Store

_PROFILE = "INSERT INTO profiles (id, version, created_at, updated_at) VALUES (?, 1, 'n', 'n')"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    the_store = Store(tmp_path / "abort.db")
    yield the_store
    the_store.close()


def _committed(store: Store) -> list[str]:
    with sqlite3.connect(store.path) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM profiles ORDER BY id")]


def _fill_nested(store: Store) -> None:
    """A nested block that fills the disk (SQLite ends the whole transaction)."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count={pages + 2}")
    try:
        with store.transaction() as conn:
            conn.executemany(
                "INSERT INTO profiles (id, version, created_at, updated_at) VALUES (?, 1, 'n', ?)",
                [(f"bulk_{i}", "x" * 1000) for i in range(1000)],
            )
    finally:
        store.db.execute("PRAGMA max_page_count=1073741823")


def test_an_outer_block_going_on_after_sqlite_ended_its_transaction_commits_nothing(
    store: Store,
) -> None:
    with store.transaction() as conn:
        conn.execute(_PROFILE, ("kept",))

    def go_on_after_the_failure() -> None:
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("outer-before",))
            with pytest.raises(sqlite3.OperationalError, match="full"):
                _fill_nested(store)
            conn.execute(_PROFILE, ("outer-after",))  # must not commit on its own

    with pytest.raises(sqlite3.Error):
        go_on_after_the_failure()
    assert not store.in_transaction
    assert not store.db.conn.in_transaction
    assert _committed(store) == ["kept"]
    with store.transaction() as conn:  # the store writes normally again
        conn.execute(_PROFILE, ("later",))
    assert _committed(store) == ["kept", "later"]


def test_a_failure_the_outer_block_does_not_catch_is_still_the_one_reported(
    store: Store,
) -> None:

    def fail() -> None:
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("outer",))
            _fill_nested(store)

    with pytest.raises(sqlite3.OperationalError, match="full"):
        fail()
    assert not store.db.conn.in_transaction
    assert _committed(store) == []


def test_a_middle_block_that_catches_the_failure_cannot_commit_either(store: Store) -> None:
    def go_on_after_the_failure() -> None:
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("outer",))
            with store.transaction() as middle:
                middle.execute(_PROFILE, ("middle-before",))
                with pytest.raises(sqlite3.OperationalError, match="full"):
                    _fill_nested(store)
                middle.execute(_PROFILE, ("middle-after",))
            conn.execute(_PROFILE, ("outer-after",))

    with pytest.raises(sqlite3.Error):
        go_on_after_the_failure()
    assert not store.db.conn.in_transaction
    assert _committed(store) == []


def test_a_nested_block_that_swallows_the_error_sqlite_ended_its_transaction_with_fails(
    store: Store,
) -> None:
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]

    def swallow() -> None:
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("outer",))
            with store.transaction() as inner:
                store.db.execute(f"PRAGMA max_page_count={pages + 2}")
                try:
                    inner.executemany(
                        "INSERT INTO profiles (id, version, created_at, updated_at) "
                        "VALUES (?, 1, 'n', ?)",
                        [(f"bulk_{i}", "x" * 1000) for i in range(1000)],
                    )
                except sqlite3.OperationalError:
                    pass
                finally:
                    store.db.execute("PRAGMA max_page_count=1073741823")
            conn.execute(_PROFILE, ("outer-after",))

    with pytest.raises(sqlite3.Error):
        swallow()
    assert not store.db.conn.in_transaction
    assert _committed(store) == []
