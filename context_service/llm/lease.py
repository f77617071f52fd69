"""Leases on uncached summaries, so that processes sharing the store make one LLM call.

The API's worker processes and the refresher each share calls among their own threads
(``Summarizer``); across processes, the one that claims a summary key's lease makes the call
and caches the summary, and the others wait for the cache. A lease is a row keyed by a digest
of the ``SummaryKey`` (no profile id in it), claimed in one short ``BEGIN IMMEDIATE``
transaction when there is none, or when it is done or expired (its holder died: the expiry is
set a little past the LLM's own timeout). The holder ends it: a summary cached deletes the row,
anything else marks it done with the reason, which the readers that waited on that holder take
as their own fallback instead of calling again. Expiry uses the wall clock, which processes
share. Rows done or expired more than ``KEEP_S`` ago are swept when a lease is claimed.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, NamedTuple

import msgspec

from context_service.llm.cache import SummaryKey
from context_service.store import Store

KEEP_S = 60.0  # how long a row done or expired stays for the readers polling it
_encode = msgspec.json.Encoder(order="deterministic").encode


class Lease(NamedTuple):
    """A summary key's lease as stored: who holds it, until when, and how it ended."""

    holder: str
    expires_at: float  # Unix seconds
    done: bool
    reason: str | None  # why a done call left no summary

    def free(self, now: float) -> bool:
        """Whether a new holder may claim it (done, or its holder is presumed dead)."""
        return self.done or self.expires_at <= now


def lease_key(key: SummaryKey) -> str:
    """The lease row's key: a digest of the whole summary key."""
    return hashlib.sha256(_encode(tuple(key))).hexdigest()


def read(store: Store, key: str) -> Lease | None:
    """The lease on ``key`` as committed, or ``None``; reads only."""
    row = store.conn.execute(
        "SELECT holder, expires_at, done, reason FROM llm_summary_leases WHERE key = ?", (key,)
    ).fetchone()
    return None if row is None else _lease(row)


def claim(
    store: Store, key: str, holder: str, ttl_s: float, *, wait_s: float | None = None
) -> Lease | None:
    """Take the lease on ``key`` for ``holder`` until ``ttl_s`` from now when it is free:
    ``None`` then, else the lease someone else holds. The write lock is waited for no longer
    than ``wait_s`` (``Store.transaction``)."""
    with store.transaction(wait_s=wait_s) as conn:
        now = time.time()
        row = conn.execute(
            "SELECT holder, expires_at, done, reason FROM llm_summary_leases WHERE key = ?",
            (key,),
        ).fetchone()
        if row is not None and not (current := _lease(row)).free(now):
            return current
        conn.execute("DELETE FROM llm_summary_leases WHERE expires_at < ?", (now - KEEP_S,))
        conn.execute(
            "INSERT OR REPLACE INTO llm_summary_leases (key, holder, expires_at, done, reason) "
            "VALUES (?, ?, ?, 0, NULL)",
            (key, holder, now + ttl_s),
        )
    return None


def release(
    store: Store, key: str, holder: str, reason: str | None, *, wait_s: float | None = None
) -> None:
    """End ``holder``'s lease on ``key``: gone when the summary is cached (``reason`` is
    ``None``), else done with ``reason``; a lease taken over meanwhile is left alone. The
    write lock is waited for no longer than ``wait_s`` (``Store.transaction``)."""
    with store.transaction(wait_s=wait_s) as conn:
        if reason is None:
            conn.execute(
                "DELETE FROM llm_summary_leases WHERE key = ? AND holder = ?", (key, holder)
            )
        else:
            conn.execute(
                "UPDATE llm_summary_leases SET done = 1, reason = ?, expires_at = ? "
                "WHERE key = ? AND holder = ?",
                (reason, time.time(), key, holder),
            )


def _lease(row: tuple[Any, ...]) -> Lease:
    holder, expires_at, done, reason = row
    return Lease(str(holder), float(expires_at), bool(done), reason)
