"""Cached LLM summaries, keyed by (profile, version, audience, field view, prompt version,
model). The view is part of the key because a summary repeats what its prompt showed: a caller
whose key may see less than the one that caused the summary must not be served it.

A profile's version changes whenever its data does, so a cached summary is never stale: a new
version simply misses. Writing an audience's summary deletes that audience's rows of older
versions; another audience's older row stays until it is replaced, and says that someone
asked for it (``refresh`` makes it again for the new version, off the request path).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import NamedTuple

import msgspec

from context_service.audience import View
from context_service.store import Store

_encode = msgspec.json.Encoder(order="deterministic").encode


class SummaryKey(NamedTuple):
    """What a cached summary is valid for."""

    profile_id: str
    version: int
    audience: str
    prompt_version: str
    model: str
    view: str  # ``view_key`` of the field view the summary was made from


def view_key(view: View) -> str:
    """A short stable digest of a field view (contact handling and hidden fields)."""
    return hashlib.sha256(_encode(view)).hexdigest()[:16]


def get(store: Store, key: SummaryKey) -> str | None:
    """The cached text, or ``None``."""
    row = store.conn.execute(
        "SELECT text FROM llm_summaries WHERE profile_id = ? AND version = ? AND audience = ? "
        "AND prompt_version = ? AND model = ? AND view = ?",
        key,
    ).fetchone()
    return None if row is None else str(row[0])


def put(store: Store, key: SummaryKey, text: str, *, wait_s: float | None = None) -> bool:
    """Store a summary and drop this audience's summaries of the profile's older versions;
    return whether it was stored (waiting for the write lock no longer than ``wait_s``:
    ``Store.transaction``).

    Only a summary of the profile's current snapshot is stored: the LLM takes seconds, and a
    profile erased (or changed) meanwhile must not get a summary of the old data back.
    """
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.transaction(wait_s=wait_s) as conn:
        current = conn.execute(
            "SELECT 1 FROM snapshots WHERE profile_id = ? AND version = ?",
            (key.profile_id, key.version),
        ).fetchone()
        if current is None:
            return False
        conn.execute(
            "DELETE FROM llm_summaries WHERE profile_id = ? AND audience = ? AND version < ?",
            (key.profile_id, key.audience, key.version),
        )
        conn.execute(
            "INSERT OR REPLACE INTO llm_summaries "
            "(profile_id, version, audience, prompt_version, model, view, text, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*key, text, now),
        )
    return True
