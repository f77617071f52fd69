"""A nested ``Store.transaction()`` is a savepoint: an inner block that fails takes back its
own writes only, whether or not the outer block catches the failure and goes on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from context_service.store import Store

_PROFILE = "INSERT INTO profiles (id, version, created_at, updated_at) VALUES (?, 1, 'n', 'n')"


class _Boom(Exception):
    pass


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    the_store = Store(tmp_path / "savepoints.db")
    yield the_store
    the_store.close()


def _committed(store: Store) -> list[str]:
    """The profile ids another connection sees: only what was committed."""
    with sqlite3.connect(store.path) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM profiles ORDER BY id")]


def test_an_inner_failure_caught_by_the_outer_block_takes_back_only_the_inner_writes(
    store: Store,
) -> None:
    with store.transaction() as conn:
        conn.execute(_PROFILE, ("outer-before",))
        try:
            with store.transaction() as inner:
                inner.execute(_PROFILE, ("inner",))
                raise _Boom
        except _Boom:
            pass
        assert store.in_transaction
        conn.execute(_PROFILE, ("outer-after",))
    assert not store.in_transaction
    assert _committed(store) == ["outer-after", "outer-before"]


def test_nested_blocks_that_succeed_commit_together_with_one_savepoint_each(
    store: Store,
) -> None:
    statements: list[str] = []
    with store.transaction() as conn:
        conn.set_trace_callback(statements.append)
        conn.execute(_PROFILE, ("outer",))
        with store.transaction() as inner:
            assert store.in_transaction
            inner.execute(_PROFILE, ("inner",))
        conn.execute(_PROFILE, ("outer-again",))
    conn.set_trace_callback(None)
    assert _committed(store) == ["inner", "outer", "outer-again"]
    control = [s for s in statements if not s.startswith("INSERT")]
    assert len(control) == 3  # SAVEPOINT, RELEASE, COMMIT: nothing more per nested block
    assert control[0].startswith("SAVEPOINT ")
    assert control[1].startswith("RELEASE ")
    assert control[0].split()[-1] == control[1].split()[-1]
    assert control[2] == "COMMIT"


def test_three_levels_each_take_back_only_their_own_writes(store: Store) -> None:
    statements: list[str] = []
    with store.transaction() as conn:
        conn.set_trace_callback(statements.append)
        conn.execute(_PROFILE, ("a1",))
        with store.transaction():
            conn.execute(_PROFILE, ("b2",))
            try:
                with store.transaction():
                    conn.execute(_PROFILE, ("c3-lost",))
                    raise _Boom
            except _Boom:
                pass
            conn.execute(_PROFILE, ("d2",))
        try:
            with store.transaction():
                conn.execute(_PROFILE, ("e2-lost",))
                with store.transaction():  # released into its parent, then lost with it
                    conn.execute(_PROFILE, ("f3-lost",))
                raise _Boom
        except _Boom:
            pass
        conn.execute(_PROFILE, ("g1",))
    conn.set_trace_callback(None)
    assert _committed(store) == ["a1", "b2", "d2", "g1"]
    names = {s.split()[-1] for s in statements if s.startswith("SAVEPOINT ")}
    assert len(names) == 2  # one name per nesting depth, different at each depth


def test_a_failure_that_reaches_the_outermost_block_rolls_everything_back(
    store: Store,
) -> None:
    with store.transaction() as conn:
        conn.execute(_PROFILE, ("kept",))

    def three_levels_failing_at_the_innermost() -> None:
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("outer",))
            with store.transaction():
                conn.execute(_PROFILE, ("middle",))
                with store.transaction():
                    conn.execute(_PROFILE, ("inner",))
                    raise _Boom

    with pytest.raises(_Boom):
        three_levels_failing_at_the_innermost()
    assert not store.in_transaction
    assert not store.db.conn.in_transaction
    assert _committed(store) == ["kept"]
    with store.transaction() as conn:  # the store is usable afterwards
        conn.execute(_PROFILE, ("after",))
    assert _committed(store) == ["after", "kept"]


def test_a_failed_inner_block_leaves_the_nesting_depth_as_it_was(store: Store) -> None:
    assert not store.in_transaction
    with store.transaction():
        with pytest.raises(_Boom), store.transaction():
            raise _Boom
        assert store.in_transaction
    assert not store.in_transaction


def test_an_early_return_from_an_inner_block_keeps_its_writes(store: Store) -> None:
    def write_and_return() -> int:
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("returned",))
            return 1

    with store.transaction() as conn:
        assert write_and_return() == 1
        conn.execute(_PROFILE, ("outer",))
    assert _committed(store) == ["outer", "returned"]


def test_a_full_disk_inside_a_nested_block_reports_the_full_disk(store: Store) -> None:
    """SQLITE_FULL ends the whole transaction by itself: rolling back to the savepoint then
    would fail ("no such savepoint") and hide the error that caused it."""
    with store.transaction() as conn:
        conn.execute(_PROFILE, ("kept",))
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count={pages + 2}")

    def fill_nested() -> None:
        with store.transaction() as conn:
            conn.execute(_PROFILE, ("outer",))
            with store.transaction():
                conn.executemany(
                    "INSERT INTO profiles (id, version, created_at, updated_at) "
                    "VALUES (?, 1, 'n', ?)",
                    [(f"bulk_{i}", "x" * 1000) for i in range(1000)],
                )

    with pytest.raises(sqlite3.OperationalError, match="full"):
        fill_nested()
    store.db.execute("PRAGMA max_page_count=1073741823")
    assert not store.in_transaction
    assert _committed(store) == ["kept"]


# When SQLite itself ends the whole transaction inside a nested block (a full disk, an I/O
# error, an interrupt), the outer block that catches the failure and goes on must not write
# outside any transaction: nothing of it is committed, and it fails.


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
