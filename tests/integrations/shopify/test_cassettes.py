"""ShopifyConnector against hand-built vcrpy cassettes of the GraphQL Admin API.

The cassettes' node values are Shopify's REST reference examples re-expressed in the GraphQL
shape, so syncing them must map to exactly what the REST examples map to: one mapper for both.
vcrpy patches httpx's transports; these tests use a plain ``httpx.Client`` and no MockTransport.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr

from context_service.models import Order
from integrations.shopify import ShopifyConnector, map_record
from tests.integrations.refdata import shopify_case

CASSETTES = Path(__file__).parent / "cassettes"
TOKEN = "shpat_test_redacted"
_OPERATION = re.compile(r"^\s*query\s+(\w+)")


def _graphql(recorded: Any, sent: Any) -> None:
    """vcrpy matcher: same GraphQL operation name and the same variables."""
    a, b = json.loads(recorded.body), json.loads(sent.body)
    assert _OPERATION.findall(a["query"]) == _OPERATION.findall(b["query"])
    assert a["variables"] == b["variables"]


def _vcr() -> vcr.VCR:
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="none",
        filter_headers=["X-Shopify-Access-Token"],
        match_on=["method", "uri", "graphql"],
    )
    recorder.register_matcher("graphql", _graphql)
    return recorder


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as plain:
        yield plain


def connector(client: httpx.Client, page_size: int) -> ShopifyConnector:
    return ShopifyConnector(
        client,
        shop="context-demo",
        access_token=TOKEN,
        webhook_secret=None,
        page_size=page_size,
        sleep=lambda seconds: None,
    )


def rest_customers() -> list[dict[str, Any]]:
    """The refdata REST customers the customers cassette re-expresses, in its order."""
    picks = [("test_1", 1), ("test_1", 0), ("test_21", 0), ("test_2", 0)]
    return [copy.deepcopy(shopify_case("customer", t, "customer", index=i)) for t, i in picks]


def test_customers_two_pages_then_incremental(client: httpx.Client) -> None:
    expected = rest_customers()
    with _vcr().use_cassette("customers_two_pages.yaml") as cassette:
        (customers, _) = connector(client, page_size=2).streams()
        pages = list(customers.pages(None))
        again = list(customers.pages(pages[-1].cursor))
        assert cassette.all_played
    assert [len(page.objects) for page in pages] == [2, 2]
    synced = [obj for page in pages for obj in page.objects]
    assert [obj.payload["id"] for obj in synced] == [c["id"] for c in expected]
    for obj, rest in zip(synced, expected, strict=True):
        assert map_record(obj.kind, obj.payload) == map_record("customer", rest)
    assert json.loads(pages[-1].cursor or "") == {
        "since": "2025-04-02T16:28:14Z",
        "after": None,
        "whole": True,
    }
    assert [obj.payload["id"] for page in again for obj in page.objects] == [1073339464]


def test_synced_customer_has_the_refdata_values(client: httpx.Client) -> None:
    with _vcr().use_cassette("customers_two_pages.yaml"):
        (customers, _) = connector(client, page_size=2).streams()
        first = next(iter(customers.pages(None)))
    bob = map_record("customer", first.objects[0].payload)
    assert bob.key.external_id == "207119551"
    assert bob.updated_at == "2025-04-02T16:26:48Z"
    person = bob.person
    assert person is not None
    assert person.emails == ["bob.norman@mail.example.com"]
    assert (person.first_name, person.last_name) == ("Bob", "Norman")
    assert person.attributes == {"tags": "Léon, Noël", "state": "disabled"}
    assert [a.city for a in person.addresses] == ["Louisville"]


def test_orders_and_fetch_one(client: httpx.Client) -> None:
    rest = copy.deepcopy(shopify_case("order", "test_1", "order"))
    with _vcr().use_cassette("orders_and_fetch_one.yaml") as cassette:
        shop = connector(client, page_size=5)
        (_, orders) = shop.streams()
        (page,) = list(orders.pages(None))
        fetched = shop.fetch_one("order", "450789469")
        missing = shop.fetch_one("customer", "999")
        assert cassette.all_played
    (synced,) = page.objects
    assert fetched is not None
    assert fetched.payload == synced.payload
    assert missing is None
    mapped = map_record("order", synced.payload)
    assert mapped == map_record("order", rest)
    order = mapped.activity
    assert isinstance(order, Order)
    assert (order.title, order.number, order.amount) == ("#1001", "1001", "598.94")
    assert order.financial_status == "partially_refunded"
    assert order.fulfillment_status == "unfulfilled"
    assert [(r.external_id, r.amount, r.currency) for r in order.refunds] == [
        ("509562969", "209.00", "USD")
    ]
    assert order.fulfillments[0].tracking_numbers == ["1Z1234512345123456"]


@pytest.mark.parametrize("name", ["customers_two_pages.yaml", "orders_and_fetch_one.yaml"])
def test_cassettes_hold_no_secrets(name: str) -> None:
    text = (CASSETTES / name).read_text(encoding="utf-8")
    assert "X-Shopify-Access-Token" not in text.split("interactions:", 1)[1]
    assert re.findall(r"shp(?:at|ss|ca|pa)_\w+", text) == [TOKEN]  # only in the header comment
    assert "node values come from the refdata REST examples" in text
