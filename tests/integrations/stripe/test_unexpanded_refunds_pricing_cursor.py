"""Stripe connector: refunds of charges that do not embed them, ``transform_quantity`` pricing,
and cursors that keep no erased customer id.

Stripe payloads follow ``shared/refdata/stripe`` at the pinned API version: a charge does not
embed its ``refunds`` list unless it is expanded (``expand[]=refunds``), and refund events
(``refund.created|updated|failed``) carry the refund, whose ``charge`` names the charge.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from context_service.models import Charge, Subscription
from context_service.store import Store
from context_service.sync import IngestContext
from context_service.sync.runner import run_sync
from integrations.stripe import map_record
from integrations.stripe.webhooks import parse_delivery
from tests.integrations.contract import pages, run_all
from tests.integrations.stripe.fake import FakeStripe
from tests.review_fixtures import (
    UnexpandedRefundsStripe,
    latest_charge,
    one_customer_without_refunds,
    signed_event_body,
    stripe_example,
)
from tests.trust.helpers import erase, profile_of_email

Json = dict[str, Any]
DAY = 86_400


# --- Stripe: refunds at the pinned API version ---------------------------------------------------


class PinnedStripe(UnexpandedRefundsStripe):
    """``FakeStripe`` answering as the pinned API version does: a charge's ``refunds`` list is
    present only when expanded (``expand[]=refunds`` on retrieve, ``data.refunds`` on a list);
    the refunds themselves live in ``self.refunds`` (charge id -> refund objects)."""

    def __init__(self) -> None:
        super().__init__()
        self.refunds: dict[str, list[Json]] = {}

    def expanded_refunds(self, charge: Json) -> Json:
        """Every refund of the charge, oldest first."""
        data = self.refunds.get(charge["id"], [])
        return {"object": "list", "data": data, "has_more": False}

    def refund(self, charge_id: str, amount: int, status: str = "succeeded") -> Json:
        """Refund ``amount`` of a charge: the refund object, the charge's totals updated."""
        refund = {
            **stripe_example("refund"),
            "id": f"re_{charge_id}_{len(self.refunds.get(charge_id, []))}",
            "charge": charge_id,
            "amount": amount,
            "created": int(self.clock),
            "status": status,
            "reason": "requested_by_customer",
        }
        self.refunds.setdefault(charge_id, []).append(refund)
        self._total(charge_id)
        return refund

    def fail_refund(self, refund: Json) -> Json:
        """The refund failed: the money stays with the merchant, the charge's total drops."""
        refund["status"] = "failed"
        refund["failure_reason"] = "expired_or_canceled_card"
        self._total(str(refund["charge"]))
        return dict(refund)

    def _total(self, charge_id: str) -> None:
        charge = self.get("charge", charge_id) or {}
        returned = sum(
            r["amount"]
            for r in self.refunds[charge_id]
            if r["status"] not in {"failed", "canceled"}
        )
        charge["amount_refunded"] = returned
        charge["refunded"] = returned >= charge["amount"]


@pytest.fixture
def pinned() -> PinnedStripe:
    return one_customer_without_refunds(PinnedStripe())


def test_a_backfilled_partly_refunded_charge_shows_its_refund(pinned: PinnedStripe) -> None:
    refund = pinned.refund("ch_000001a", 500)
    found = pages(pinned.connector(), "charges")
    charge = latest_charge(found, "ch_000001a")
    assert Decimal(charge.amount_refunded or "0") == Decimal(5)
    assert charge.refunded is False  # partly
    assert [r.external_id for r in charge.refunds] == [refund["id"]]
    assert charge.refunds[0].note == "requested_by_customer"


def test_a_refund_after_the_backfill_reaches_the_charge_with_its_details(
    pinned: PinnedStripe,
) -> None:
    cursors: dict[str, str | None] = {}
    run_all(pinned.connector(), cursors)
    pinned.advance(600)
    refund = pinned.refund("ch_000001a", 500)
    pinned.emit_event("charge.refunded", pinned.unexpanded("ch_000001a"))
    pinned.emit_event("refund.created", refund)
    pinned.advance(600)
    found = pages(pinned.connector(), "events", cursors["events"])
    charge = latest_charge(found, "ch_000001a")
    assert Decimal(charge.amount_refunded or "0") == Decimal(5)
    assert [r.external_id for r in charge.refunds] == [refund["id"]]


def test_a_refund_that_fails_later_no_longer_shows_as_refunded(pinned: PinnedStripe) -> None:
    """Stripe sends ``refund.failed`` (and ``refund.updated``), no charge event; the charge's
    ``amount_refunded`` drops back. Without reading refund events the context keeps saying
    the customer got the money back."""
    refund = pinned.refund("ch_000001a", 2000)
    cursors: dict[str, str | None] = {}
    backfill = run_all(pinned.connector(), cursors)
    assert latest_charge(backfill["charges"], "ch_000001a").refunded is True
    pinned.advance(600)
    pinned.emit_event("refund.failed", pinned.fail_refund(refund))
    pinned.advance(600)
    found = pages(pinned.connector(), "events", cursors["events"])
    charge = latest_charge(found, "ch_000001a")
    assert charge.refunded is False
    assert Decimal(charge.amount_refunded or "0") == 0
    assert charge.refunds == []


