"""``POST /v1/webhooks/{source}``: signed vendor deliveries, verified before anything else.

Authenticated by the vendor's signature over the raw body, not by an API key (vendors cannot
send ours). A delivery that fails verification gets 401 and leaves no trace; an authentic one
is stored in the durable inbox, acknowledged at once and applied right after the response.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath

from context_service.errors import ProfileNotFound
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
        raise ProfileNotFound(f"no webhook source {source!r} is configured on this server")
    body = await request.body()
    receipt = receive(state.store, connector, request.headers, body, str(request.url), time.time())
    task = BackgroundTask(_apply, state, connectors)
    content = {"status": receipt.status, "topic": receipt.topic}
    return Response(content, background=task)


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
