"""What the identity engine keeps about itself: the trained match model and the version of the
blocking keys the index was built with."""

from __future__ import annotations

import sqlite3

import msgspec

from context_service.identity.features import INDEX_VERSION
from context_service.identity.model import DEFAULT_MODEL, MatchModel


def index_version(conn: sqlite3.Connection) -> str | None:
    """The ``INDEX_VERSION`` the identity index was built with (``None``: before versions)."""
    row = conn.execute("SELECT value FROM identity_meta WHERE key = 'index_version'").fetchone()
    return None if row is None else str(row[0])


def mark_index_current(conn: sqlite3.Connection) -> None:
    """Record that the whole identity index follows the current ``INDEX_VERSION``."""
    conn.execute(
        "INSERT OR REPLACE INTO identity_meta (key, value) VALUES ('index_version', ?)",
        (INDEX_VERSION,),
    )


def load_model(conn: sqlite3.Connection) -> MatchModel:
    """The store's trained model, or ``DEFAULT_MODEL`` before the first training."""
    row = conn.execute("SELECT model FROM identity_model WHERE id = 1").fetchone()
    if row is None:
        return DEFAULT_MODEL
    return msgspec.json.decode(row[0], type=MatchModel)


def save_model(conn: sqlite3.Connection, model: MatchModel, now: str) -> None:
    """Store a trained model (it applies to every later decision)."""
    conn.execute(
        "INSERT OR REPLACE INTO identity_model (id, model, trained_at) VALUES (1, ?, ?)",
        (msgspec.json.encode(model).decode(), now),
    )