def test_a_refund_webhook_refetches_its_charge(pinned: PinnedStripe) -> None:
    refund = pinned.refund("ch_000001a", 500)
    delivery = parse_delivery(signed_event_body(pinned, "refund.created", refund))
    assert ("charge", "ch_000001a") in delivery.refetch
    fetched = pinned.connector().fetch_one("charge", "ch_000001a")
    assert fetched is not None
    activity = map_record("charge", fetched.payload).activity
    assert isinstance(activity, Charge)
    assert [r.external_id for r in activity.refunds] == [refund["id"]]


def test_a_charge_refunded_webhook_without_the_refunds_list_refetches_the_charge(
    pinned: PinnedStripe,
) -> None:
    pinned.refund("ch_000001a", 500)
    body = signed_event_body(pinned, "charge.refunded", pinned.unexpanded("ch_000001a"))
    delivery = parse_delivery(body)
    assert ("charge", "ch_000001a") in delivery.refetch


# --- Stripe: transform_quantity ------------------------------------------------------------------


def _subscription_with(price_changes: Json, quantity: int) -> Subscription:
    sub = stripe_example("subscription")
    item = stripe_example("subscription_item")
    item["price"] = {**stripe_example("price"), **price_changes}
    item["quantity"] = quantity
    sub["items"] = {"object": "list", "data": [item], "has_more": False}
    activity = map_record("subscription", sub).activity
    assert isinstance(activity, Subscription)
    return activity


@pytest.mark.parametrize(
    ("quantity", "divide_by", "rounding", "billed"),
    [(12, 5, "up", 3), (12, 5, "down", 2), (10, 5, "up", 2), (3, 5, "down", 0)],
)
def test_transform_quantity_divides_the_quantity_before_pricing(
    quantity: int, divide_by: int, rounding: str, billed: int
) -> None:
    """A price "per 5 seats, rounded up" bills 12 seats as 3 packages, not 12."""
    price = {"unit_amount": 2000, "transform_quantity": {"divide_by": divide_by, "round": rounding}}
    sub = _subscription_with(price, quantity)
    assert Decimal(sub.amount or "nan") == Decimal(20) * billed


def test_the_published_price_example_is_priced_through_its_transform() -> None:
    price = stripe_example("price")  # divide_by 1592560163, round down: one seat bills nothing
    assert price["transform_quantity"]["round"] == "down"
    sub = _subscription_with({}, 1)
    assert Decimal(sub.amount or "nan") == 0


# --- Stripe: what the cursors keep after an erasure ----------------------------------------------


def _stopped_after_first_page(fake: FakeStripe) -> httpx.Client:
    """A client whose second request fails for good (400): the run stops after one page."""

    def handler(request: httpx.Request) -> httpx.Response:
        if len(fake.requests) >= 1:
            fake.requests.append(request)
            return httpx.Response(400, json={"error": {"type": "invalid_request_error"}})
        return fake.handler(request)

    return httpx.Client(transport=httpx.MockTransport(handler))


def _stored_state(store: Store) -> str:
    cursors = store.conn.execute("SELECT cursor FROM sync_cursors").fetchall()
    runs = store.conn.execute("SELECT note, error FROM sync_runs").fetchall()
    return json.dumps([list(row) for row in cursors + runs])


def test_the_events_cursor_names_events_only_never_a_customer() -> None:
    fake = FakeStripe()
    fake.add_customers(2)
    cursors: dict[str, str | None] = {}
    run_all(fake.connector(), cursors)
    customer = fake.get("customer", "cus_000001") or {}
    fake.advance(600)
    fake.emit_event("customer.updated", {**customer, "name": "Renamed"})
    fake.advance(600)
    found = pages(fake.connector(), "events", cursors["events"])
    stored = json.loads(found[-1].cursor or "")
    assert set(stored) <= {"created", "ids"}
    assert all(str(i).startswith("evt_") for i in stored.get("ids", []))


def test_an_erased_customer_id_does_not_survive_in_an_unfinished_backfill_cursor(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeStripe()
    fake.add_customers(3)
    connector = fake.connector(_stopped_after_first_page(fake), page_size=1)
    outcome = run_sync(store, connector, ctx)
    assert outcome.status == "failed"
    newest = "cus_000003"  # listed first: its id is the customers cursor's starting_after
    assert newest in _stored_state(store)
    profile = profile_of_email(store, "customer3@example.com")
    assert profile is not None
    erase(store, profile)
    assert newest not in _stored_state(store)
    # The stream starts again: everyone else arrives, the erased person does not come back.
    assert run_sync(store, fake.connector(page_size=1), ctx).status == "ok"
    assert profile_of_email(store, "customer1@example.com") is not None
    assert profile_of_email(store, "customer2@example.com") is not None
    assert profile_of_email(store, "customer3@example.com") is None
