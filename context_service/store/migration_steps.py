"""Migrations that SQL alone cannot say (they read the stored schema first), run by
``migrations.migrate`` in the same transaction as their ``_migrations`` row."""

from __future__ import annotations

import re
import sqlite3

from context_service.errors import MigrationError

_ID_WITHOUT_AUTOINCREMENT = re.compile(
    r"(\bid\s+INTEGER\s+PRIMARY\s+KEY)(?!\s+AUTOINCREMENT)\b", re.IGNORECASE
)
_AUTOINCREMENT = re.compile(r"\bAUTOINCREMENT\b", re.IGNORECASE)


def review_items_autoincrement(conn: sqlite3.Connection) -> None:
    """0045: give ``review_items.id`` AUTOINCREMENT where the stored table lacks it.

    0006 was edited after its release (0772a52) to make the id AUTOINCREMENT, so a store
    created by a release in between kept ``id INTEGER PRIMARY KEY``, which hands a deleted
    item's id (the highest) to the next item: a reviewer's ``review reject 5``, read before,
    then decides a pair never shown. The table is rebuilt from its own stored definition with
    AUTOINCREMENT added (every column, constraint and foreign key as stored), its rows copied
    with their ids, its indexes and triggers made again, and the sequence started at the
    highest id. A table with AUTOINCREMENT already is left alone."""
    table = _sql_of(conn, "table", "review_items")
    if table is None or _AUTOINCREMENT.search(table):
        return
    _refuse_if_referenced(conn, "review_items")
    create, count = _ID_WITHOUT_AUTOINCREMENT.subn(r"\1 AUTOINCREMENT", table, count=1)
    if count != 1:
        raise MigrationError("review_items has no `id INTEGER PRIMARY KEY` to make AUTOINCREMENT")
    extras = _dependents(conn, "review_items")
    conn.execute(_renamed(create, "review_items", "review_items_rebuilt"))
    conn.execute("INSERT INTO review_items_rebuilt SELECT * FROM review_items")
    conn.execute("DROP TABLE review_items")  # its indexes and triggers go with it
    _rename_table(conn, "review_items_rebuilt", "review_items")
    for sql in extras:
        conn.execute(sql)
    conn.execute(
        "DELETE FROM sqlite_sequence WHERE name IN ('review_items', 'review_items_rebuilt')"
    )
    conn.execute(
        "INSERT INTO sqlite_sequence (name, seq) "
        "SELECT 'review_items', coalesce(max(id), 0) FROM review_items"
    )


def _sql_of(conn: sqlite3.Connection, kind: str, name: str) -> str | None:
    """The stored ``CREATE`` statement of one schema object, or ``None``."""
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = ? AND name = ?", (kind, name)
    ).fetchone()
    return None if row is None else str(row[0])


def _dependents(conn: sqlite3.Connection, table: str) -> list[str]:
    """The stored ``CREATE`` statements of the table's own indexes and triggers (automatic
    indexes, such as a ``UNIQUE`` constraint's, have none: the table's definition makes them)."""
    rows = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type, name",
        (table,),
    )
    return [str(row[0]) for row in rows]


def _refuse_if_referenced(conn: sqlite3.Connection, table: str) -> None:
    """Raise when another table's foreign key names ``table``: dropping it would run those
    keys' actions (a cascade) on the rows of that table."""
    tables = [
        str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    for other in tables:
        keys = conn.execute('SELECT "table" FROM pragma_foreign_key_list(?)', (other,))
        if other != table and any(str(row[0]).lower() == table for row in keys):
            raise MigrationError(f"{other} has a foreign key to {table}: cannot rebuild {table}")


def _renamed(create: str, old: str, new: str) -> str:
    """``create`` (a stored ``CREATE TABLE old ...``) naming the table ``new``."""
    pattern = re.compile(rf"^(\s*CREATE\s+TABLE\s+)[\"'`\[]?{old}[\"'`\]]?", re.IGNORECASE)
    renamed, count = pattern.subn(rf"\g<1>{new}", create, count=1)
    if count != 1:
        raise MigrationError(f"unexpected stored definition of {old}: {create[:60]}")
    return renamed


def _rename_table(conn: sqlite3.Connection, old: str, new: str) -> None:
    """``ALTER TABLE old RENAME TO new`` without checking the rest of the schema against it
    (``legacy_alter_table``): a view or trigger naming ``new`` (the table just dropped) is
    right again once it is renamed, and the check would refuse it until then."""
    legacy = conn.execute("PRAGMA legacy_alter_table").fetchone()[0]
    conn.execute("PRAGMA legacy_alter_table=ON")
    try:
        conn.execute(f"ALTER TABLE {old} RENAME TO {new}")
    finally:
        conn.execute(f"PRAGMA legacy_alter_table={'ON' if legacy else 'OFF'}")
