"""Internal notes already posted on a helpdesk ticket, by a digest of the ticket and the text.

A retried ``create_escalation`` or ``POST /v1/escalations`` (an agent framework whose answer was
lost) must not post the same handoff twice, whichever ``serve`` worker the retry lands on, and
after a restart too: the claim is a row, taken with ``INSERT OR IGNORE`` so two workers racing
for it cannot both win, in a transaction of its own (never one that another thread has open on
the shared connection, which would roll it back with its own). Only a hash is kept (no ticket
text), for ``RETENTION_DAYS``.

A claim is **pending** until the note is posted (``confirm``): a retry that arrives while the
first request still waits for the helpdesk hears that the note is being posted (and may try
again), not that it was posted, which it may never be (the first request's post can fail and
release the claim). A claim left pending longer than ``PENDING_SECONDS`` (a process killed
while posting) is taken over by the next request.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Literal

from context_service.store.db import roll_back

RETENTION_DAYS = 30
PENDING_SECONDS = 60  # longer than a note post may take (``ZendeskNotes``: a 10 s timeout)
Claimed = Literal["new", "posted", "pending"]


def note_digest(ticket_id: str, text: str) -> str:
    """The key of one note on one ticket."""
    return hashlib.sha256(f"{ticket_id}\0{text}".encode()).hexdigest()


def claim(conn: sqlite3.Connection, digest: str, now: datetime) -> Claimed:
    """``new`` when this request may post the note (the claim is now pending); ``posted``
    when it was posted before (by this process, another worker or before a restart);
    ``pending`` when another request is posting it now. Claims older than the retention are
    forgotten first. The claim is committed on its own (``_own_transaction``), whatever
    another thread has open on ``conn``."""
    cutoff = _iso(now - timedelta(days=RETENTION_DAYS))
    stale = _iso(now - timedelta(seconds=PENDING_SECONDS))
    with _own_transaction(conn) as own:
        own.execute("DELETE FROM posted_notes WHERE posted_at < ?", (cutoff,))
        own.execute(
            "DELETE FROM posted_notes WHERE digest = ? AND confirmed = 0 AND posted_at < ?",
            (digest, stale),
        )
        taken = own.execute(
            "INSERT OR IGNORE INTO posted_notes (digest, posted_at, confirmed) VALUES (?, ?, 0)",
            (digest, _iso(now)),
        )
        if taken.rowcount == 1:
            return "new"
        row = own.execute(
            "SELECT confirmed FROM posted_notes WHERE digest = ?", (digest,)
        ).fetchone()
        return "posted" if row is not None and row[0] else "pending"


def confirm(conn: sqlite3.Connection, digest: str) -> None:
    """The claimed note was posted: a repeat hears so from now on."""
    with _own_transaction(conn) as own:
        own.execute("UPDATE posted_notes SET confirmed = 1 WHERE digest = ?", (digest,))


def release(conn: sqlite3.Connection, digest: str) -> None:
    """Forget a claimed note whose posting failed, so that a retry posts it: a pending claim
    only. One confirmed meanwhile (a request that took the claim over after
    ``PENDING_SECONDS`` and posted it) stays, or a retry would post the note again."""
    with _own_transaction(conn) as own:
        own.execute("DELETE FROM posted_notes WHERE digest = ? AND confirmed = 0", (digest,))


@contextmanager
def _own_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short write transaction of its own on the database of ``conn``, through a connection
    of its own: ``conn`` is shared by the tool calls of every worker thread, and a statement
    run on it while another thread has a transaction open there (a read transaction, say)
    would join that transaction, be rolled back with it, or hold the write lock until it ends.
    An in-memory database (no file to open again) is written through ``conn`` itself. Not to
    be called inside a write transaction of the same thread on the same file: it would wait
    for itself (``busy_timeout``)."""
    path = _file_of(conn)
    if not path:
        yield conn
        return
    own = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        own.execute("PRAGMA secure_delete=ON")
        own.execute("BEGIN IMMEDIATE")
        try:
            yield own
            own.execute("COMMIT")
        except BaseException:
            roll_back(own)
            raise
    finally:
        own.close()


def _file_of(conn: sqlite3.Connection) -> str:
    """The file of the main database of ``conn`` (``""`` for an in-memory one)."""
    for _seq, name, path in conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(path or "")
    return ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
