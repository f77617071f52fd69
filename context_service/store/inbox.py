"""The durable webhook inbox: deliveries are stored before they are applied, once per dedup id."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec

from context_service.store.keys import chunks, marks


class InboxRow(msgspec.Struct):
    """One stored delivery."""

    id: int
    source: str
    topic: str
    received_at: str
    body: bytes
    headers: dict[str, str]
    status: str
    error: str | None
    attempts: int = 0  # failed vendor calls, or passes its records moved under (``retry_later``)


def seen_before(
    conn: sqlite3.Connection, source: str, dedup_ids: list[str], *, every: bool = False
) -> bool:
    """Whether any of these dedup ids was already received from this source (with ``every``:
    whether all of them were, and there was at least one)."""
    for dedup_id in dedup_ids:
        row = conn.execute(
            "SELECT 1 FROM webhook_seen WHERE source = ? AND dedup_id = ?", (source, dedup_id)
        ).fetchone()
        if row is not None and not every:
            return True
        if row is None and every:
            return False
    return every and bool(dedup_ids)


def add_delivery(
    conn: sqlite3.Connection,
    source: str,
    topic: str,
    body: bytes,
    headers: dict[str, str],
    dedup_ids: list[str],
    now: str,
    status: str = "pending",
    error: str | None = None,
) -> int:
    """Store a delivery and remember its dedup ids; return the inbox id."""
    cursor = conn.execute(
        "INSERT INTO webhook_inbox (source, topic, received_at, body, headers, status, error) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (source, topic, now, body, msgspec.json.encode(headers).decode(), status, error),
    )
    inbox_id = int(cursor.lastrowid or 0)
    conn.executemany(
        "INSERT OR IGNORE INTO webhook_seen (source, dedup_id, inbox_id, seen_at) "
        "VALUES (?, ?, ?, ?)",
        [(source, dedup_id, inbox_id, now) for dedup_id in dedup_ids],
    )
    return inbox_id


def pending(conn: sqlite3.Connection, limit: int = 100, now: str | None = None) -> list[InboxRow]:
    """Deliveries not applied yet, oldest first; with ``now`` (ISO-8601), only those due by
    then: one that waits for a vendor to answer again (``retry_later``) is left out until its
    time, so that it holds up neither the deliveries behind it nor the vendor."""
    due = "" if now is None else "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
    rows = conn.execute(
        "SELECT id, source, topic, received_at, body, headers, status, error, attempts "
        f"FROM webhook_inbox WHERE status = 'pending' {due}ORDER BY id LIMIT ?",
        (limit,) if now is None else (now, limit),
    ).fetchall()
    return [
        InboxRow(r[0], r[1], r[2], r[3], r[4], msgspec.json.decode(r[5]), r[6], r[7], r[8])
        for r in rows
    ]


def delivery(conn: sqlite3.Connection, inbox_id: int) -> InboxRow | None:
    """One stored delivery, whatever its status; ``None`` when there is none (or it was
    purged)."""
    row = conn.execute(
        "SELECT id, source, topic, received_at, body, headers, status, error, attempts "
        "FROM webhook_inbox WHERE id = ?",
        (inbox_id,),
    ).fetchone()
    if row is None:
        return None
    headers = msgspec.json.decode(row[5], type=dict[str, str])
    return InboxRow(row[0], row[1], row[2], row[3], row[4], headers, row[6], row[7], row[8])


def next_attempt(conn: sqlite3.Connection) -> str | None:
    """When the earliest pending delivery may be tried (ISO-8601; its arrival time when it
    waits for nothing, such as one a locked store sent back), ``None`` when none is pending."""
    row = conn.execute(
        "SELECT min(coalesce(next_attempt_at, received_at)) FROM webhook_inbox "
        "WHERE status = 'pending'"
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def is_pending(conn: sqlite3.Connection, inbox_id: int) -> bool:
    """Whether the delivery still waits to be applied (not applied, failed or purged since)."""
    row = conn.execute("SELECT status FROM webhook_inbox WHERE id = ?", (inbox_id,)).fetchone()
    return row is not None and row[0] == "pending"


def note_records(conn: sqlite3.Connection, inbox_id: int, records: Iterable[str]) -> None:
    """Remember which records (``suppression.record_value``) a delivery named, so that an
    erasure of one of them finds the delivery (``naming``) whatever its body calls them."""
    conn.executemany(
        "INSERT OR IGNORE INTO webhook_inbox_records (record, inbox_id) VALUES (?, ?)",
        [(record, inbox_id) for record in sorted(set(records))],
    )


def naming(conn: sqlite3.Connection, records: Iterable[str]) -> set[int]:
    """The deliveries that named one of these records (``note_records``)."""
    found: set[int] = set()
    for chunk in chunks(sorted(set(records))):
        rows = conn.execute(
            f"SELECT inbox_id FROM webhook_inbox_records WHERE record IN ({marks(chunk)})", chunk
        )
        found.update(int(row[0]) for row in rows)
    return found


def forget_body(conn: sqlite3.Connection, inbox_id: int) -> None:
    """Blank a delivery's body and headers (it was about an erased person); its row, status
    and times stay, so the delivery still counts as received and applied."""
    conn.execute("UPDATE webhook_inbox SET body = X'', headers = '{}' WHERE id = ?", (inbox_id,))


def mark(
    conn: sqlite3.Connection, inbox_id: int, status: str, now: str, error: str | None = None
) -> bool:
    """Record the outcome of applying a pending delivery (``applied``, ``failed``,
    ``rejected``: unreadable, as at the intake, or ``pending``); return whether it was still
    pending. A delivery that another applier has
    already settled keeps its outcome: a late failure never turns ``applied`` into ``failed``."""
    cursor = conn.execute(
        "UPDATE webhook_inbox SET status = ?, applied_at = ?, error = ? "
        "WHERE id = ? AND status = 'pending'",
        (status, now, error, inbox_id),
    )
    return cursor.rowcount > 0


def retry_later(conn: sqlite3.Connection, inbox_id: int, due: str, error: str) -> bool:
    """Leave a pending delivery pending until ``due`` (ISO-8601), one more failed attempt
    counted, with the reason in ``error``; return whether it was still pending."""
    cursor = conn.execute(
        "UPDATE webhook_inbox SET attempts = attempts + 1, next_attempt_at = ?, error = ? "
        "WHERE id = ? AND status = 'pending'",
        (due, error, inbox_id),
    )
    return cursor.rowcount > 0


class Outcome(msgspec.Struct):
    """Where a delivery stands, without its body."""

    id: int
    source: str
    topic: str
    status: str
    error: str | None
    has_body: bool  # ``False``: blanked by an erasure (``forget_body``, ``scrub_text``)
    next_attempt_at: str | None


def outcomes(conn: sqlite3.Connection, inbox_ids: list[int]) -> dict[int, Outcome]:
    """The deliveries with these ids that exist."""
    found: dict[int, Outcome] = {}
    for at in range(0, len(inbox_ids), 500):
        chunk = inbox_ids[at : at + 500]
        rows = conn.execute(
            "SELECT id, source, topic, status, error, length(body) > 0, next_attempt_at "
            f"FROM webhook_inbox WHERE id IN ({marks(chunk)})",
            chunk,
        )
        for r in rows:
            found[int(r[0])] = Outcome(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6])
    return found


def failed_ids(conn: sqlite3.Connection, source: str | None = None) -> list[int]:
    """The failed deliveries (of ``source``, else of every source), oldest first."""
    where, params = ("AND source = ? ", (source,)) if source else ("", ())
    rows = conn.execute(
        f"SELECT id FROM webhook_inbox WHERE status = 'failed' {where}ORDER BY id", params
    )
    return [int(row[0]) for row in rows]


def requeue(conn: sqlite3.Connection, inbox_ids: list[int]) -> list[int]:
    """Make failed deliveries that still have a body pending again, due now, with no failed
    attempt counted; return the ids that were. Their dedup ids stay: the vendor's own retries
    are still acknowledged as duplicates."""
    done: list[int] = []
    for inbox_id in inbox_ids:
        cursor = conn.execute(
            "UPDATE webhook_inbox SET status = 'pending', applied_at = NULL, error = NULL, "
            "attempts = 0, next_attempt_at = NULL "
            "WHERE id = ? AND status = 'failed' AND length(body) > 0",
            (inbox_id,),
        )
        if cursor.rowcount:
            done.append(inbox_id)
    return done


def rejected_ids(conn: sqlite3.Connection, source: str | None = None) -> list[int]:
    """The rejected deliveries (of ``source``, else of every source) that still have a body,
    oldest first."""
    where, params = ("AND source = ? ", (source,)) if source else ("", ())
    rows = conn.execute(
        "SELECT id FROM webhook_inbox WHERE status = 'rejected' AND length(body) > 0 "
        f"{where}ORDER BY id",
        params,
    )
    return [int(row[0]) for row in rows]


def readmit(
    conn: sqlite3.Connection, inbox_id: int, topic: str, dedup_ids: list[str], now: str
) -> bool:
    """Make a rejected delivery that still has a body pending under ``topic``, due now, and
    remember its dedup ids (the vendor's later copies of it are duplicates); return whether
    it was still rejected."""
    cursor = conn.execute(
        "UPDATE webhook_inbox SET status = 'pending', topic = ?, error = NULL, "
        "applied_at = NULL, attempts = 0, next_attempt_at = NULL "
        "WHERE id = ? AND status = 'rejected' AND length(body) > 0",
        (topic, inbox_id),
    )
    if not cursor.rowcount:
        return False
    conn.executemany(
        "INSERT OR IGNORE INTO webhook_seen (source, dedup_id, inbox_id, seen_at) "
        "SELECT source, ?, id, ? FROM webhook_inbox WHERE id = ?",
        [(dedup_id, now, inbox_id) for dedup_id in dedup_ids],
    )
    return True


def settle_rejected(
    conn: sqlite3.Connection, inbox_id: int, status: str, now: str, error: str
) -> bool:
    """Settle a rejected delivery as ``status`` (``applied``: another copy of its event was
    received since; ``rejected``: still unreadable) with ``error`` saying why; return whether
    it was still rejected."""
    cursor = conn.execute(
        "UPDATE webhook_inbox SET status = ?, applied_at = ?, error = ? "
        "WHERE id = ? AND status = 'rejected'",
        (status, now if status != "rejected" else None, error, inbox_id),
    )
    return cursor.rowcount > 0


def retryable_failed_counts(conn: sqlite3.Connection, blanked_error: str) -> dict[str, int]:
    """Failed deliveries per source that can be applied again: those with a body, and not
    settled with ``blanked_error`` (an erasure's mark)."""
    rows = conn.execute(
        "SELECT source, count(*) FROM webhook_inbox WHERE status = 'failed' "
        "AND length(body) > 0 AND error IS NOT ? GROUP BY source",
        (blanked_error,),
    )
    return {str(src): int(n) for src, n in rows}


def counts(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Deliveries per (source, status), counted in the ``webhook_inbox_status`` index."""
    rows = conn.execute(
        "SELECT source, status, count(*) FROM webhook_inbox GROUP BY status, source"
    )
    return {(str(src), str(status)): int(n) for src, status, n in rows}


def purge(conn: sqlite3.Connection, before: str) -> int:
    """Delete applied deliveries received before ``before`` (ISO-8601), and the dedup ids of
    deliveries that are gone; return how many deliveries. Pending and failed ones stay, to be
    applied or looked into, except failed ones an erasure blanked (nothing left to look
    at). A delivery replayed after this is refused by its signature's
    timestamp (Stripe, HubSpot, Zendesk) or, for Shopify, whose signature has none, applied
    again, which changes nothing: an older event never overwrites newer data."""
    gone = conn.execute(
        "DELETE FROM webhook_inbox WHERE received_at < ? "
        "AND (status = 'applied' OR (status = 'failed' AND length(body) = 0))",
        (before,),
    ).rowcount
    conn.execute(
        "DELETE FROM webhook_seen WHERE seen_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM webhook_inbox WHERE id = webhook_seen.inbox_id)",
        (before,),
    )
    return int(gone)
