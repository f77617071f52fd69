"""A vendor page whose JSON escapes half of a surrogate pair alone (``"Cus\\ud800tomer"``):
msgspec refuses such a string, and the connectors turned the refusal into a fatal "malformed
JSON" error, so one customer's broken name stopped every later sync of the source at that page
(session 31). The page is read with each lone half as U+FFFD, and the sync goes on; a body
that is not JSON is still an error."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import msgspec
import pytest

from context_service.store import Store
from context_service.sync import IngestContext, run_sync
from integrations._http import vendor_json
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.shopify.fake import FakeShopify
from tests.integrations.stripe.fake import FakeStripe
from tests.integrations.zendesk.fake import FakeZendesk

Handler = Callable[[httpx.Request], httpx.Response]


def broken(handler: Handler, needle: str) -> httpx.Client:
    """A client on ``handler`` whose answers spell ``needle`` with a lone surrogate escape
    after its first letter (``C\\ud800ustomer 1``)."""
    raw = needle.encode()
    spoiled = raw[:1] + b"\\ud800" + raw[1:]

    def spoil(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        if raw not in response.content:
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(
            response.status_code, content=response.content.replace(raw, spoiled), headers=headers
        )

    return httpx.Client(transport=httpx.MockTransport(spoil))


def stored_with(store: Store, text: str) -> int:
    """How many stored, mapped records hold ``text`` in their payload."""
    query = "SELECT count(*) FROM records WHERE error IS NULL AND instr(payload, ?) > 0"
    return int(store.conn.execute(query, (text,)).fetchone()[0])


def test_a_stripe_page_with_a_lone_surrogate_syncs(store: Store, ctx: IngestContext) -> None:
    fake = FakeStripe()
    fake.add_customers(3)
    outcome = run_sync(store, fake.connector(client=broken(fake.handler, "Customer 2")), ctx)
    assert outcome.status == "ok", outcome.error
    assert stored_with(store, "C\ufffdustomer 2") == 1
    assert any(r.url.path == "/v1/invoices" for r in fake.requests)  # later streams ran


def test_a_zendesk_page_with_a_lone_surrogate_syncs(store: Store, ctx: IngestContext) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=3, tickets=2)
    name = next(iter(fake.users.values()))["name"]
    outcome = run_sync(store, fake.connector(client=broken(fake.handler, name)), ctx)
    assert outcome.status == "ok", outcome.error
    assert stored_with(store, name[:1] + "\ufffd" + name[1:]) >= 1


def test_a_hubspot_page_with_a_lone_surrogate_syncs(store: Store, ctx: IngestContext) -> None:
    fake = FakeHubSpot()
    for i in range(3):
        fake.add("contacts", 1_700_000_000_000 + i, email=f"c{i}@example.com", firstname=f"Cee{i}")
    outcome = run_sync(store, fake.connector(client=broken(fake.handler, "Cee1")), ctx)
    assert outcome.status == "ok", outcome.error
    assert stored_with(store, "C\ufffdee1") == 1


def test_a_shopify_page_with_a_lone_surrogate_syncs(store: Store, ctx: IngestContext) -> None:
    fake = FakeShopify()
    ids = fake.add_customers(3)
    name = fake.customers[ids[1]]["firstName"]
    outcome = run_sync(store, fake.connector(client=broken(fake.handler, name)), ctx)
    assert outcome.status == "ok", outcome.error
    assert stored_with(store, name[:1] + "\ufffd" + name[1:]) >= 1


def test_a_valid_pair_is_kept_and_what_is_not_json_is_refused() -> None:
    assert vendor_json(b'{"a": "\\ud83d\\ude00 \\\\ud800"}') == {"a": "\U0001f600 \\ud800"}
    with pytest.raises(msgspec.DecodeError):
        vendor_json(b'{"a": "\\ud800"')
