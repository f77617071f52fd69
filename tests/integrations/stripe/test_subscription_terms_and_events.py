"""Stripe subscriptions (interval, amount, renewal, cancellation, paused collection) and the
events stream (30-day window, non-resource 404s, connected-account events).

Subscriptions are mapped from Stripe's published example (``shared/refdata/stripe``); the
events stream runs against ``FakeStripe`` (MockTransport, 30 days of events kept).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from context_service.models import Subscription
from integrations.stripe import map_subscription
from tests.integrations.contract import run_all
from tests.integrations.refdata import refdata
from tests.integrations.stripe.fake import START, FakeStripe

DAY = 86_400


def _subscription(payload: dict[str, Any]) -> Subscription:
    activity = map_subscription(payload).activity
    assert isinstance(activity, Subscription)
    return activity


def _example_subscription() -> dict[str, Any]:
    """Stripe's example subscription: one item, a licensed per-unit price of 20.00 USD a month."""
    payload: dict[str, Any] = copy.deepcopy(refdata("stripe", "subscription.json"))
    return payload


def _price(payload: dict[str, Any]) -> dict[str, Any]:
    price: dict[str, Any] = payload["items"]["data"][0]["price"]
    return price


# --- Subscriptions: what the customer pays, and when it ends ---------------------------------


def test_a_plan_billed_every_three_months_is_not_called_monthly() -> None:
    """``recurring.interval_count`` 3 with ``interval`` month bills every three months: shown as
    ``60.00 USD/month`` the bot would triple what the customer pays."""
    payload = _example_subscription()
    _price(payload)["transform_quantity"] = None  # the example's divides by 1,592,560,163
    _price(payload)["recurring"].update(interval="month", interval_count=3)
    _price(payload)["unit_amount"] = 6000
    sub = _subscription(payload)
    assert (sub.amount, sub.interval) == ("60.00", "3 months")


def test_a_plan_billed_every_month_keeps_its_plain_interval() -> None:
    payload = _example_subscription()
    _price(payload)["recurring"].update(interval="year", interval_count=1)
    assert _subscription(payload).interval == "year"


def test_a_metered_price_is_not_a_recurring_amount() -> None:
    """A metered price's ``unit_amount`` is the price of one unit of usage: the bill depends on
    the usage reported, so no recurring amount can be stated."""
    payload = _example_subscription()
    _price(payload)["recurring"]["usage_type"] = "metered"
    _price(payload)["unit_amount"] = 5
    item = payload["items"]["data"][0]
    item.pop("quantity", None)  # metered items have no quantity
    assert _subscription(payload).amount is None


def test_a_subscription_with_an_item_of_unknown_price_states_no_amount() -> None:
    """A base fee plus a tiered seat price: the tiered item has no ``unit_amount``. Stating the
    base fee alone as the subscription's amount understates what the customer pays."""
    payload = _example_subscription()
    base = payload["items"]["data"][0]
    seats = copy.deepcopy(base)
    seats["id"] = "si_seats"
    seats["quantity"] = 12
    seats["price"].update(id="price_seats", billing_scheme="tiered", unit_amount=None)
    seats["price"]["unit_amount_decimal"] = None
    payload["items"]["data"].append(seats)
    assert _subscription(payload).amount is None


def test_a_subscription_scheduled_to_cancel_does_not_renew() -> None:
    """``cancel_at`` (the Dashboard's "cancel on a date", here before the period's end) with
    ``cancel_at_period_end`` false: the subscription ends then; reported as renewing on
    2026-03-01, the bot would promise a renewal that will not happen."""
    payload = _example_subscription()
    item = payload["items"]["data"][0]
    item["current_period_end"] = 1_772_323_200  # 2026-03-01
    payload.update(status="active", cancel_at_period_end=False, cancel_at=1_771_372_800)
    assert _subscription(payload).cancel_at_period_end is True


def test_a_cancellation_after_the_current_period_leaves_it_renewing() -> None:
    payload = _example_subscription()
    item = payload["items"]["data"][0]
    item["current_period_end"] = 1_772_323_200  # 2026-03-01
    payload.update(status="active", cancel_at_period_end=False, cancel_at=1_780_000_000)
    sub = _subscription(payload)
    assert sub.cancel_at_period_end is False
    assert sub.current_period_end == "2026-03-01T00:00:00Z"


