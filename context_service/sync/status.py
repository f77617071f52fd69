"""Per-source sync status: last run, cursors, record and rejection counts, webhook inbox, and
the open requests for a person's data that a vendor passed on (with the profile to export).

Shared by ``GET /v1/sync`` and ``context-service status``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from context_service.models import RecordKey
from context_service.store import Store, access_requests, profiles
from context_service.store import cursors as cursor_store
from context_service.store import inbox as inbox_store


def sync_status(store: Store, sources: list[str]) -> dict[str, Any]:
    """Status of every configured or ever-synced source."""
    conn = store.conn
    runs = cursor_store.last_runs(conn)
    inbox = inbox_store.counts(conn)
    requests = _open_access_requests(conn)
    out: dict[str, Any] = {}
    for source in sorted(set(sources) | set(runs) | _sources_with_records(conn) | set(requests)):
        run = runs.get(source)
        out[source] = {
            "last_run": msgspec.to_builtins(run) if run else None,
            "cursors": cursor_store.cursors_of(conn, source),
            "records": _count(conn, source, "1"),
            "records_rejected": _count(conn, source, "error IS NOT NULL"),
            "webhooks": {status: n for (src, status), n in inbox.items() if src == source},
            "access_requests": requests.get(source, []),
        }
    return out


def open_access_requests(conn: Any) -> list[dict[str, Any]]:
    """Open access requests, oldest first, each with the profile that now holds the record it
    names (``profile_id``, ``None`` while nothing is stored about it)."""
    found = access_requests.open_requests(conn)
    keys = [RecordKey(r.source, r.kind, r.external_id) for r in found]
    held = profiles.profiles_of_keys(conn, keys)
    out: list[dict[str, Any]] = []
    for request, key in zip(found, keys, strict=True):
        entry = msgspec.to_builtins(request)
        entry["profile_id"] = held.get(key)
        out.append(entry)
    return out


def _open_access_requests(conn: Any) -> dict[str, list[dict[str, Any]]]:
    """``open_access_requests`` per source."""
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in open_access_requests(conn):
        out.setdefault(entry["source"], []).append(entry)
    return out


def _sources_with_records(conn: Any) -> set[str]:
    """Every source that has records (an import from a store older than import runs, say),
    one index seek per source."""
    rows = conn.execute(
        "WITH RECURSIVE seen(source) AS (SELECT min(source) FROM records UNION ALL "
        "SELECT (SELECT min(source) FROM records WHERE source > seen.source) FROM seen "
        "WHERE seen.source IS NOT NULL) SELECT source FROM seen WHERE source IS NOT NULL"
    )
    return {str(row[0]) for row in rows}


def _count(conn: Any, source: str, where: str) -> int:
    sql = f"SELECT count(*) FROM records WHERE source = ? AND {where}"
    return int(conn.execute(sql, (source,)).fetchone()[0])
