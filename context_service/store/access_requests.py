"""Requests for a person's data passed on by a vendor: recorded once, listed while open.

A vendor that received a person's access request (Shopify ``customers/data_request``) asks
every app holding their data to hand it to the shop owner. The webhook intake records the
request here (``add``); ``open_requests`` lists what is still to be answered, for
``GET /v1/sync``, ``context-service status`` and ``context-service data-requests``, where the
operator finds the profile to export (``GET /v1/profiles/{id}/export``); ``answer`` marks one
answered once the export was sent.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from context_service.models import AccessRequest


class StoredAccessRequest(msgspec.Struct):
    """One recorded request."""

    id: int
    source: str
    request_id: str | None
    account: str | None
    kind: str
    external_id: str
    email: str | None
    phone: str | None
    records: list[tuple[str, str]]
    received_at: str
    inbox_id: int | None
    status: str


_COLUMNS = (
    "id, source, request_id, account, kind, external_id, email, phone, records, received_at, "
    "inbox_id, status"
)


def add(
    conn: sqlite3.Connection,
    source: str,
    request: AccessRequest,
    received_at: str,
    inbox_id: int | None,
) -> bool:
    """Record a request; return whether it is new (a vendor's request id is recorded once,
    however many deliveries carry it)."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO access_requests (source, request_id, account, kind, external_id, "
        "email, phone, records, received_at, inbox_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            source,
            request.request_id,
            request.account,
            request.kind,
            request.external_id,
            request.email,
            request.phone,
            msgspec.json.encode(request.records).decode(),
            received_at,
            inbox_id,
        ),
    )
    return cursor.rowcount > 0


def open_requests(conn: sqlite3.Connection) -> list[StoredAccessRequest]:
    """Requests not answered yet, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE status = 'open' ORDER BY id"
    ).fetchall()
    return [_stored(row) for row in rows]


def answer(conn: sqlite3.Connection, request_id: int, now: str) -> bool:
    """Mark an open request answered; return ``False`` when there is no open request with this
    (local) id."""
    cursor = conn.execute(
        "UPDATE access_requests SET status = 'answered', closed_at = ? "
        "WHERE id = ? AND status = 'open'",
        (now, request_id),
    )
    return cursor.rowcount > 0


def _stored(row: tuple[Any, ...]) -> StoredAccessRequest:
    records = [(str(kind), str(ext)) for kind, ext in msgspec.json.decode(row[8])]
    return StoredAccessRequest(
        id=int(row[0]),
        source=str(row[1]),
        request_id=row[2],
        account=row[3],
        kind=str(row[4]),
        external_id=str(row[5]),
        email=row[6],
        phone=row[7],
        records=records,
        received_at=str(row[9]),
        inbox_id=row[10],
        status=str(row[11]),
    )
