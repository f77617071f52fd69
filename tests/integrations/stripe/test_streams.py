"""Stripe streams against ``FakeStripe`` (MockTransport): paging, cursors, events, 30 days."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from context_service.errors import ConfigurationError, FatalError, MappingError
from integrations._connector import Page, VendorObject
from integrations.stripe import map_record
from integrations.stripe.connector import (
    EVENTS_MARGIN_SECONDS,
    EVENTS_SETTLE_SECONDS,
    WINDOW_NOTE,
)
from integrations.stripe.webhooks import LISTED_EVENT_TYPES
from tests.integrations.contract import ids, pages, run_all, stream
from tests.integrations.stripe.fake import START, FakeStripe

DAY = 86_400
BACKFILLS = ["customers", "subscriptions", "invoices", "charges", "disputes"]


@pytest.fixture
def fake() -> FakeStripe:
    stripe = FakeStripe()
    stripe.add_customers(7)
    return stripe


def test_streams_are_declared_in_dependency_order(fake: FakeStripe) -> None:
    assert [s.name for s in fake.connector().streams()] == [*BACKFILLS, "events"]


@pytest.mark.parametrize(("name", "kind"), [(n, n[:-1]) for n in BACKFILLS], ids=str)
def test_each_backfill_pages_to_the_end_newest_first(
    fake: FakeStripe, name: str, kind: str
) -> None:
    fake.advance(60)
    found = pages(fake.connector(page_size=2), name)
    expected = [o["id"] for o in reversed(fake.objects[kind])]
    assert ids(found) == expected
    assert all(len(page.objects) <= 2 for page in found)
    assert all(obj.kind == kind for page in found for obj in page.objects)
    assert {obj.observed_at for page in found for obj in page.objects} == {"2026-01-01T00:01:00Z"}
    for page in found[:-1]:
        assert json.loads(page.cursor or "") == {
            "starting_after": page.objects[-1].payload["id"],
            "created": page.objects[-1].payload["created"],
            "at": START + 60,
        }
    assert json.loads(found[-1].cursor or "") == {"done": True, "at": START + 60}
    for page in found:
        for obj in page.objects:
            map_record(obj.kind, obj.payload)


def test_requests_carry_limit_starting_after_and_status_all(fake: FakeStripe) -> None:
    found = pages(fake.connector(page_size=3), "subscriptions")
    assert any(o["status"] == "canceled" for o in fake.objects["subscription"])
    assert len(ids(found)) == len(fake.objects["subscription"])
    first, second = fake.requests[:2]
    assert dict(first.url.params) == {"limit": "3", "status": "all"}
    assert second.url.params["starting_after"] == found[0].objects[-1].payload["id"]


def test_resume_from_a_mid_run_cursor_gives_the_rest_without_duplicates(fake: FakeStripe) -> None:
    everything = ids(pages(fake.connector(page_size=3), "invoices"))
    first = next(iter(stream(fake.connector(page_size=3), "invoices").pages(None)))
    rest = pages(fake.connector(page_size=3), "invoices", first.cursor)
    resumed = [obj.payload["id"] for obj in first.objects] + ids(rest)
    assert resumed == everything
    assert len(set(resumed)) == len(resumed)
    assert json.loads(rest[-1].cursor or "")["at"] == START  # the backfill's own start is kept


def _delete_customer(fake: FakeStripe, customer_id: str) -> None:
    customer = fake.get("customer", customer_id)
    assert customer is not None
    fake.emit_event("customer.deleted", customer)


def test_a_boundary_object_deleted_since_does_not_stop_the_backfill(fake: FakeStripe) -> None:
    everyone = [o["id"] for o in reversed(fake.objects["customer"])]
    first, *_ = pages(fake.connector(page_size=2), "customers")
    boundary = first.objects[-1].payload["id"]
    _delete_customer(fake, boundary)
    fake.advance(60)
    requests_before = len(fake.requests)
    rest = pages(fake.connector(page_size=2), "customers", first.cursor)
    assert set(ids([first, *rest])) == set(everyone)
    assert set(ids(rest)) >= set(everyone) - set(ids([first]))  # the boundary second read again
    refused, *retried = fake.requests[requests_before:]
    assert refused.url.params["starting_after"] == boundary
    assert retried[0].url.params["created[lte]"] == str(first.objects[-1].payload["created"])
    assert "starting_after" not in retried[0].url.params


def test_a_deleted_boundary_in_an_old_cursor_lists_again_from_the_top(fake: FakeStripe) -> None:
    first, *_ = pages(fake.connector(page_size=2), "customers")
    boundary = first.objects[-1].payload["id"]
    _delete_customer(fake, boundary)
    old_cursor = json.dumps({"starting_after": boundary, "at": START})  # before "created"
    rest = pages(fake.connector(page_size=2), "customers", old_cursor)
    live = [o["id"] for o in reversed(fake.objects["customer"]) if not o.get("deleted")]
    assert ids(rest) == live


def test_another_refusal_still_stops_the_backfill(fake: FakeStripe) -> None:
    first, *_ = pages(fake.connector(page_size=2), "customers")
    fake.inject(400)
    with pytest.raises(FatalError, match="HTTP 400"):
        pages(fake.connector(page_size=2), "customers", first.cursor)


def test_a_done_backfill_yields_nothing_and_keeps_its_cursor(fake: FakeStripe) -> None:
    cursors: dict[str, str | None] = {}
    run_all(fake.connector(), cursors)
    assert all(json.loads(cursors[n] or "")["done"] for n in BACKFILLS)
    fake.add_customers(2)
    fake.requests.clear()
    second = run_all(fake.connector(), dict(cursors))
    assert all(second[n] == [] for n in BACKFILLS)
    assert all("/v1/events" in str(r.url) for r in fake.requests)


def test_first_events_run_records_its_starting_point(fake: FakeStripe) -> None:
    fake.advance(10)
    cursors: dict[str, str | None] = {}
    found = run_all(fake.connector(), cursors)
    assert [page.objects for page in found["events"]] == [[]]
    assert json.loads(cursors["events"] or "") == {"created": START + 10 - EVENTS_MARGIN_SECONDS}
    assert run_all(fake.connector(), cursors)["events"] == []  # second run: no-op


def test_events_stream_lists_explicit_types_in_groups_of_twenty(fake: FakeStripe) -> None:
    fake.advance(EVENTS_SETTLE_SECONDS + 10)
    cursor = json.dumps({"created": START})
    pages(fake.connector(), "events", cursor)
    listed = [r.url.params.get_list("types[]") for r in fake.requests]
    assert all(len(types) <= 20 for types in listed)
    assert sorted(t for types in listed for t in types) == sorted(LISTED_EVENT_TYPES)
    assert {r.url.params["created[gte]"] for r in fake.requests} == {str(START)}
    assert {r.url.params["created[lt]"] for r in fake.requests} == {str(START + 10)}


def test_events_are_emitted_oldest_first_with_the_same_second_tie_break(fake: FakeStripe) -> None:
    cursors: dict[str, str | None] = {}
    run_all(fake.connector(), cursors)
    cus = fake.get("customer", "cus_000001") or {}
    inv = fake.get("invoice", "in_000004b") or {}
    charge = fake.get("charge", "ch_000005a") or {}
    t = START + 100
    a = fake.emit_event("customer.updated", {**cus, "email": "new@example.com"}, created=t)
    b = fake.emit_event("invoice.payment_succeeded", {**inv, "status": "paid"}, created=t)
    c = fake.emit_event("charge.refunded", {**charge, "refunded": True}, created=t + 1)
    fake.emit_event("plan.created", {"id": "plan_1", "object": "plan"}, created=t + 1)
    fake.advance(200)
    found = pages(fake.connector(page_size=2), "events", cursors["events"])
    objects = [obj for page in found for obj in page.objects]
    assert [o.payload["id"] for o in objects] == ["cus_000001", "in_000004b", "ch_000005a"]
    assert [o.kind for o in objects] == ["customer", "invoice", "charge"]
    assert objects[0].observed_at == "2026-01-01T00:01:40Z"
    assert objects[0].payload["email"] == "new@example.com"
    assert json.loads(found[0].cursor or "") == {"created": t, "ids": [a["id"], b["id"]]}
    cursor = found[-1].cursor
    assert json.loads(cursor or "")["created"] == t + 1
    assert c["id"] in json.loads(cursor or "")["ids"]

    d = fake.emit_event("customer.subscription.updated", fake.objects["subscription"][0], t + 1)
    e = fake.emit_event("charge.dispute.created", fake.objects["dispute"][0], created=t + 2)
    again = pages(fake.connector(), "events", cursor)
    assert [o.payload["id"] for p in again for o in p.objects] == [
        d["data"]["object"]["id"],
        e["data"]["object"]["id"],
    ]
    assert [o.kind for p in again for o in p.objects] == ["subscription", "dispute"]
    assert pages(fake.connector(), "events", again[-1].cursor) == []


def test_an_event_created_while_a_later_type_group_is_listed_is_not_skipped(
    fake: FakeStripe,
) -> None:
    """The types are listed in groups of twenty, one request each. A customer event created
    after the first group was listed, then a dispute event a second later that the second group
    does see, must not move the cursor past the customer event: the next run would start after
    it and it would be lost."""
    cursors: dict[str, str | None] = {}
    run_all(fake.connector(), cursors)
    fake.advance(600)
    cus = fake.get("customer", "cus_000003") or {}
    dispute = fake.objects["dispute"][0]
    listed: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        if request.url.path == "/v1/events" and not listed:
            listed.append(str(request.url))  # the first group has been answered
            fake.emit_event("customer.updated", {**cus, "email": "late@example.com"})
            fake.advance(1)
            fake.emit_event("charge.dispute.created", dispute)
        return response

    client = httpx.Client(transport=httpx.MockTransport(handler))
    first = pages(fake.connector(client), "events", cursors["events"])
    cursor = first[-1].cursor if first else cursors["events"]
    fake.advance(EVENTS_SETTLE_SECONDS + 1)
    later = pages(fake.connector(), "events", cursor)
    seen = [o.payload for p in [*first, *later] for o in p.objects]
    assert [(o["object"], o["id"]) for o in seen] == [
        ("customer", "cus_000003"),
        ("dispute", dispute["id"]),
    ]
    assert seen[0]["email"] == "late@example.com"


def test_customer_deleted_event_is_a_deletion(fake: FakeStripe) -> None:
    cus = fake.get("customer", "cus_000002") or {}
    fake.emit_event("customer.deleted", cus, created=START + 5)
    fake.advance(EVENTS_SETTLE_SECONDS + 10)  # the event has settled
    found = pages(fake.connector(), "events", json.dumps({"created": START}))
    [obj] = [o for p in found for o in p.objects]
    assert obj == VendorObject("customer", cus, observed_at="2026-01-01T00:00:05Z", deleted=True)


@pytest.mark.parametrize(
    ("event_type", "kind", "deleted"),
    [
        ("invoice.deleted", "invoice", True),
        ("charge.pending", "charge", False),
        ("charge.captured", "charge", False),
        ("charge.expired", "charge", False),
        ("charge.dispute.funds_withdrawn", "dispute", False),
        ("customer.subscription.pending_update_applied", "subscription", False),
    ],
)
def test_events_that_change_or_delete_a_synced_object_are_listed(
    fake: FakeStripe, event_type: str, kind: str, deleted: bool
) -> None:
    obj = fake.objects[kind][0]
    fake.emit_event(event_type, obj, created=START + 5)
    fake.advance(EVENTS_SETTLE_SECONDS + 10)
    found = pages(fake.connector(), "events", json.dumps({"created": START}))
    [got] = [o for p in found for o in p.objects]
    assert (got.kind, got.payload["id"], got.deleted) == (kind, obj["id"], deleted)


def test_an_idle_events_cursor_moves_forward_once_a_day(fake: FakeStripe) -> None:
    fake.advance(2 * DAY)
    found = pages(fake.connector(), "events", json.dumps({"created": START, "ids": ["evt_x"]}))
    assert [p.objects for p in found] == [[]]
    moved = json.loads(found[0].cursor or "")
    assert moved == {"created": int(fake.clock) - EVENTS_MARGIN_SECONDS}


def test_the_old_created_id_cursor_form_is_accepted(fake: FakeStripe) -> None:
    evt = fake.emit_event("customer.created", fake.objects["customer"][0], created=START)
    cursor = json.dumps({"created": START, "id": evt["id"]})
    assert pages(fake.connector(), "events", cursor) == []


def test_a_cursor_older_than_thirty_days_asks_for_a_full_backfill(fake: FakeStripe) -> None:
    connector = fake.connector()
    old = json.dumps({"created": START, "ids": []})
    fake.advance(30 * DAY + 1)
    fake.requests.clear()
    [page] = pages(connector, "events", old)
    assert page == Page([], None, note=WINDOW_NOTE)
    assert fake.requests == []
    assert connector.needs_full_backfill({"customers": None, "events": old})


def test_needs_full_backfill(fake: FakeStripe) -> None:
    connector = fake.connector()
    done = json.dumps({"done": True, "at": START})
    fresh = json.dumps({"created": START, "ids": []})
    assert not connector.needs_full_backfill({})
    assert not connector.needs_full_backfill({"customers": done, "events": None})
    assert not connector.needs_full_backfill({"events": fresh})
    fake.advance(30 * DAY + 1)
    assert connector.needs_full_backfill({"customers": done, "events": None})
    assert connector.needs_full_backfill({"events": fresh})
    # After the runner resets every cursor, a new backfill starts from scratch.
    assert not connector.needs_full_backfill(dict.fromkeys([*BACKFILLS, "events"]))


def test_first_events_run_after_a_long_ago_backfill_falls_back(fake: FakeStripe) -> None:
    cursors: dict[str, str | None] = {n: json.dumps({"done": True, "at": START}) for n in BACKFILLS}
    fake.advance(31 * DAY)
    found = run_all(fake.connector(), cursors)
    assert found["events"] == [Page([], None, note=WINDOW_NOTE)]


def test_fetch_one(fake: FakeStripe) -> None:
    connector = fake.connector()
    found = connector.fetch_one("invoice", "in_000003a")
    assert found is not None
    assert (found.kind, found.payload["id"], found.deleted) == ("invoice", "in_000003a", False)
    assert found.observed_at == "2026-01-01T00:00:00Z"
    assert connector.fetch_one("customer", "cus_missing") is None
    fake.emit_event("customer.deleted", fake.objects["customer"][0])
    gone = connector.fetch_one("customer", "cus_000001")
    assert gone is not None
    assert gone.deleted
    assert connector.fetch_one("dispute", "../customers/cus_000001") is None
    assert b"/v1/disputes/..%2Fcustomers%2Fcus_000001" in fake.requests[-1].url.raw_path
    with pytest.raises(MappingError):
        connector.fetch_one("plan", "plan_1")


def test_without_an_api_key_streams_refuse_to_start(fake: FakeStripe) -> None:
    connector = fake.connector(api_key=None)
    with pytest.raises(ConfigurationError):
        pages(connector, "customers")
    assert fake.requests == []


def _constant(body: Any, status: int = 200) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body)
        return httpx.Response(status, json=body)

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        {"object": "list", "data": "nope", "has_more": False},
        {"object": "list", "data": [], "has_more": True},
        # More to come, and no object with an id to go on from (one without an id alone is
        # kept raw: tests/integrations/test_objects_without_an_id.py).
        {"object": "list", "data": [{"object": "customer"}], "has_more": True},
    ],
    ids=["not-json", "data-not-a-list", "has-more-but-empty", "more-but-no-id-to-go-on-from"],
)
def test_malformed_pages_stop_the_run(fake: FakeStripe, body: Any) -> None:
    with pytest.raises(FatalError):
        pages(fake.connector(_constant(body)), "customers")


def test_a_repeated_page_token_is_caught_by_the_loop_guard(fake: FakeStripe) -> None:
    body = {"object": "list", "data": [{"id": "cus_same", "object": "customer"}], "has_more": True}
    with pytest.raises(FatalError, match="repeated"):
        pages(fake.connector(_constant(body)), "customers")


def test_an_unreadable_cursor_is_fatal(fake: FakeStripe) -> None:
    with pytest.raises(FatalError, match="unreadable cursor"):
        pages(fake.connector(), "events", "{oops")
