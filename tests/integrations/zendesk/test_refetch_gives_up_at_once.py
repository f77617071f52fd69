"""Zendesk: a refetch for a webhook delivery never waits in-line on a busy Zendesk.

Zendesk answers an account over its per-minute limit with 429 and a ``Retry-After`` of up to a
minute or more (sent lowercase, with a text body). A sync run waits for it; a delivery's refetch
does not (``REFETCH_POLICY``): the delivery stays pending, the inbox tries it again later, and
the deliveries behind it are applied meanwhile, instead of the applier sleeping five times 90 s.
"""

from __future__ import annotations

import httpx

from context_service.store import Store
from context_service.store import inbox as inbox_store
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from integrations._http import REFETCH_POLICY
from tests.integrations.contract import pages
from tests.integrations.zendesk.fake import FakeZendesk

URL = "https://context.example.com/v1/webhooks/zendesk"


def _two_deliveries(store: Store, ctx: IngestContext) -> FakeZendesk:
    """A synced account, and two ticket events received (35001's first), none applied."""
    fake = FakeZendesk()
    fake.populate(organizations=1, users=2, tickets=2)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    fake.clock += 60
    for ticket in (35001, 35002):
        headers, body = fake.signed(fake.event("ticket.status_changed", ticket))
        assert receive(store, fake.connector(), headers, body, URL, fake.now()).status == "accepted"
    fake.sleeps.clear()
    fake.requests.clear()
    return fake


def _statuses(store: Store) -> list[tuple[str, int]]:
    rows = store.conn.execute("SELECT status, attempts FROM webhook_inbox ORDER BY id").fetchall()
    return [(status, attempts) for status, attempts in rows]


def test_a_long_retry_after_leaves_the_delivery_pending_and_the_next_one_goes_on(
    store: Store, ctx: IngestContext
) -> None:
    fake = _two_deliveries(store, ctx)
    fake.inject(429, times=1, retry_after=90)  # the account limit, as Zendesk answers it
    assert apply_pending(store, {"zendesk": fake.connector()}, ctx, now=fake.now()) == 1
    assert fake.sleeps == []
    assert _statuses(store) == [("pending", 1), ("applied", 0)]
    [waiting] = inbox_store.pending(store.conn)
    assert waiting.error is not None
    assert "Retry-After" in waiting.error
    # not asked again before the 90 seconds the vendor asked for
    asked = len(fake.requests)
    assert apply_pending(store, {"zendesk": fake.connector()}, ctx, now=fake.now() + 10) == 0
    assert len(fake.requests) == asked
    # its next attempt, once due, meets a Retry-After of a few seconds: that one is waited
    fake.inject(429, times=1, retry_after=2)
    later = fake.now() + 90
    assert apply_pending(store, {"zendesk": fake.connector()}, ctx, now=later) == 1
    assert fake.sleeps == [2]


def test_a_rate_limited_account_costs_each_delivery_one_request_and_no_wait(
    store: Store, ctx: IngestContext
) -> None:
    fake = _two_deliveries(store, ctx)
    connector = fake.connector()
    fake.inject(429, times=2, retry_after=90)  # every request, while the limit lasts
    assert apply_pending(store, {"zendesk": connector}, ctx, now=fake.now()) == 0
    assert fake.sleeps == []
    assert [r.url.path for r in fake.requests] == [
        "/api/v2/tickets/35001.json",
        "/api/v2/tickets/35002.json",
    ]
    assert _statuses(store) == [("pending", 1), ("pending", 1)]
    # the same connector's sync still waits: it stops for good when it gives up
    fake.inject(429, times=2, retry_after=90)
    found = pages(connector, "users")
    assert sum(len(page.objects) for page in found) == 2
    assert fake.sleeps == [90, 90]


def test_a_vendor_answering_5xx_leaves_the_delivery_pending_after_one_short_retry(
    store: Store, ctx: IngestContext
) -> None:
    fake = _two_deliveries(store, ctx)
    fake.inject(503, times=2)
    assert apply_pending(store, {"zendesk": fake.connector()}, ctx, now=fake.now()) == 1
    assert len(fake.sleeps) == 1
    assert 0 < fake.sleeps[0] <= REFETCH_POLICY.max_delay
    assert _statuses(store) == [("pending", 1), ("applied", 0)]


def test_the_refetch_policy_can_be_chosen(store: Store, ctx: IngestContext) -> None:
    fake = _two_deliveries(store, ctx)
    fake.inject(429, times=1, retry_after=90)
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))
    patient = fake.connector(client, refetch_policy=fake.connector().http.policy)
    assert apply_pending(store, {"zendesk": patient}, ctx, now=fake.now()) == 2
    assert fake.sleeps == [90]