# --- Events: the 30-day window ------------------------------------------------------------


def test_a_run_that_listed_events_up_to_now_keeps_the_cursor_inside_the_window() -> None:
    """A run lists every event up to (nearly) now, but applies only old ones (the last change
    was 20 days ago). The cursor must say how far the events were listed: left at the old
    event, a sync 15 days later (the events since are all still in Stripe's 30 days) would be
    refused as too old and the whole account backfilled again."""
    fake = FakeStripe()
    fake.add_customers(2)
    connector = fake.connector()
    cursors: dict[str, str | None] = {}
    run_all(connector, cursors)
    fake.advance(DAY)
    customer = fake.objects["customer"][0]
    fake.emit_event("customer.updated", dict(customer, name="Renamed"))
    fake.advance(20 * DAY)
    found = run_all(connector, cursors)
    applied = [obj.payload["name"] for page in found["events"] for obj in page.objects]
    assert applied == ["Renamed"]
    fake.advance(15 * DAY)  # the last listing was 15 days ago, the last event 35 days ago
    assert not connector.needs_full_backfill(cursors)
    assert json.loads(cursors["events"] or "")["created"] > START + 21 * DAY - DAY


def test_a_canceled_subscription_keeps_its_cancel_at_as_history() -> None:
    payload = _example_subscription()
    item = payload["items"]["data"][0]
    item["current_period_end"] = 1_772_323_200
    payload.update(status="canceled", cancel_at_period_end=False, cancel_at=1_771_372_800)
    assert _subscription(payload).cancel_at_period_end is False


def test_a_404_that_is_not_resource_missing_does_not_say_the_object_is_gone() -> None:
    """Only Stripe's ``resource_missing`` means the object is gone: a 404 from a wrong base URL
    or a proxy in front of Stripe would otherwise retire a live customer."""
    import httpx
    import pytest

    from context_service.errors import FatalError  # what integrations._http raises

    fake = FakeStripe()
    (live,) = fake.add_customers(1)

    def proxy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html>Not Found</html>")

    connector = fake.connector(httpx.Client(transport=httpx.MockTransport(proxy)))
    with pytest.raises(FatalError):
        connector.fetch_one("customer", live)
    assert fake.connector().fetch_one("customer", "cus_gone") is None  # Stripe's own 404
    found = fake.connector().fetch_one("customer", live)
    assert found is not None
    assert found.payload["id"] == live


def test_a_subscription_whose_collection_is_paused_does_not_read_as_renewing() -> None:
    """``pause_collection`` keeps the status ``active`` while no invoice is charged: the
    snapshot said "renews", and an agent would promise a charge that will not come."""
    from context_service.snapshot.render import (
        _period,
        render_text,  # noqa: F401 (the renderer's words)
    )

    payload = _example_subscription()  # Stripe's example pauses collection (mark_uncollectible)
    payload.update(status="active", cancel_at=None, cancel_at_period_end=False)
    payload["pause_collection"] = {"behavior": "void", "resumes_at": 1767225600}
    sub = _subscription(payload)
    assert sub.collection_paused
    assert sub.resumes_at == "2026-01-01T00:00:00Z"
    assert "renews" not in _period(sub)
    assert "payments paused until 2026-01-01" in _period(sub)
    payload["pause_collection"] = None
    assert not _subscription(payload).collection_paused
    payload["pause_collection"] = {"behavior": "void", "resumes_at": None}
    payload["status"] = "canceled"
    assert not _subscription(payload).collection_paused  # an ended one has nothing to pause


def test_an_event_about_a_connected_account_stores_nothing() -> None:
    """A Connect endpoint's events carry ``account``: that object is another Stripe account's,
    and stored here it would show up as one of this account's customers."""
    fake = FakeStripe()
    (cus,) = fake.add_customers(1)
    event = dict(fake.emit_event("customer.updated", fake.get("customer", cus) or {}))
    event["account"] = "acct_1Connected"
    delivery = fake.connector().parse_webhook(*fake.signed(event))
    assert delivery.objects == []
    assert "connected account acct_1Connected" in delivery.problems[0]
    del event["account"]
    assert len(fake.connector().parse_webhook(*fake.signed(event)).objects) == 1
