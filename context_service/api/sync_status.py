"""``GET /v1/sync``: per-source sync status (last run, cursors, counts, last error, inbox)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency

from context_service.api.auth import limited_principal
from context_service.store import Store
from context_service.sync.status import sync_status
from context_service.trust import ADMIN


@get("/v1/sync", sync_to_thread=False, summary="Sync status per source", opt={"scope": ADMIN})
def get_sync(store: NamedDependency[Store], request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Last run (one whose process is gone shows as ``interrupted``, with ``last_seen_at``),
    cursors, record counts, rejections, webhook inbox counts and the failed deliveries that
    ``context-service webhooks retry`` can apply again (``webhooks_failed``) per source. An
    open access request's ``email`` / ``phone`` is ``null`` for a key that hides
    ``identity.emails`` / ``identity.phones`` or is limited to audiences."""
    sources = sync_status(store, list(request.app.state.connectors))
    principal = limited_principal(request)
    for field, hidden in (("email", "identity.emails"), ("phone", "identity.phones")):
        if principal.audiences is not None or hidden in principal.hide:
            for status in sources.values():
                for entry in status["access_requests"]:
                    entry[field] = None
    return {"sources": sources}
