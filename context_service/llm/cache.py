"""Cached LLM summaries, keyed by (profile, version, audience, prompt version, model).

A profile's version changes whenever its data does, so a cached summary is never stale: a new
version simply misses. Rows of older versions are deleted when a new one is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from context_service.store import Store


class SummaryKey(NamedTuple):
    """What a cached summary is valid for."""

    profile_id: str
    version: int
    audience: str
    prompt_version: str
    model: str


def get(store: Store, key: SummaryKey) -> str | None:
    """The cached text, or ``None``."""
    row = store.conn.execute(
        "SELECT text FROM llm_summaries WHERE profile_id = ? AND version = ? AND audience = ? "
        "AND prompt_version = ? AND model = ?",
        key,
    ).fetchone()
    return None if row is None else str(row[0])


def put(store: Store, key: SummaryKey, text: str) -> None:
    """Store a summary and drop the profile's summaries of older versions."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.transaction() as conn:
        conn.execute(
            "DELETE FROM llm_summaries WHERE profile_id = ? AND version < ?",
            (key.profile_id, key.version),
        )
        conn.execute(
            "INSERT OR REPLACE INTO llm_summaries "
            "(profile_id, version, audience, prompt_version, model, text, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*key, text, now),
        )
