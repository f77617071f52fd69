"""Shopify connector: old-format cursors resumed late, and the version-drift warning of a
webhook delivery."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive
from integrations._connector import Page, Stream
from integrations.shopify import ShopifyConnector
from tests.integrations.shopify.fake import START, FakeShopify, iso

URL = "https://context.example/v1/webhooks/shopify"


def stream(connector: ShopifyConnector, name: str) -> Stream:
    (found,) = [s for s in connector.streams() if s.name == name]
    return found


def updates(pages: list[Page]) -> set[tuple[int, str]]:
    """(id, updated_at) of every object delivered: a version of a record that was seen."""
    return {(o.payload["id"], o.payload["updated_at"]) for p in pages for o in p.objects}


def clock_at(moment_iso: str, later_s: float) -> Callable[[], float]:
    """A clock standing ``later_s`` seconds after ``moment_iso``."""
    moment = datetime.fromisoformat(moment_iso.replace("Z", "+00:00"))
    return lambda: moment.timestamp() + later_s


def old_format(cursor: str | None) -> str:
    """The cursor as the code before the live-edge fix wrote it: ``since`` and ``after`` only,
    whether or not the page ended at the live edge."""
    state = json.loads(cursor or "{}")
    return json.dumps({"since": state["since"], "after": state["after"]})


# --- 1. an old-format cursor resumed more than LIVE_EDGE_SECONDS later ---------------------------


def test_an_old_cursor_resumed_late_rereads_its_second() -> None:
    """The old code committed a position even at the live edge: a record updated in that same
    second with a smaller id sorts behind the position, whenever the run resumes."""
    fake = FakeShopify()
    created = fake.add_customers(6)
    far_later = clock_at(fake.customers[created[-1]]["updatedAt"], later_s=86_400)
    first = next(
        iter(stream(fake.connector(page_size=2, clock=far_later), "customers").pages(None))
    )
    boundary = fake.customers[created[1]]["updatedAt"]  # the page's last second
    fake.touch("customer", [created[0]], boundary)  # smaller id, same second, after the read
    fake.touch("customer", [created[2]], iso(START + timedelta(minutes=6, seconds=30)))
    resumed = list(
        stream(fake.connector(page_size=2, clock=far_later), "customers").pages(
            old_format(first.cursor)
        )
    )
    assert (created[0], boundary) in updates(resumed)


def test_an_old_cursor_is_reread_once_then_resumed_by_position() -> None:
    """After the one re-read, the cursors committed are the new kind: resuming one of them
    far later goes on after its position, without reading its second again."""
    fake = FakeShopify()
    created = fake.add_customers(6)
    far_later = clock_at(fake.customers[created[-1]]["updatedAt"], later_s=86_400)
    first = next(
        iter(stream(fake.connector(page_size=2, clock=far_later), "customers").pages(None))
    )
    reread = stream(fake.connector(page_size=2, clock=far_later), "customers")
    second = next(iter(reread.pages(old_format(first.cursor))))
    assert [o.payload["id"] for o in second.objects] == created[1:3]  # from its second on
    later = stream(fake.connector(page_size=2, clock=far_later), "customers")
    rest = list(later.pages(second.cursor))
    assert [o.payload["id"] for p in rest for o in p.objects] == created[3:]


# --- 2. the version-drift warning of a webhook, once per delivery ---------------------------------


def test_a_delivery_in_another_api_version_is_warned_about_once(
    store: Store, ctx: IngestContext, caplog: pytest.LogCaptureFixture
) -> None:
    """Received (``read_webhook``) and then applied (``parse_webhook``): one warning."""
    signer = FakeShopify(api_version="2025-10")
    fake = FakeShopify()
    (customer_id,) = fake.add_customers(1)
    connector = fake.connector()
    now = datetime(2026, 1, 6, 12, 0, tzinfo=UTC).timestamp()
    body = {"id": customer_id, "email": "ada@example.com", "updated_at": "2026-01-05T09:00:00Z"}
    headers, raw = signer.signed("customers/update", body, triggered_at=now - 30)
    with caplog.at_level(logging.WARNING, logger="integrations.shopify"):
        assert receive(store, connector, headers, raw, URL, now).status == "accepted"
        assert apply_pending(store, {"shopify": connector}, ctx, now=now) == 1
    drift = [r for r in caplog.records if "2025-10" in r.getMessage()]
    assert len(drift) == 1


def test_each_delivery_in_another_api_version_is_still_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signer = FakeShopify(api_version="2025-10")
    connector = FakeShopify().connector()
    with caplog.at_level(logging.WARNING, logger="integrations.shopify"):
        for n in range(2):
            body = {"id": 7000000001 + n, "updated_at": "2026-01-05T09:00:00Z"}
            headers, raw = signer.signed("customers/update", body)
            connector.read_webhook(headers, raw)
            connector.parse_webhook(headers, raw)
    assert len([r for r in caplog.records if "2025-10" in r.getMessage()]) == 2
