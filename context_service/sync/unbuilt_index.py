"""Build the identity index of a store that has none for its records, before resolving more.

Migration 0033 marks a store whose live person records are not indexed (one written before the
identity engine: migration 0006 only created the empty index). Resolving a new record against
that index finds none of the old customers, so Maya's spreadsheet row would become a second
"Maya Patel". The first ingest after the upgrade (a sync page, an import batch, a webhook)
therefore rebuilds the whole index first, in that ingest's transaction, as ``resolve --all``
does.
"""

from __future__ import annotations

import sqlite3

from context_service.identity.pairs import Thresholds
from context_service.identity.rebuild import rebuild
from context_service.identity.state import index_version
from context_service.store import profiles, snapshots

UNBUILT = "unbuilt"  # the index version migration 0033 records for such a store


def build_unbuilt_index(
    conn: sqlite3.Connection, region: str, now: str, thresholds: Thresholds
) -> int:
    """Index and cluster every stored person record when the store is marked unbuilt; return
    how many records that indexed (0: nothing to do, one key read).

    Read inside the caller's write transaction, so two processes opening the upgraded store
    at once build it once. The profiles that changed get a new version and are queued for a
    snapshot, built by the next drain or read, not in this transaction (a webhook's)."""
    if index_version(conn) != UNBUILT:
        return 0
    report = rebuild(conn, region, now, thresholds)
    for profile_id in sorted(report.changed):
        profiles.bump_version(conn, profile_id, now)
    snapshots.enqueue(conn, report.changed, now)
    return report.records
