"""Snapshots for tests: a bare one for renderer tests (every section empty unless a test says
otherwise), and the one a record's profile has in a store now."""

from __future__ import annotations

import sqlite3
from typing import Any

from context_service.models import (
    BillingSection,
    CommerceSection,
    CrmSection,
    IdentitySection,
    RecordKey,
    Snapshot,
    SupportSection,
)
from context_service.snapshot.assemble import assemble
from context_service.snapshot.links import DashboardLinks
from context_service.store.profiles import profile_of_key


def bare_snapshot(**fields: Any) -> Snapshot:
    """A version-1 snapshot generated 2026-11-29 with empty sections, ``fields`` set over it."""
    base: dict[str, Any] = {
        "profile_id": "prof_1",
        "version": 1,
        "generated_at": "2026-11-29T00:00:00Z",
        "identity": IdentitySection(),
        "members": [],
        "commerce": CommerceSection(),
        "billing": BillingSection(),
        "crm": CrmSection(),
        "support": SupportSection(),
        "freshness": [],
        "signals": [],
        "conflicts": [],
        "summary": "",
    }
    return Snapshot(**{**base, **fields})


def signal_codes(snap: Snapshot) -> set[str]:
    """The codes of a snapshot's signals."""
    return {s.code for s in snap.signals}


def snapshot_of(conn: sqlite3.Connection, key: RecordKey, links: DashboardLinks) -> Snapshot:
    """The snapshot of the profile holding the record ``key``, assembled from the store now."""
    profile_id = profile_of_key(conn, key)
    assert profile_id is not None, f"no profile holds {key}"
    snapshot = assemble(conn, profile_id, links, "now", "US")
    assert snapshot is not None
    return snapshot
