"""Shopify connector: cursor ties at the live edge, the served API version,
and line items removed from an order."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from context_service.errors import FatalError
from context_service.models import Order
from integrations._connector import Page, Stream
from integrations.shopify import ShopifyConnector, map_order
from integrations.shopify.graphql import order_to_rest
from tests.integrations.refdata import shopify_case
from tests.integrations.shopify.fake import START, FakeShopify, iso


def stream(connector: ShopifyConnector, name: str) -> Stream:
    (found,) = [s for s in connector.streams() if s.name == name]
    return found


def updates(pages: list[Page]) -> set[tuple[int, str]]:
    """(id, updated_at) of every object delivered: a version of a record that was seen."""
    return {(o.payload["id"], o.payload["updated_at"]) for p in pages for o in p.objects}


def clock_at(moment_iso: str, later_s: float = 1.0) -> Callable[[], float]:
    """A clock standing ``later_s`` seconds after ``moment_iso`` (the data's live edge)."""
    moment = datetime.fromisoformat(moment_iso.replace("Z", "+00:00"))
    return lambda: moment.timestamp() + later_s


# --- 1. cursor ties: same second as the cursor, smaller id ----------------------------------------


def _live_shop() -> tuple[FakeShopify, list[int]]:
    fake = FakeShopify()
    return fake, fake.add_customers(6)


def test_resumed_run_keeps_a_record_updated_in_the_cursor_second_with_a_smaller_id() -> None:
    fake, created = _live_shop()
    clock = clock_at(fake.customers[created[-1]]["updatedAt"])
    first = next(iter(stream(fake.connector(page_size=2, clock=clock), "customers").pages(None)))
    boundary = fake.customers[created[1]]["updatedAt"]  # the last record committed
    # While the run is down, a record with a smaller id is updated in that same second, and
    # another one later (so the cursor would move past the boundary second).
    fake.touch("customer", [created[0]], boundary)
    fake.touch("customer", [created[2]], iso(START + timedelta(minutes=6, seconds=30)))
    resumed = list(
        stream(fake.connector(page_size=2, clock=clock), "customers").pages(first.cursor)
    )
    assert (created[0], boundary) in updates(resumed)


def test_record_updated_in_a_committed_page_second_during_the_run_is_not_lost() -> None:
    fake, created = _live_shop()
    clock = clock_at(fake.customers[created[-1]]["updatedAt"])
    pages = stream(fake.connector(page_size=2, clock=clock), "customers").pages(None)
    seen = [next(pages)]
    boundary = fake.customers[created[1]]["updatedAt"]
    fake.touch("customer", [created[0]], boundary)  # updated after page 1 was read
    fake.touch("customer", [created[2]], iso(START + timedelta(minutes=6, seconds=30)))
    seen += list(pages)
    following = list(
        stream(fake.connector(page_size=2, clock=clock), "customers").pages(seen[-1].cursor)
    )
    assert (created[0], boundary) in updates(seen + following)


def test_old_boundaries_still_resume_after_the_position_without_rereading() -> None:
    fake, created = _live_shop()
    far_later = clock_at(fake.customers[created[-1]]["updatedAt"], later_s=86_400)
    connector = fake.connector(page_size=2, clock=far_later)
    first = next(iter(stream(connector, "customers").pages(None)))
    rest = list(
        stream(fake.connector(page_size=2, clock=far_later), "customers").pages(first.cursor)
    )
    assert [o.payload["id"] for p in rest for o in p.objects] == created[2:]


# --- 2. the served API version --------------------------------------------------------------------


class _VersionedShop(FakeShopify):
    """A fake shop that answers with ``X-Shopify-API-Version: served``."""

    def __init__(self, served: str) -> None:
        super().__init__()
        self.served = served

    def handler(self, request: httpx.Request) -> httpx.Response:
        response = super().handler(request)
        response.headers["X-Shopify-API-Version"] = self.served
        return response


def test_a_served_version_other_than_the_requested_one_is_noted_on_the_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = _VersionedShop(served="2025-10")
    fake.add_customers(3)
    with caplog.at_level(logging.WARNING, logger="integrations.shopify"):
        pages = list(stream(fake.connector(page_size=2), "customers").pages(None))
    notes = [p.note or "" for p in pages]
    assert all("2025-10" in note and fake.api_version in note for note in notes)
    assert any("2025-10" in r.getMessage() for r in caplog.records)


def test_the_requested_version_served_adds_no_note() -> None:
    fake = _VersionedShop(served=FakeShopify().api_version)
    fake.add_customers(3)
    pages = list(stream(fake.connector(page_size=2), "customers").pages(None))
    assert [p.note for p in pages] == [None, None]


def test_a_webhook_in_another_api_version_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    signer = FakeShopify(api_version="2025-10")
    connector = FakeShopify().connector()
    body = {"id": 7000000001, "email": "ada@example.com", "updated_at": "2026-01-05T09:00:00Z"}
    headers, raw = signer.signed("customers/update", body)
    with caplog.at_level(logging.WARNING, logger="integrations.shopify"):
        delivery = connector.parse_webhook(headers, raw)
    assert delivery.objects  # still delivered
    assert any(
        "2025-10" in r.getMessage() and connector.api_version in r.getMessage()
        for r in caplog.records
    )


# --- bad answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page_info", ["hasNextPage", ["x"], 3])
def test_a_page_info_that_is_not_an_object_is_fatal(page_info: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        connection = {"nodes": [], "pageInfo": page_info}
        return httpx.Response(200, json={"data": {"customers": connection}})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(FatalError, match="pageInfo"):
        list(stream(FakeShopify().connector(client), "customers").pages(None))


# --- 3. line items removed from an order ---------------------------------------------------------


def _activity(payload: dict[str, Any]) -> Order:
    activity = map_order(payload).activity
    assert isinstance(activity, Order)
    return activity


def test_removed_line_items_of_the_reference_order_do_not_read_as_ordered() -> None:
    payload = shopify_case("order", "test_1", "order")
    lines = payload["line_items"]
    assert any(line["current_quantity"] < line["quantity"] for line in lines)  # the premise
    mapped = _activity(payload).line_items
    assert [item.quantity for item in mapped] == [line["current_quantity"] for line in lines]
    for line, item in zip(lines, mapped, strict=True):
        removed = item.ordered_quantity is not None and item.quantity == 0
        assert removed == (line["current_quantity"] == 0)
        assert item.title == line["name"]  # the title stays plain; the facts say "removed"


def test_line_items_name_their_variant() -> None:
    payload = shopify_case("order", "test_1", "order")
    titles = [item.title for item in _activity(payload).line_items]
    assert len(set(titles)) == len(payload["line_items"])  # green, red and black told apart


def test_synced_order_line_items_carry_the_current_quantity() -> None:
    node = {
        "id": "gid://shopify/Order/1",
        "updatedAt": "2026-01-05T09:00:00Z",
        "lineItems": {
            "nodes": [
                {"title": "Boot", "name": "Boot - 42", "quantity": 2, "currentQuantity": 0},
                {"title": "Sock", "name": "Sock - M", "quantity": 3, "currentQuantity": 1},
            ]
        },
    }
    items = _activity(order_to_rest(node)).line_items
    assert [item.quantity for item in items] == [0, 1]
    assert [item.ordered_quantity for item in items] == [2, 3]
    assert items[0].title == "Boot - 42"
