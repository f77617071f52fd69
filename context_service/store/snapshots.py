"""Materialized snapshots: one row per profile, pre-encoded JSON and text, read in one query."""

from __future__ import annotations

import sqlite3

import msgspec

from context_service.store.keys import chunks, marks


class StoredSnapshot(msgspec.Struct):
    """A materialized snapshot as stored: the JSON bytes and the plain-text rendering, and
    ``refresh_at``: when its time-dependent signals change (an invoice falls overdue, an order
    leaves the window of recent ones; ISO-8601 UTC to the second), ``None`` if never. A row
    whose moment has passed is built again, with a new version (``snapshot.lookup``)."""

    profile_id: str
    version: int
    generated_at: str
    json: bytes
    text: str
    refresh_at: str | None = None


def save_snapshots(conn: sqlite3.Connection, rows: list[StoredSnapshot]) -> None:
    """Store (or replace) several profiles' snapshots in one statement.

    An existing row is updated in place (an upsert keeps its rowid), where ``INSERT OR
    REPLACE`` would delete it and append a new one: two more pages written per snapshot (the
    freed page and the key index), which a commit of one webhook's changes pays for."""
    conn.executemany(
        "INSERT INTO snapshots (profile_id, version, generated_at, json, text, refresh_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (profile_id) DO UPDATE SET "
        "version = excluded.version, generated_at = excluded.generated_at, "
        "json = excluded.json, text = excluded.text, refresh_at = excluded.refresh_at",
        [(s.profile_id, s.version, s.generated_at, s.json, s.text, s.refresh_at) for s in rows],
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


def is_due(conn: sqlite3.Connection, profile_id: str, now: str) -> bool:
    """Whether this profile's snapshot holds time-dependent signals that changed by ``now``
    (its ``refresh_at`` is ``now`` or earlier)."""
    row = conn.execute(
        "SELECT 1 FROM snapshots WHERE profile_id = ? AND refresh_at <= ?", (profile_id, now)
    ).fetchone()
    return row is not None


def due_for_refresh(conn: sqlite3.Connection, now: str, limit: int) -> list[str]:
    """Up to ``limit`` profiles whose snapshot's time-dependent signals changed by ``now``
    (``refresh_at`` is ``now`` or earlier), the longest waiting first (the partial index
    ``snapshots_refresh_at``: no scan of the table)."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT profile_id FROM snapshots WHERE refresh_at <= ? ORDER BY refresh_at LIMIT ?",
            (now, limit),
        )
    ]


def next_refresh(conn: sqlite3.Connection) -> str | None:
    """The earliest ``refresh_at`` of any snapshot (``None``: none holds a time-dependent
    signal), read from the partial index ``snapshots_refresh_at``."""
    row = conn.execute(
        "SELECT min(refresh_at) FROM snapshots WHERE refresh_at IS NOT NULL"
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def queue_refresh(conn: sqlite3.Connection, profile_ids: list[str], now: str) -> None:
    """Queue these profiles, whose time-dependent signals changed, for a rebuild with a new
    version (their content changes: whatever is cached by version, LLM summaries and answers'
    ``ETag``, must not be served for it), and clear their moment so they are bumped once."""
    for chunk in chunks(profile_ids):
        conn.execute(
            "UPDATE profiles SET version = version + 1, updated_at = ? "
            f"WHERE id IN ({marks(chunk)})",
            [now, *chunk],
        )
        conn.execute(
            f"UPDATE snapshots SET refresh_at = NULL WHERE profile_id IN ({marks(chunk)})", chunk
        )
    enqueue(conn, set(profile_ids), now)


def read_snapshot(conn: sqlite3.Connection, profile_id: str) -> StoredSnapshot | None:
    """A profile's snapshot, or ``None``."""
    row = conn.execute(
        "SELECT profile_id, version, generated_at, json, text, refresh_at FROM snapshots "
        "WHERE profile_id = ?",
        (profile_id,),
    ).fetchone()
    return None if row is None else StoredSnapshot(*row)
