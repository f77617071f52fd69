"""The activity index: which records (orders, invoices, tickets...) belong to which owner record."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from context_service.models import RecordKey


def replace_owners(
    conn: sqlite3.Connection,
    record_id: int,
    owners: Iterable[RecordKey],
    *,
    had_owners: bool = True,
) -> None:
    """Make the index hold exactly these owners for an activity record.

    ``had_owners=False`` (a record seen for the first time) skips clearing old entries.
    """
    if had_owners:
        conn.execute("DELETE FROM activities WHERE record_id = ?", (record_id,))
    conn.executemany(
        "INSERT OR IGNORE INTO activities (owner_source, owner_kind, owner_external_id, record_id) "
        "VALUES (?, ?, ?, ?)",
        [(o.source, o.kind, o.external_id, record_id) for o in owners],
    )


def activity_ids_for(conn: sqlite3.Connection, owners: Iterable[RecordKey]) -> list[int]:
    """Record ids of every activity owned by any of these records.

    One statement per 100 owners: SQLite answers an OR of indexed equality triples with one
    index probe per term (its multi-index OR plan), so this stays an index lookup.
    """
    unique = sorted({(o.source, o.kind, o.external_id) for o in owners})
    found: set[int] = set()
    for start in range(0, len(unique), 100):
        chunk = unique[start : start + 100]
        terms = " OR ".join(
            ["(owner_source = ? AND owner_kind = ? AND owner_external_id = ?)"] * len(chunk)
        )
        params = [part for triple in chunk for part in triple]
        rows = conn.execute(f"SELECT record_id FROM activities WHERE {terms}", params)
        found.update(int(row[0]) for row in rows)
    return sorted(found)


def owners_of(conn: sqlite3.Connection, record_id: int) -> list[RecordKey]:
    """The owner keys of an activity record."""
    rows = conn.execute(
        "SELECT owner_source, owner_kind, owner_external_id FROM activities WHERE record_id = ?",
        (record_id,),
    )
    return [RecordKey(*row) for row in rows]
