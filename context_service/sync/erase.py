"""Erase records on request (vendor redaction webhooks): rows gone, profiles re-resolved."""

from __future__ import annotations

import sqlite3

from context_service.identity.engine import Engine, PersonChange
from context_service.models import RecordKey
from context_service.store import activities
from context_service.store.records import get_record
from context_service.sync.ingest import profiles_for_owners


def erase_records(
    conn: sqlite3.Connection, keys: list[RecordKey], region: str, now: str
) -> set[str]:
    """Delete these records and everything indexed from them; return the profiles touched."""
    changed: set[str] = set()
    for key in keys:
        record = get_record(conn, key)
        if record is None:
            continue
        if record.mapped is not None and record.mapped.person is not None:
            change = PersonChange(record.id, key, facet=None)
            changed |= Engine(conn, region, now).resolve([change])
        else:
            changed |= profiles_for_owners(conn, activities.owners_of(conn, record.id))
        conn.execute("DELETE FROM records WHERE id = ?", (record.id,))
    return changed
