"""ShopifyConnector sync against FakeShopify (httpx.MockTransport): paging, cursors, faults."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest

from context_service.errors import ConfigurationError, FatalError, RetriableError
from context_service.models import Order
from context_service.store import Store
from context_service.sync import IngestContext, run_sync
from context_service.sync.status import sync_status
from integrations._connector import Page, Stream
from integrations._http import RetryPolicy
from integrations.shopify import ShopifyConnector, map_record
from integrations.shopify.connector import MAX_ORDERS_FIRST
from tests.integrations.shopify.fake import (
    BASE_URL,
    START,
    TOKEN,
    FakeShopify,
    access_denied,
    iso,
)

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


def stream(connector: ShopifyConnector, name: str) -> Stream:
    (found,) = [s for s in connector.streams() if s.name == name]
    return found


def run(connector: ShopifyConnector, name: str, cursor: str | None = None) -> list[Page]:
    return list(stream(connector, name).pages(cursor))


def ids(pages: list[Page]) -> list[int]:
    return [obj.payload["id"] for page in pages for obj in page.objects]


def iso_at(minute: int) -> str:
    return iso(START + timedelta(minutes=minute))


def cursor_of(page: Page) -> dict[str, Any]:
    assert page.cursor is not None
    loaded: dict[str, Any] = json.loads(page.cursor)
    return loaded


# --- paging --------------------------------------------------------------------------------------


def test_streams_are_customers_then_orders(fake: FakeShopify) -> None:
    connector = fake.connector()
    assert connector.source == "shopify"
    assert [s.name for s in connector.streams()] == ["customers", "orders"]


def test_pages_to_the_end_in_updated_order(fake: FakeShopify) -> None:
    created = fake.add_customers(25)
    pages = run(fake.connector(page_size=10), "customers")
    assert [len(page.objects) for page in pages] == [10, 10, 5]
    assert ids(pages) == created
    assert {obj.kind for page in pages for obj in page.objects} == {"customer"}
    last_updated = fake.customers[created[-1]]["updatedAt"]
    assert cursor_of(pages[-1]) == {"since": last_updated, "after": None, "whole": True}
    assert all(cursor_of(page)["after"] for page in pages[:-1])


def test_requests_are_graphql_posts_with_the_token(fake: FakeShopify) -> None:
    fake.add_customers(3)
    run(fake.connector(page_size=2), "customers")
    first, _second = fake.requests
    assert first.method == "POST"
    assert str(first.url) == f"{BASE_URL}/admin/api/2026-07/graphql.json"
    assert first.headers["X-Shopify-Access-Token"] == TOKEN
    body, next_body = fake.bodies()
    assert "sortKey: UPDATED_AT" in body["query"]
    assert "customers(" in body["query"]
    assert body["variables"] == {"first": 2, "after": None, "query": None}
    assert next_body["variables"]["after"] is not None


def test_orders_page_is_capped_by_query_cost(fake: FakeShopify) -> None:
    fake.add_customers(2)
    created = fake.add_orders(MAX_ORDERS_FIRST + 3)
    pages = run(fake.connector(page_size=100), "orders")
    assert [len(page.objects) for page in pages] == [MAX_ORDERS_FIRST, 3]
    assert ids(pages) == created
    assert fake.bodies()[0]["variables"]["first"] == MAX_ORDERS_FIRST


def test_empty_shop_gives_one_empty_page(fake: FakeShopify) -> None:
    (page,) = run(fake.connector(), "customers")
    assert page.objects == []
    assert cursor_of(page) == {"since": None, "after": None, "whole": True}


def test_every_synced_object_maps(fake: FakeShopify) -> None:
    fake.add_customers(12)
    fake.add_orders(12)
    connector = fake.connector(page_size=5)
    customers, orders = run(connector, "customers"), run(connector, "orders")
    for page in customers + orders:
        for obj in page.objects:
            mapped = map_record(obj.kind, obj.payload)
            assert mapped.key.external_id == str(obj.payload["id"])
            assert mapped.updated_at is not None
            assert mapped.updated_at.endswith("Z")
    activities = [map_record("order", o.payload).activity for p in orders for o in p.objects]
    statuses = {a.financial_status for a in activities if isinstance(a, Order)}
    assert statuses == {"paid", "partially_refunded"}
    refunded = [a for a in activities if isinstance(a, Order) and a.refunds]
    assert refunded
    assert all(r.amount == "49.50" for a in refunded for r in a.refunds)
    shipped = [a for a in activities if isinstance(a, Order) and a.fulfillments]
    assert shipped
    assert all(a.fulfillment_status == "fulfilled" for a in shipped)
    assert all(f.tracking_numbers for a in shipped for f in a.fulfillments)


# --- cursors -------------------------------------------------------------------------------------


def test_resume_after_page_n_yields_the_rest_without_duplicates(fake: FakeShopify) -> None:
    created = fake.add_customers(23)
    pages = stream(fake.connector(page_size=5), "customers").pages(None)
    seen = []
    for _ in range(2):  # the run commits two pages, then dies
        page = next(pages)
        seen += [obj.payload["id"] for obj in page.objects]
        persisted = page.cursor
    del pages  # killed: the third page is never committed
    rest = run(fake.connector(page_size=5), "customers", persisted)
    assert seen + ids(rest) == created
    assert len(set(seen + ids(rest))) == len(created)


def test_resume_picks_up_records_updated_while_the_run_was_down(fake: FakeShopify) -> None:
    created = fake.add_customers(10)
    first = next(iter(stream(fake.connector(page_size=4), "customers").pages(None)))
    fake.touch("customer", [created[1]], "2026-02-01T00:00:00Z")  # already seen, changed since
    rest = ids(run(fake.connector(page_size=4), "customers", first.cursor))
    assert rest == [*created[4:], created[1]]


def test_incremental_run_returns_updated_records_and_the_boundary(fake: FakeShopify) -> None:
    created = fake.add_customers(20)
    full = run(fake.connector(page_size=7), "customers")
    since = cursor_of(full[-1])["since"]
    fake.touch("customers", [created[3], created[8]], "2026-03-01T12:00:00Z")
    later = run(fake.connector(page_size=7), "customers", full[-1].cursor)
    assert ids(later) == [created[-1], created[3], created[8]]  # boundary record first
    assert fake.bodies()[-1]["variables"]["query"] == f"updated_at:>='{since}'"
    assert cursor_of(later[-1]) == {"since": "2026-03-01T12:00:00Z", "after": None, "whole": True}


def test_second_run_without_changes_sees_only_the_boundary(fake: FakeShopify) -> None:
    created = fake.add_customers(6)
    full = run(fake.connector(page_size=4), "customers")
    again = run(fake.connector(page_size=4), "customers", full[-1].cursor)
    assert ids(again) == [created[-1]]
    assert again[-1].cursor == full[-1].cursor


def test_cursor_since_never_goes_back(fake: FakeShopify) -> None:
    fake.add_customers(9)
    pages = run(fake.connector(page_size=2), "customers")
    sinces = [cursor_of(page)["since"] for page in pages]
    assert sinces == sorted(sinces)


def test_unreadable_cursor_is_fatal(fake: FakeShopify) -> None:
    with pytest.raises(FatalError, match="unreadable cursor"):
        run(fake.connector(), "customers", "not json")


# --- rate limits and faults ----------------------------------------------------------------------


def test_429_retry_after_is_honoured(fake: FakeShopify) -> None:
    fake.add_customers(3)
    fake.inject(429, retry_after=7)
    assert len(ids(run(fake.connector(), "customers"))) == 3
    assert fake.sleeps == [7.0]
    assert len(fake.requests) == 2


def test_throttled_200_is_retried(fake: FakeShopify) -> None:
    fake.add_customers(3)
    fake.inject("THROTTLED", times=2)
    assert len(ids(run(fake.connector(), "customers"))) == 3
    assert len(fake.requests) == 3
    assert len(fake.sleeps) == 2


def test_an_empty_cost_bucket_is_throttled_then_retried(fake: FakeShopify) -> None:
    fake.add_customers(3)
    fake.available = 0
    assert len(ids(run(fake.connector(), "customers"))) == 3
    assert len(fake.requests) >= 2
    assert fake.available >= 0


def test_a_throttled_query_waits_as_long_as_its_cost_bucket_needs() -> None:
    """A 1,000-point bucket refilling 50 points a second, empty: an orders page (802 points)
    is THROTTLED, and the connector waits the 16 s the bucket needs, not a fixed backoff that
    gives up first (0.5 + 1 + 2 + 4 + 8 s at most)."""
    fake = FakeShopify(maximum_available=1000, restore_rate=50)
    fake.add_customers(2)
    created = fake.add_orders(MAX_ORDERS_FIRST)
    fake.available = 0
    assert ids(run(fake.connector(), "orders")) == created
    assert fake.sleeps[0] == pytest.approx(802 / 50)
    assert len(fake.requests) == 2


def test_low_bucket_makes_the_connector_wait_before_the_next_page() -> None:
    fake = FakeShopify(maximum_available=100, restore_rate=50)
    fake.add_customers(30)
    pages = run(fake.connector(page_size=10), "customers")  # each page costs 32 points
    assert len(pages) == 3
    assert fake.sleeps == [pytest.approx((32 - 4) / 50)]  # 100 -> 68 -> 36 -> 4: wait to 32
    assert len(fake.requests) == 3  # never throttled by the server


def test_500_then_success(fake: FakeShopify) -> None:
    fake.add_customers(2)
    fake.inject(500)
    assert len(ids(run(fake.connector(), "customers"))) == 2
    assert len(fake.requests) == 2
    assert len(fake.sleeps) == 1


def test_timeout_then_success(fake: FakeShopify) -> None:
    fake.add_customers(2)
    fake.inject("timeout")
    assert len(ids(run(fake.connector(), "customers"))) == 2
    assert len(fake.requests) == 2


def test_retries_exhausted_is_retriable(fake: FakeShopify) -> None:
    fake.add_customers(2)
    fake.inject(503, times=10)
    with pytest.raises(RetriableError, match="gave up after 3 attempts"):
        run(fake.connector(policy=FAST), "customers")
    assert len(fake.requests) == 3


def test_throttled_for_too_long_is_retriable(fake: FakeShopify) -> None:
    fake.inject("THROTTLED", times=10)
    with pytest.raises(RetriableError):
        run(fake.connector(policy=FAST), "customers")


def test_401_is_fatal_and_the_error_hides_the_token(fake: FakeShopify) -> None:
    fake.inject(401)  # the fake echoes the presented token in the body
    with pytest.raises(FatalError) as caught:
        run(fake.connector(), "customers")
    assert caught.value.extra["status"] == 401
    assert TOKEN not in str(caught.value)
    assert "***" in str(caught.value)
    assert len(fake.requests) == 1


def test_wrong_token_is_fatal(fake: FakeShopify) -> None:
    with pytest.raises(FatalError, match="Invalid API key"):
        run(fake.connector(access_token="shpat_wrong"), "customers")


def test_no_token_configured_is_fatal_without_a_request(fake: FakeShopify) -> None:
    connector = fake.connector(access_token=None)
    assert [s.name for s in connector.streams()] == ["customers", "orders"]
    with pytest.raises(FatalError, match="no access token"):
        run(connector, "customers")
    assert fake.requests == []


def test_graphql_errors_are_fatal(fake: FakeShopify) -> None:
    fake.inject("graphql_error")
    with pytest.raises(FatalError, match="favouriteColour"):
        run(fake.connector(), "customers")
    assert len(fake.requests) == 1


def test_graphql_error_messages_are_redacted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"errors": [{"message": f"bad token {TOKEN}"}]})

    connector = FakeShopify().connector(httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(FatalError) as caught:
        run(connector, "customers")
    assert TOKEN not in str(caught.value)


# --- partial answers: data beside field errors (Admin API "Status and error codes") -------------


def answering(body: dict[str, Any]) -> ShopifyConnector:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    return FakeShopify().connector(httpx.Client(transport=httpx.MockTransport(handler)))


def test_a_withheld_field_keeps_the_page_and_notes_it(fake: FakeShopify) -> None:
    fake.add_customers(5)
    fake.withheld = {("customers", "email")}
    pages = run(fake.connector(page_size=2), "customers")
    assert sorted(ids(pages)) == sorted(fake.customers)
    assert all(obj.payload["email"] is None for page in pages for obj in page.objects)
    assert all(obj.payload["first_name"] for page in pages for obj in page.objects)
    for page in pages:
        assert page.note is not None
        assert "email" in page.note
        assert "ACCESS_DENIED" in page.note
    last = max(c["updatedAt"] for c in fake.customers.values())
    assert cursor_of(pages[-1]) == {"since": last, "after": None, "whole": True}


def test_an_order_whose_customer_is_withheld_is_skipped_and_the_cursor_moves_on(
    fake: FakeShopify,
) -> None:
    fake.add_customers(2)
    fake.add_orders(3)
    fake.withheld = {("orders", "customer")}
    pages = run(fake.connector(page_size=2), "orders")
    assert ids(pages) == []  # not stored as guest orders
    assert all(p.note and "customer" in p.note and "skipped" in p.note for p in pages)
    last = max(o["updatedAt"] for o in fake.orders.values())
    assert cursor_of(pages[-1]) == {"since": last, "after": None}


def test_a_null_node_is_skipped_and_its_neighbours_kept() -> None:
    nodes: list[Any] = [
        {"id": "gid://shopify/Customer/1", "email": "a@example.com", "updatedAt": iso_at(1)},
        None,
        {"id": "gid://shopify/Customer/3", "email": "c@example.com", "updatedAt": iso_at(3)},
    ]
    connection = {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": "c3"}}
    body = {
        "errors": [access_denied(["customers", "nodes", 1], "Customer")],
        "data": {"customers": connection},
    }
    (page,) = run(answering(body), "customers")
    assert ids([page]) == [1, 3]
    assert page.note is not None
    assert "skipped" in page.note


@pytest.mark.parametrize(
    "body",
    [
        {"errors": [access_denied(["customers"], "customers")], "data": None},
        {"errors": [access_denied(["customers"], "customers")], "data": {"customers": None}},
        {
            "errors": [
                {"message": "Internal error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
            ],
            "data": {"customers": {"nodes": [], "pageInfo": {"hasNextPage": False}}},
        },
        {
            "errors": [
                {
                    "message": "Internal error.",
                    "path": ["customers", "nodes", 0, "email"],
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                }
            ],
            "data": {"customers": {"nodes": [], "pageInfo": {"hasNextPage": False}}},
        },
        {
            "errors": [access_denied(["customers", "pageInfo", "endCursor"], "endCursor")],
            "data": {"customers": {"nodes": [], "pageInfo": {"hasNextPage": True}}},
        },
    ],
    ids=["no-data", "null-connection", "no-path", "other-code", "outside-the-nodes"],
)
def test_errors_that_leave_nothing_usable_stay_fatal(body: dict[str, Any]) -> None:
    with pytest.raises(FatalError):
        run(answering(body), "customers")


def test_a_run_with_a_withheld_field_succeeds_and_reports_it(
    fake: FakeShopify, store: Store, ctx: IngestContext
) -> None:
    fake.add_customers(3)
    fake.withheld = {("customers", "email")}
    outcome = run_sync(store, fake.connector(page_size=2), ctx)
    assert outcome.status == "ok", outcome.error
    assert outcome.report.seen == 3
    (note,) = [n for n in outcome.notes if "customers" in n]
    assert "email" in note
    assert "ACCESS_DENIED" in note
    run_note = sync_status(store, ["shopify"])["shopify"]["last_run"]["note"]
    assert note in run_note


def test_fetch_one_keeps_a_node_without_a_withheld_field(fake: FakeShopify) -> None:
    (cid,) = fake.add_customers(1)
    fake.withheld = {("customer", "email")}
    found = fake.connector().fetch_one("customer", str(cid))
    assert found is not None
    assert found.payload["id"] == cid
    assert found.payload["email"] is None


def test_fetch_one_refuses_an_order_whose_customer_is_withheld(fake: FakeShopify) -> None:
    fake.add_customers(1)
    (oid,) = fake.add_orders(1)
    fake.withheld = {("order", "customer")}
    with pytest.raises(FatalError, match="customer"):
        fake.connector().fetch_one("order", str(oid))


def test_has_next_page_without_end_cursor_is_fatal() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        connection = {"nodes": [], "pageInfo": {"hasNextPage": True, "endCursor": None}}
        return httpx.Response(200, json={"data": {"customers": connection}})

    connector = FakeShopify().connector(httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(FatalError, match="without an endCursor"):
        run(connector, "customers")


def test_repeated_end_cursor_stops_the_run(fake: FakeShopify) -> None:
    fake.add_customers(5)
    fake.stuck_cursor = True
    with pytest.raises(FatalError, match="repeated"):
        run(fake.connector(page_size=2), "customers")
    assert len(fake.requests) == 2


def test_an_end_cursor_equal_to_the_resumed_one_stops_the_run(fake: FakeShopify) -> None:
    fake.add_customers(5)
    fake.stuck_cursor = True
    resumed = json.dumps({"since": None, "after": "stuck-cursor"})
    with pytest.raises(FatalError, match="repeated"):
        run(fake.connector(page_size=2), "customers", resumed)
    assert len(fake.requests) == 1


def test_the_token_never_reaches_logs_or_errors(
    fake: FakeShopify, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.add_customers(4)
    for fault in (429, 500, "timeout", "THROTTLED"):
        fake.inject(fault, retry_after=1)
    run(fake.connector(page_size=2), "customers")
    fake.inject(401)
    with pytest.raises(FatalError) as caught:
        run(fake.connector(), "customers")
    assert caplog.records, "retries should have been logged"
    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(record.args) for record in caplog.records)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value.extra)


# --- fetch_one and configuration ----------------------------------------------------------------


def test_fetch_one_by_id(fake: FakeShopify) -> None:
    (customer,) = fake.add_customers(1)
    (order,) = fake.add_orders(1)
    connector = fake.connector()
    got = connector.fetch_one("customer", str(customer))
    assert got is not None
    assert got.kind == "customer"
    assert got.payload["id"] == customer
    assert got.payload["email"] == fake.customers[customer]["email"]
    assert fake.bodies()[-1]["variables"] == {"id": f"gid://shopify/Customer/{customer}"}
    got_order = connector.fetch_one("order", f"gid://shopify/Order/{order}")
    assert got_order is not None
    assert got_order.payload["customer"] == {"id": customer}
    assert map_record("order", got_order.payload).key.external_id == str(order)


def test_fetch_one_missing_is_none(fake: FakeShopify) -> None:
    assert fake.connector().fetch_one("order", "42") is None


def test_fetch_one_of_an_unknown_kind_is_fatal(fake: FakeShopify) -> None:
    with pytest.raises(FatalError, match="cannot fetch kind 'product'"):
        fake.connector().fetch_one("product", "1")


@pytest.mark.parametrize(
    ("shop", "base_url", "expected"),
    [
        ("acme", None, "https://acme.myshopify.com"),
        ("acme.myshopify.com", None, "https://acme.myshopify.com"),
        ("https://acme.myshopify.com/", None, "https://acme.myshopify.com"),
        ("acme", "http://127.0.0.1:9999/", "http://127.0.0.1:9999"),
    ],
)
def test_endpoint(shop: str, base_url: str | None, expected: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        connection = {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
        return httpx.Response(200, json={"data": {"customers": connection}})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    connector = ShopifyConnector(
        client,
        shop=shop,
        access_token="t",
        webhook_secret=None,
        base_url=base_url,
        api_version="2025-10",
    )
    run(connector, "customers")
    assert seen == [f"{expected}/admin/api/2025-10/graphql.json"]


def test_a_shop_is_required() -> None:
    with pytest.raises(ConfigurationError, match="no shop configured"):
        ShopifyConnector(httpx.Client(), shop=" ", access_token="t", webhook_secret=None)


def test_fake_timestamps_are_utc_seconds() -> None:
    fake = FakeShopify()
    (cid,) = fake.add_customers(1)
    assert fake.customers[cid]["updatedAt"].endswith("Z")
    assert iso(fake._clock) == fake.customers[cid]["updatedAt"]
