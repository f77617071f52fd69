"""``GET /v1/sync``: per-source sync status (last run, cursors, counts, last error, inbox)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency

from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.store import inbox as inbox_store
from context_service.trust import ADMIN


def sync_status(store: Store, sources: list[str]) -> dict[str, Any]:
    """Status of every configured or ever-synced source."""
    conn = store.conn
    runs = cursor_store.last_runs(conn)
    inbox = inbox_store.counts(conn)
    out: dict[str, Any] = {}
    for source in sorted(set(sources) | set(runs)):
        run = runs.get(source)
        out[source] = {
            "last_run": msgspec.to_builtins(run) if run else None,
            "cursors": cursor_store.cursors_of(conn, source),
            "records": _count(conn, source, "1"),
            "records_rejected": _count(conn, source, "error IS NOT NULL"),
            "webhooks": {status: n for (src, status), n in inbox.items() if src == source},
        }
    return out


def _count(conn: Any, source: str, where: str) -> int:
    sql = f"SELECT count(*) FROM records WHERE source = ? AND {where}"
    return int(conn.execute(sql, (source,)).fetchone()[0])


@get("/v1/sync", sync_to_thread=False, summary="Sync status per source", opt={"scope": ADMIN})
def get_sync(store: NamedDependency[Store], request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Last run, cursors, record counts, rejections and webhook inbox counts per source."""
    return {"sources": sync_status(store, list(request.app.state.connectors))}
