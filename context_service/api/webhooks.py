"""``POST /v1/webhooks/{source}``: signed vendor deliveries, verified before anything else.

Authenticated by the vendor's signature over the raw body, not by an API key (vendors cannot
send ours). A delivery that fails verification gets 401 and leaves no trace; an authentic one
is stored in the durable inbox, acknowledged at once and applied right after the response; an
authentic one that cannot be read is kept raw and answered 422. Behind a proxy, the URL HubSpot
signs is rebuilt from ``CONTEXT_SERVICE_PUBLIC_URL``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath

from context_service.errors import SourceNotConfigured
from context_service.models import Connector
from context_service.sync import (
    InboxPruner,
    IngestContext,
    apply_pending,
    drain_snapshots,
    receive,
)

MAX_WEBHOOK_BYTES = 1_048_576


@post(
    "/v1/webhooks/{source:str}",
    status_code=200,
    request_max_body_size=MAX_WEBHOOK_BYTES,
    summary="Receive a signed vendor webhook",
)
async def receive_webhook(
    request: Request[Any, Any, Any], source: FromPath[str]
) -> Response[dict[str, Any]]:
    """Verify, store once, acknowledge; apply in the background (snapshots update in ms)."""
    state = request.app.state
    connectors: Mapping[str, Connector] = state.connectors
    connector = connectors.get(source)
    if connector is None:
        name = source if len(source) <= 40 else source[:40] + "..."
        raise SourceNotConfigured(f"no webhook source {name!r} is configured on this server")
    body = await request.body()
    urls = _called_urls(request, state, source)
    receipt = receive(state.store, connector, request.headers, body, urls, time.time())
    task = BackgroundTask(_apply, state, connectors)
    content = {"status": receipt.status, "topic": receipt.topic}
    return Response(content, background=task)


def _called_urls(request: Request[Any, Any, Any], state: Any, source: str) -> list[str]:
    """The URLs the vendor may have called, for signatures that cover it (HubSpot v3).

    Behind a proxy that terminates TLS or rewrites the host, the request arrives at another URL
    than the one HubSpot called and signed: that one is ``CONTEXT_SERVICE_PUBLIC_URL`` plus this
    route's path and the query as received. The URL the request arrived at is tried as well.
    """
    own = str(request.url)
    public = getattr(state.get("settings"), "public_url", None)
    if not public:
        return [own]
    query = request.scope.get("query_string", b"").decode("latin-1")
    called = f"{public.rstrip('/')}/v1/webhooks/{source}" + (f"?{query}" if query else "")
    return [called, own]


def _apply(state: Any, connectors: Mapping[str, Connector]) -> None:
    """Apply pending deliveries; then let cached LLM summaries of changed profiles refresh,
    and delete applied deliveries past their retention (at most once an hour)."""
    if apply_pending(state.store, connectors, state.ingest_context):
        refresher = state.get("summary_refresher")
        if refresher is not None:
            refresher.wake()
    pruner: InboxPruner | None = state.get("inbox_pruner")
    if pruner is not None:
        pruner.maybe_purge(time.time())


def drain_inbox(store: Any, connectors: Mapping[str, Connector], ctx: IngestContext) -> None:
    """Apply what a previous process left behind: deliveries and queued snapshots (at startup)."""
    apply_pending(store, connectors, ctx, limit=10_000)
    drain_snapshots(store, ctx)
