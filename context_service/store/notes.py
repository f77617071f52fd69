"""Internal notes already posted on a helpdesk ticket, by a digest of the ticket and the text.

A retried ``create_escalation`` or ``POST /v1/escalations`` (an agent framework whose answer was
lost) must not post the same handoff twice, whichever ``serve`` worker the retry lands on, and
after a restart too: the claim is a row, taken with ``INSERT OR IGNORE`` so two workers racing
for it cannot both win. Only a hash is kept (no ticket text), for ``RETENTION_DAYS``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta

RETENTION_DAYS = 30


def note_digest(ticket_id: str, text: str) -> str:
    """The key of one note on one ticket."""
    return hashlib.sha256(f"{ticket_id}\0{text}".encode()).hexdigest()


def claim(conn: sqlite3.Connection, digest: str, now: datetime) -> bool:
    """Whether the note is new (and now counts as posted); ``False`` when it was posted before
    (by this process, another worker or before a restart). Claims older than the retention
    are forgotten first."""
    cutoff = _iso(now - timedelta(days=RETENTION_DAYS))
    conn.execute("DELETE FROM posted_notes WHERE posted_at < ?", (cutoff,))
    taken = conn.execute(
        "INSERT OR IGNORE INTO posted_notes (digest, posted_at) VALUES (?, ?)", (digest, _iso(now))
    )
    return taken.rowcount == 1


def release(conn: sqlite3.Connection, digest: str) -> None:
    """Forget a claimed note whose posting failed, so that a retry posts it."""
    conn.execute("DELETE FROM posted_notes WHERE digest = ?", (digest,))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
