"""A 404 that is not Zendesk's own ``RecordNotFound`` (a proxy's page, a gateway, a wrong base
URL) deletes nothing: the webhook delivery stays pending and the stored user and ticket stay
live. Zendesk's own 404 still records the deletion."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from context_service.errors import RetriableError
from context_service.snapshot.links import DashboardLinks
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from context_service.wiring import default_mappers
from tests.integrations.zendesk.fake import FakeZendesk

_PROXY_PAGE = httpx.Response(
    404,
    text="<html><body>404 Not Found (nginx)</body></html>",
    headers={"content-type": "text/html"},
)


def _answering(fake: FakeZendesk, not_found: httpx.Response) -> httpx.Client:
    """A client on ``fake`` whose single-object and comment GETs answer ``not_found``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/v2/incremental/"):
            return fake.handler(request)
        return not_found

    return httpx.Client(transport=httpx.MockTransport(handler))


def _deleted(store: Store) -> dict[tuple[str, str], int]:
    rows = store.conn.execute(
        "SELECT kind, external_id, deleted FROM records "
        "WHERE source = 'zendesk' AND kind IN ('user', 'ticket')"
    ).fetchall()
    return {(kind, external_id): deleted for kind, external_id, deleted in rows}


def _synced(tmp_path: Path) -> tuple[FakeZendesk, Store, IngestContext]:
    store = Store(tmp_path / "zd.db")
    ctx = IngestContext(mappers=default_mappers(), links=DashboardLinks())
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=2)
    fake.clock += 120
    run_sync(store, fake.connector(), ctx)
    return fake, store, ctx


def _deliver(fake: FakeZendesk, store: Store, client: httpx.Client, ctx: IngestContext) -> None:
    connector = fake.connector(client)
    user_id, ticket_id = next(iter(fake.users)), next(iter(fake.tickets))
    for event in (
        fake.event("user.name_changed", user_id),
        fake.event("ticket.comment_added", ticket_id),
    ):
        headers, raw = fake.signed(event)
        receive(
            store, connector, headers, raw, "https://ctx.example/v1/webhooks/zendesk", fake.now()
        )
    apply_pending(store, {"zendesk": connector}, ctx)


@pytest.mark.parametrize(
    "not_found",
    [
        _PROXY_PAGE,
        httpx.Response(404, text=""),
        httpx.Response(404, json={"error": "InvalidEndpoint", "description": "Not found"}),
    ],
    ids=["html page", "empty body", "invalid endpoint"],
)
def test_a_404_not_zendesks_deletes_nothing_and_the_delivery_waits(
    tmp_path: Path, not_found: httpx.Response
) -> None:
    fake, store, ctx = _synced(tmp_path)
    before = _deleted(store)
    assert len(before) == 4
    assert not any(before.values())

    _deliver(fake, store, _answering(fake, not_found), ctx)

    assert _deleted(store) == before
    statuses = {row[0] for row in store.conn.execute("SELECT status FROM webhook_inbox")}
    assert statuses == {"pending"}


def test_zendesks_own_record_not_found_is_a_deletion(tmp_path: Path) -> None:
    fake, store, ctx = _synced(tmp_path)
    gone = httpx.Response(404, json={"error": "RecordNotFound", "description": "Not found"})

    _deliver(fake, store, _answering(fake, gone), ctx)

    user_id, ticket_id = next(iter(fake.users)), next(iter(fake.tickets))
    deleted = _deleted(store)
    assert deleted[("user", str(user_id))] == 1
    assert deleted[("ticket", str(ticket_id))] == 1


def test_fetch_one_raises_a_retriable_error_naming_the_base_url(tmp_path: Path) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=1, tickets=0)
    connector = fake.connector(_answering(fake, _PROXY_PAGE))
    with pytest.raises(RetriableError, match="not Zendesk's RecordNotFound"):
        connector.fetch_one("user", str(next(iter(fake.users))))
