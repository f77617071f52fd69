"""The identifier index: normalized emails, phones and cross-system ids per record.

``strong`` identifiers are merge keys; weak ones (generic mailboxes, shared lines) are indexed
only so that a lookup can find every profile that uses them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec


class Identifier(msgspec.Struct, frozen=True):
    """One normalized identifier of a record: ``kind`` is email, phone or xref."""

    kind: str
    value: str
    strong: bool = True


def replace_identifiers(
    conn: sqlite3.Connection,
    record_id: int,
    identifiers: Iterable[Identifier],
    *,
    had_any: bool = True,
) -> None:
    """Make the index hold exactly these identifiers for the record.

    ``had_any=False`` (a record stored for the first time) skips clearing old entries.
    """
    if had_any:
        conn.execute("DELETE FROM identifiers WHERE record_id = ?", (record_id,))
    conn.executemany(
        "INSERT OR IGNORE INTO identifiers (kind, value, record_id, strong) VALUES (?, ?, ?, ?)",
        [(ident.kind, ident.value, record_id, int(ident.strong)) for ident in identifiers],
    )


def identifiers_of(conn: sqlite3.Connection, record_id: int) -> set[Identifier]:
    """The identifiers currently indexed for a record."""
    rows = conn.execute(
        "SELECT kind, value, strong FROM identifiers WHERE record_id = ?", (record_id,)
    ).fetchall()
    return {Identifier(kind, value, bool(strong)) for kind, value, strong in rows}


def records_with(
    conn: sqlite3.Connection, kind: str, value: str, *, strong_only: bool = False
) -> list[int]:
    """Ids of the records that carry this identifier."""
    sql = "SELECT record_id FROM identifiers WHERE kind = ? AND value = ?"
    if strong_only:
        sql += " AND strong = 1"
    return [row[0] for row in conn.execute(sql, (kind, value))]


def profiles_with(conn: sqlite3.Connection, kind: str, value: str) -> list[str]:
    """Distinct profile ids whose member records carry this identifier."""
    rows = conn.execute(
        "SELECT DISTINCT m.profile_id FROM identifiers i "
        "JOIN profile_members m ON m.record_id = i.record_id "
        "WHERE i.kind = ? AND i.value = ? ORDER BY m.profile_id",
        (kind, value),
    ).fetchall()
    return [row[0] for row in rows]
