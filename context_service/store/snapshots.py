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


def read_snapshot(conn: sqlite3.Connection, profile_id: str) -> StoredSnapshot | None:
    """A profile's snapshot, or ``None``."""
    row = conn.execute(
        "SELECT profile_id, version, generated_at, json, text FROM snapshots WHERE profile_id = ?",
        (profile_id,),
    ).fetchone()
    return None if row is None else StoredSnapshot(*row)
