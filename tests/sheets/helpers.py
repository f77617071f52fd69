"""Helpers for spreadsheet tests: read snapshots and profile versions back from a store."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from context_service.models import Snapshot
from context_service.sheets import ImportReport
from context_service.snapshot import lookup
from context_service.store import Store

Importer = Callable[..., ImportReport]


def snapshot_for(store: Store, email: str) -> Snapshot:
    """The decoded snapshot of the profile with this email."""
    stored = lookup.by_email(store.conn, email)
    return msgspec.json.decode(stored.json, type=Snapshot)


def profile_versions(store: Store) -> dict[str, int]:
    """Every profile's current version."""
    return dict(store.conn.execute("SELECT id, version FROM profiles").fetchall())
