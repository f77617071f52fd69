"""Materialize snapshots on write so that a context request reads one pre-encoded row."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec

from context_service.snapshot.assemble import assemble
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.render import render_text
from context_service.store.snapshots import StoredSnapshot, save_snapshot

_encode = msgspec.json.Encoder().encode


def materialize(
    conn: sqlite3.Connection,
    profile_ids: Iterable[str],
    links: DashboardLinks,
    now: str,
    region: str = "US",
) -> int:
    """Rebuild and store the snapshot of every listed profile that still exists; return how many."""
    built = 0
    for profile_id in sorted(set(profile_ids)):
        snapshot = assemble(conn, profile_id, links, now, region)
        if snapshot is None:
            continue
        save_snapshot(
            conn,
            StoredSnapshot(
                profile_id=profile_id,
                version=snapshot.version,
                generated_at=now,
                json=_encode(snapshot),
                text=render_text(snapshot),
            ),
        )
        built += 1
    return built
