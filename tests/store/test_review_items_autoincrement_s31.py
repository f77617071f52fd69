"""Migration 0045: a store created while 0006 made ``review_items.id`` a plain ``INTEGER
PRIMARY KEY`` (5d2714f to 0772a52, before 0006 was edited) gets AUTOINCREMENT, so a deleted
item's id never names another pair; the rows, indexes and triggers stay."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from context_service.store import Store
from context_service.store.migrations import migrate

MIGRATION = "0045_review_items_autoincrement"
OLD_TABLE = """CREATE TABLE review_items (
    id INTEGER PRIMARY KEY,
    a INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    b INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    probability REAL NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    UNIQUE (a, b)
)"""
TRIGGER = (
    "CREATE TRIGGER review_items_seen AFTER INSERT ON review_items "
    "BEGIN UPDATE review_items SET reason = reason || '!' WHERE id = NEW.id; END"
)


def _item(conn: sqlite3.Connection, a: int, b: int) -> int:
    cur = conn.execute(
        "INSERT INTO review_items (a, b, probability, reason, evidence, created_at) "
        "VALUES (?, ?, 0.5, 'r', '{}', 't')",
        (a, b),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def _old_store(path: Path) -> None:
    """A store as a release of that window left it: the old table, items 1 to 3, 0045 not
    applied."""
    Store(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("BEGIN")
    conn.execute("DROP TABLE review_items")
    conn.execute(OLD_TABLE)
    conn.execute("CREATE INDEX review_items_open ON review_items (status, id)")
    conn.execute("CREATE INDEX review_items_b ON review_items (b)")
    conn.execute(TRIGGER)
    for n in range(1, 5):
        conn.execute(
            "INSERT INTO records (id, source, kind, external_id, payload, payload_hash, "
            "fetched_at) VALUES (?, 's', 'person', ?, '{}', 'h', 't')",
            (n, str(n)),
        )
    assert [_item(conn, 1, 2), _item(conn, 1, 3), _item(conn, 2, 3)] == [1, 2, 3]
    conn.execute("DELETE FROM sqlite_sequence WHERE name = 'review_items'")
    conn.execute("DELETE FROM _migrations WHERE name = ?", (MIGRATION,))
    conn.execute("COMMIT")
    conn.close()


def test_a_deleted_item_s_id_is_never_given_to_another_pair(tmp_path: Path) -> None:
    path = tmp_path / "window.db"
    _old_store(path)
    store = Store(path)
    try:
        with store.transaction() as conn:
            conn.execute("DELETE FROM review_items WHERE id = 3")  # its records went away
            new_id = _item(conn, 3, 4)
        assert new_id == 4  # not 3, which a reviewer may still have on screen
        rows = store.conn.execute("SELECT id, a, b, reason FROM review_items ORDER BY id")
        assert [tuple(row) for row in rows] == [(1, 1, 2, "r!"), (2, 1, 3, "r!"), (4, 3, 4, "r!")]
        names = {
            row[0]
            for row in store.conn.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'review_items'"
            )
        }
        assert {"review_items_open", "review_items_b", "review_items_seen"} <= names
        assert store.conn.execute("PRAGMA foreign_key_check(review_items)").fetchall() == []
        keys = store.conn.execute("SELECT count(*) FROM pragma_foreign_key_list('review_items')")
        assert keys.fetchone()[0] == 2
    finally:
        store.close()


def test_a_store_whose_items_already_autoincrement_is_left_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "new.db")
    try:
        before = store.conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        with store.transaction() as conn:
            conn.execute("DELETE FROM _migrations WHERE name = ?", (MIGRATION,))
        assert migrate(store.db) == [MIGRATION]
        after = store.conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        assert after == before
    finally:
        store.close()
