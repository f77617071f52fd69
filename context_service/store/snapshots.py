"""Materialized snapshots: one row per profile, pre-encoded JSON and text, read in one query."""

from __future__ import annotations

import hashlib
import sqlite3

import msgspec

from context_service.store.keys import chunks, marks

# What this release's snapshots are: a row stored with a lower ``format`` was written by an older
# release (or by code that predates the column, which leaves 0: a new row takes the default, and
# the trigger ``snapshots_written_elsewhere`` sets it on an old upsert that rewrote the content
# without a new ``stamp``) and is built again by this one (``requeue_stale``, which marks it -1
# until then: queued by this code, so not looked for again). A release that
# changes what a snapshot may hold (redaction) raises it instead of queueing every profile in a
# migration, which an older server still running on the file would drain with its own code.
SNAPSHOT_FORMAT = 1


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
    """Store (or replace) several profiles' snapshots in one statement, marked as this
    release's (``SNAPSHOT_FORMAT``) with their content's ``stamp``.

    An existing row is updated in place (an upsert keeps its rowid), where ``INSERT OR
    REPLACE`` would delete it and append a new one: two more pages written per snapshot (the
    freed page and the key index), which a commit of one webhook's changes pays for."""
    conn.executemany(
        "INSERT INTO snapshots (profile_id, version, generated_at, json, text, refresh_at, "
        "format, stamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (profile_id) DO UPDATE SET "
        "version = excluded.version, generated_at = excluded.generated_at, "
        "json = excluded.json, text = excluded.text, refresh_at = excluded.refresh_at, "
        "format = excluded.format, stamp = excluded.stamp",
        [
            (
                *(s.profile_id, s.version, s.generated_at, s.json, s.text, s.refresh_at),
                *(SNAPSHOT_FORMAT, stamp_of(s.json, s.text)),
            )
            for s in rows
        ],
    )


def stamp_of(json: bytes, text: str) -> int:
    """A 64-bit digest of a snapshot's content, stored beside it by this code: a write of new
    content that leaves the stamp as it was came from code that does not know the column (an
    older release), and the trigger ``snapshots_written_elsewhere`` marks that row stale."""
    digest = hashlib.blake2b(json, digest_size=8)
    digest.update(text.encode("utf-8", "surrogatepass"))
    return int.from_bytes(digest.digest(), "big", signed=True)


def older_format(conn: sqlite3.Connection, limit: int = -1) -> list[str]:
    """Up to ``limit`` (all: -1) profiles whose stored snapshot an older release wrote
    (``format`` from 0 to below ``SNAPSHOT_FORMAT``) and that are not queued for a rebuild
    (this code's ``requeue_stale`` and 0044 mark the rows they queue -1, so that they are not
    read here again until rebuilt). One probe of the index ``snapshots_format`` when there
    are none."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT profile_id FROM snapshots s WHERE format >= 0 AND format < ? AND NOT EXISTS "
            "(SELECT 1 FROM snapshot_queue q WHERE q.profile_id = s.profile_id) LIMIT ?",
            (SNAPSHOT_FORMAT, limit),
        )
    ]


def requeue_stale(conn: sqlite3.Connection, now: str) -> int:
    """Queue for a rebuild by this code every snapshot an older release wrote since this
    release last built it (an older ``serve`` still running on the file drained the queue an
    upgrade's migration filled, say), each with a new profile version, as ``queue_refresh``
    does: what is cached by version (LLM summaries, ``ETag``) came from the old content. Such
    a row is marked -1 (queued by this code) until rebuilt; one whose profile is gone is
    deleted. Return how many were queued; call it in a transaction."""
    ids = older_format(conn)
    live: list[str] = []
    for chunk in chunks(ids):
        found = conn.execute(f"SELECT id FROM profiles WHERE id IN ({marks(chunk)})", chunk)
        live.extend(str(row[0]) for row in found)
    gone = sorted(set(ids) - set(live))
    for chunk in chunks(gone):
        conn.execute(f"DELETE FROM snapshots WHERE profile_id IN ({marks(chunk)})", chunk)
    queue_refresh(conn, live, now)
    for chunk in chunks(live):
        conn.execute(
            f"UPDATE snapshots SET format = -1 WHERE profile_id IN ({marks(chunk)})", chunk
        )
    return len(live)


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
