"""Materialized snapshots: one row per profile, pre-encoded JSON and text, read in one query."""

from __future__ import annotations

import sqlite3

import msgspec


class StoredSnapshot(msgspec.Struct):
    """A materialized snapshot as stored: the JSON bytes and the plain-text rendering."""

    profile_id: str
    version: int
    generated_at: str
    json: bytes
    text: str


def save_snapshot(conn: sqlite3.Connection, snapshot: StoredSnapshot) -> None:
    """Store (or replace) a profile's snapshot."""
    conn.execute(
        "INSERT OR REPLACE INTO snapshots (profile_id, version, generated_at, json, text) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            snapshot.profile_id,
            snapshot.version,
            snapshot.generated_at,
            snapshot.json,
            snapshot.text,
        ),
    )


def enqueue(conn: sqlite3.Connection, profile_ids: set[str], now: str) -> None:
    """Mark profiles whose snapshots must be rebuilt (deferred during a backfill)."""
    conn.executemany(
        "INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at) VALUES (?, ?)",
        [(profile_id, now) for profile_id in sorted(profile_ids)],
    )


def dequeue(conn: sqlite3.Connection, limit: int) -> list[str]:
    """Take up to ``limit`` queued profile ids off the queue."""
    ids = [
        row[0]
        for row in conn.execute(
            "SELECT profile_id FROM snapshot_queue ORDER BY profile_id LIMIT ?", (limit,)
        )
    ]
    conn.executemany("DELETE FROM snapshot_queue WHERE profile_id = ?", [(i,) for i in ids])
    return ids


def read_snapshot(conn: sqlite3.Connection, profile_id: str) -> StoredSnapshot | None:
    """A profile's snapshot, or ``None``."""
    row = conn.execute(
        "SELECT profile_id, version, generated_at, json, text FROM snapshots WHERE profile_id = ?",
        (profile_id,),
    ).fetchone()
    return None if row is None else StoredSnapshot(*row)
