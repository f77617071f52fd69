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


def save_snapshots(conn: sqlite3.Connection, rows: list[StoredSnapshot]) -> None:
    """Store (or replace) several profiles' snapshots in one statement.

    An existing row is updated in place (an upsert keeps its rowid), where ``INSERT OR
    REPLACE`` would delete it and append a new one: two more pages written per snapshot (the
    freed page and the key index), which a commit of one webhook's changes pays for."""
    conn.executemany(
        "INSERT INTO snapshots (profile_id, version, generated_at, json, text) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (profile_id) DO UPDATE SET "
        "version = excluded.version, generated_at = excluded.generated_at, "
        "json = excluded.json, text = excluded.text",
        [(s.profile_id, s.version, s.generated_at, s.json, s.text) for s in rows],
    )


def save_if_current(conn: sqlite3.Connection, rows: list[StoredSnapshot]) -> int:
    """Store the snapshots built for their profile's current version and take those profiles
    off the queue; a snapshot of an older version (the profile changed since it was read), or
    of a profile that is gone, is dropped. Return how many were stored."""
    current: dict[str, int] = {}
    ids = sorted({s.profile_id for s in rows})
    for start in range(0, len(ids), 400):
        chunk = ids[start : start + 400]
        marks = ",".join("?" * len(chunk))
        current.update(
            (str(pid), int(version))
            for pid, version in conn.execute(
                f"SELECT id, version FROM profiles WHERE id IN ({marks})", chunk
            )
        )
    fresh = [s for s in rows if current.get(s.profile_id) == s.version]
    save_snapshots(conn, fresh)
    unqueue(conn, [s.profile_id for s in fresh])
    return len(fresh)


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
    unqueue(conn, ids)
    return ids


def queued_after(conn: sqlite3.Connection, after: str, limit: int) -> list[str]:
    """Up to ``limit`` queued profile ids that sort after ``after``, in order (left queued)."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT profile_id FROM snapshot_queue WHERE profile_id > ? "
            "ORDER BY profile_id LIMIT ?",
            (after, limit),
        )
    ]


def is_queued(conn: sqlite3.Connection, profile_id: str) -> bool:
    """Whether this profile's snapshot is queued for a rebuild."""
    row = conn.execute("SELECT 1 FROM snapshot_queue WHERE profile_id = ?", (profile_id,))
    return row.fetchone() is not None


def is_queued_any(conn: sqlite3.Connection) -> bool:
    """Whether any snapshot is queued for a rebuild."""
    return conn.execute("SELECT 1 FROM snapshot_queue LIMIT 1").fetchone() is not None


def unqueue(conn: sqlite3.Connection, profile_ids: list[str]) -> None:
    """Take these profiles off the queue (a statement per few hundred: one per profile cost
    a third more)."""
    for start in range(0, len(profile_ids), 400):
        chunk = profile_ids[start : start + 400]
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM snapshot_queue WHERE profile_id IN ({marks})", chunk)


def read_snapshot(conn: sqlite3.Connection, profile_id: str) -> StoredSnapshot | None:
    """A profile's snapshot, or ``None``."""
    row = conn.execute(
        "SELECT profile_id, version, generated_at, json, text FROM snapshots WHERE profile_id = ?",
        (profile_id,),
    ).fetchone()
    return None if row is None else StoredSnapshot(*row)
