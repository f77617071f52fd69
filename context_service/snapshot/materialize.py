"""Materialize snapshots on write so that a context request reads one pre-encoded row."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

import msgspec

from context_service.snapshot.assemble import ProfileData, build_snapshot, load_profiles
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.redaction import without_payment_numbers
from context_service.snapshot.render import render_text
from context_service.store.snapshots import StoredSnapshot, save_snapshots

_encode = msgspec.json.Encoder().encode
_CHUNK = 200  # profiles loaded together: a few queries per chunk instead of per profile


def materialize(
    conn: sqlite3.Connection,
    profile_ids: Iterable[str],
    links: DashboardLinks,
    now: str,
    region: str = "US",
) -> int:
    """Rebuild and store the snapshot of every listed profile that still exists; return how many."""
    built = 0
    wanted = sorted(set(profile_ids))
    for start in range(0, len(wanted), _CHUNK):
        built += _materialize_chunk(conn, wanted[start : start + _CHUNK], links, now, region)
    return built


def _materialize_chunk(
    conn: sqlite3.Connection, profile_ids: list[str], links: DashboardLinks, now: str, region: str
) -> int:
    rows = snapshot_rows(load_profiles(conn, profile_ids, links), links, now, region)
    save_snapshots(conn, rows)
    return len(rows)


def snapshot_rows(
    loaded: Mapping[str, ProfileData], links: DashboardLinks, now: str, region: str
) -> list[StoredSnapshot]:
    """The stored form (encoded JSON and text) of each loaded profile's snapshot."""
    rows = []
    for profile_id, data in loaded.items():
        snapshot = without_payment_numbers(build_snapshot(data, links, now, region))
        rows.append(
            StoredSnapshot(
                profile_id=profile_id,
                version=snapshot.version,
                generated_at=now,
                json=_encode(snapshot),
                text=render_text(snapshot),
            )
        )
    return rows
