"""Vendor merges whose survivor is not stored yet (``SourceMerges``).

HubSpot's merge may create a new record (``newObjectId``) that its eventually consistent CRM
still answers 404 for when the merge webhook is applied: the merged-away records are
tombstoned (each naming its survivor, ``Mapped.merged_into``), but their profiles have no
survivor's profile to become aliases of. Each such profile id (and its aliases) goes to sleep
remembering the merged-away records (``dormant_alias_members``, so the wait outlasts the run
and the process). When a record that such a tombstone names as its survivor arrives (a later
sync page or webhook), the merge is followed again as if it had just been made: the sleeping
ids then remember the survivor and wake as its aliases (``aliases.follow_aliases``).

An erasure deletes the erased person's records, and with them what their sleeping ids
remember (``ON DELETE CASCADE``), and suppresses the survivor's payloads when they name the
erased person; a later deletion of a merged-away record replaces its tombstone by one naming no
survivor. Either way nothing is left to re-link.

The waits are indexed by survivor (``merge_waits``, migration 0029), so a batch looks up only
the records it stores, however many ids sleep for other reasons.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from context_service.identity.engine import PersonChange
from context_service.identity.sql import chunks, placeholders
from context_service.models import RecordKey
from context_service.store import profiles
from context_service.store.records import decode_mapped

# The waits for some arrived survivors (``{marks}``: one ``(?, ?, ?)`` per survivor key).
# CROSS JOIN keeps the wanted keys outermost: with ``IN (VALUES ...)`` of several keys SQLite
# chose to read every wait (``tests/store/test_query_plans.py``).
WAITS_FOR_SQL = (
    "WITH wanted (source, kind, external_id) AS (VALUES {marks}) "
    "SELECT w.survivor_source, w.survivor_kind, w.survivor_external_id, r.id, "
    "r.source, r.kind, r.external_id, r.mapped FROM wanted CROSS JOIN merge_waits w "
    "ON w.survivor_source = wanted.source AND w.survivor_kind = wanted.kind "
    "AND w.survivor_external_id = wanted.external_id "
    "JOIN records r ON r.id = w.record_id"
)


def sleep_until_survivor(
    conn: sqlite3.Connection,
    ids: Iterable[str],
    merged_away: Iterable[int],
    survivor: RecordKey,
    now: str,
) -> None:
    """Put these profile ids, which name no one now, to sleep remembering the merged-away
    records (tombstones naming ``survivor``), to wake once the survivor arrives."""
    records = sorted(set(merged_away))
    conn.executemany(
        "INSERT OR IGNORE INTO dormant_alias_members (alias, record_id, alias_created_at) "
        "VALUES (?, ?, ?)",
        [
            (alias, record_id, now)
            for alias in dict.fromkeys(ids)
            if profiles.canonical_id(conn, alias) is None
            for record_id in records
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO merge_waits (survivor_source, survivor_kind, "
        "survivor_external_id, record_id) VALUES (?, ?, ?, ?)",
        [(survivor.source, survivor.kind, survivor.external_id, rid) for rid in records],
    )


def survivors_arrived(
    conn: sqlite3.Connection, people: Iterable[PersonChange]
) -> list[tuple[RecordKey, RecordKey]]:
    """The (merged-away, survivor) merges to follow again because their survivor is among
    these stored records (alive) and a sleeping id remembers the merged-away one. Their waits
    end here (as do waits whose record no longer names that survivor)."""
    arrived = sorted(
        {(c.key.source, c.key.kind, c.key.external_id) for c in people if c.facet is not None}
    )
    found: list[tuple[RecordKey, RecordKey]] = []
    ended: list[int] = []
    for part in chunks(arrived, 300):
        marks = ", ".join("(?, ?, ?)" for _ in part)
        rows = conn.execute(
            WAITS_FOR_SQL.format(marks=marks), [value for key in part for value in key]
        ).fetchall()
        for s_source, s_kind, s_id, rid, source, kind, external_id, blob in rows:
            ended.append(int(rid))
            survivor = RecordKey(str(s_source), str(s_kind), str(s_id))
            mapped = decode_mapped(blob if isinstance(blob, bytes) else None)
            if mapped is None or not mapped.deleted or mapped.merged_into != survivor.external_id:
                continue
            if _remembered(conn, int(rid)):
                found.append((RecordKey(str(source), str(kind), str(external_id)), survivor))
    for ids in chunks(sorted(set(ended))):
        conn.execute(f"DELETE FROM merge_waits WHERE record_id IN ({placeholders(ids)})", ids)
    return found


def _remembered(conn: sqlite3.Connection, record_id: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM dormant_alias_members WHERE record_id = ? LIMIT 1", (record_id,)
    ).fetchone()
    return row is not None


__all__ = ["sleep_until_survivor", "survivors_arrived"]
