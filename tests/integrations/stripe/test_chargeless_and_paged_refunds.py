"""Stripe refunds without a charge (reached through their PaymentIntent), charges with more
than ten refunds, and charges gone at refetch that keep their stored refunds.

Payloads follow ``shared/refdata/stripe`` at the pinned API version: a charge carries its
``refunds`` only when expanded, and an expanded list holds 10 refunds with ``has_more``; a
refund names its ``charge`` (``null`` for some PaymentIntent refunds) and its
``payment_intent``, whose ``latest_charge`` names the charge it was paid with.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from context_service.errors import MappingError
from context_service.models import Charge, Page
from context_service.store import Store
from context_service.sync import IngestContext
from context_service.sync.runner import run_sync
from integrations.stripe import map_record
from integrations.stripe.webhooks import charges_to_refresh, decode_event, parse_delivery
from tests.integrations.contract import pages, run_all
from tests.review_fixtures import (
    UnexpandedRefundsStripe,
    latest_charge,
    one_customer_without_refunds,
    signed_event_body,
    stripe_example,
)

Json = dict[str, Any]
EXPANDED_REFUNDS = 10  # what Stripe embeds of an expanded list


class RefundingStripe(UnexpandedRefundsStripe):
    """``FakeStripe`` answering as the pinned API version does about refunds: a charge's
    ``refunds`` appear only when expanded, 10 of them with ``has_more``; ``/v1/refunds``
    (``charge=``, ``limit``, ``starting_after``), ``/v1/refunds/<id>`` and
    ``/v1/payment_intents/<id>`` are served from ``refunds`` and ``intents``."""

    def __init__(self) -> None:
        super().__init__()
        self.refunds: list[Json] = []  # oldest first
        self.intents: dict[str, Json] = {}

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/v1/refunds") or path.startswith("/v1/payment_intents"):
            return self._refund_route(request)
        return super()._route(request)

    def _refund_route(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if parts[1] == "payment_intents":
            found = self.intents.get(parts[2])
            return _found_or_404(found, "payment_intent", parts[2])
        if len(parts) == 3:
            found = next((r for r in self.refunds if r["id"] == parts[2]), None)
            return _found_or_404(found, "refund", parts[2])
        charge = request.url.params.get("charge")
        newest_first = [r for r in reversed(self.refunds) if charge in (None, r["charge"])]
        return self._list(request, newest_first)

    def expanded_refunds(self, charge: Json) -> Json:
        """The newest 10 refunds of the charge, with ``has_more`` when it has others."""
        mine = [r for r in reversed(self.refunds) if r["charge"] == charge["id"]]
        return {
            "object": "list",
            "data": mine[:EXPANDED_REFUNDS],
            "has_more": len(mine) > EXPANDED_REFUNDS,
            "url": f"/v1/charges/{charge['id']}/refunds",
        }

    def refund(self, charge_id: str | None, amount: int, intent: str | None = None) -> Json:
        """Refund ``amount`` of a charge (or of a payment intent, ``charge_id`` ``None``)."""
        refund = {
            **stripe_example("refund"),
            "id": f"re_{len(self.refunds):04d}",
            "charge": charge_id,
            "payment_intent": intent,
            "amount": amount,
            "created": int(self.clock),
            "reason": "requested_by_customer",
        }
        self.refunds.append(refund)
        if charge_id is not None:
            charge = self.get("charge", charge_id) or {}
            charge["amount_refunded"] = charge.get("amount_refunded", 0) + amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        return refund

    def intent(self, intent_id: str, latest_charge: str | None) -> Json:
        """A payment intent (the published example) paid with ``latest_charge``."""
        intent = {
            **stripe_example("payment_intent"),
            "id": intent_id,
            "latest_charge": latest_charge,
        }
        self.intents[intent_id] = intent
        return intent


def _found_or_404(found: Json | None, kind: str, object_id: str) -> httpx.Response:
    if found is None:
        error = {"type": "invalid_request_error", "code": "resource_missing"}
        return httpx.Response(404, json={"error": {**error, "message": f"No such {kind}"}})
    return httpx.Response(200, json=found)


@pytest.fixture
def stripe() -> RefundingStripe:
    return one_customer_without_refunds(RefundingStripe())


def _copies(found: list[Page], charge_id: str) -> list[Any]:
    return [
        obj
        for page in found
        for obj in page.objects
        if obj.kind == "charge" and obj.payload.get("id") == charge_id
    ]


def _notes(found: list[Page]) -> str:
    return " | ".join(page.note for page in found if page.note)


def _after_backfill(stripe: RefundingStripe) -> dict[str, str | None]:
    cursors: dict[str, str | None] = {}
    run_all(stripe.connector(), cursors)
    stripe.advance(600)
    return cursors


def _events(stripe: RefundingStripe, cursors: dict[str, str | None]) -> list[Page]:
    stripe.advance(600)
    return pages(stripe.connector(), "events", cursors["events"])


# --- 1. A refund that names no charge ------------------------------------------------------------


def test_a_chargeless_refund_event_reaches_the_charge_of_its_payment_intent(
    stripe: RefundingStripe,
) -> None:
    cursors = _after_backfill(stripe)
    stripe.intent("pi_0001", latest_charge="ch_000001a")
    refund = stripe.refund(None, 700, intent="pi_0001")
    # Stripe moved the refund onto the intent's charge; the event still names no charge.
    stripe.refunds[-1] = {**refund, "charge": "ch_000001a"}
    charge = stripe.get("charge", "ch_000001a") or {}
    charge["amount_refunded"] = 700
    stripe.emit_event("refund.created", refund)
    found = _events(stripe, cursors)
    mapped = latest_charge(found, "ch_000001a")
    assert [r.external_id for r in mapped.refunds] == [refund["id"]]
    assert Decimal(mapped.amount_refunded or "nan") == Decimal(7)


def test_a_refund_with_neither_charge_nor_charged_intent_is_kept_raw_and_noted(
    stripe: RefundingStripe,
) -> None:
    cursors = _after_backfill(stripe)
    stripe.intent("pi_0002", latest_charge=None)
    refund = stripe.refund(None, 300, intent="pi_0002")
    stripe.emit_event("refund.created", refund)
    found = _events(stripe, cursors)
    kept = [obj for page in found for obj in page.objects if obj.payload.get("id") == refund["id"]]
    assert kept, "the refund was dropped without a trace"
    assert refund["id"] in _notes(found)
    with pytest.raises(MappingError, match="no charge"):
        map_record(kept[0].kind, kept[0].payload)


def test_a_chargeless_refund_webhook_reaches_the_charge_of_its_payment_intent(
    stripe: RefundingStripe,
) -> None:
    stripe.intent("pi_0003", latest_charge="ch_000001b")
    refund = stripe.refund(None, 400, intent="pi_0003")
    stripe.refunds[-1] = {**refund, "charge": "ch_000001b"}
    delivery = parse_delivery(signed_event_body(stripe, "refund.created", refund))
    connector = stripe.connector()
    fetched = [connector.fetch_one(kind, ext) for kind, ext in delivery.refetch]
    charges = [obj for obj in fetched if obj is not None and obj.kind == "charge"]
    assert [obj.payload["id"] for obj in charges] == ["ch_000001b"]
    mapped = map_record("charge", charges[0].payload).activity
    assert isinstance(mapped, Charge)
    assert [r.external_id for r in mapped.refunds] == [refund["id"]]


# --- 2. More refunds than an expanded list holds -------------------------------------------------


def _refund_many(stripe: RefundingStripe, charge_id: str, count: int) -> list[str]:
    return [stripe.refund(charge_id, 100, intent=None)["id"] for _ in range(count)]


def _assert_every_refund(mapped: Charge, ids: list[str]) -> None:
    assert sorted(r.external_id for r in mapped.refunds) == sorted(ids)
    listed = sum(Decimal(r.amount or "nan") for r in mapped.refunds)
    assert listed == Decimal(mapped.amount_refunded or "nan")


def test_a_backfilled_charge_with_eleven_refunds_lists_them_all(stripe: RefundingStripe) -> None:
    ids = _refund_many(stripe, "ch_000001a", EXPANDED_REFUNDS + 2)
    found = pages(stripe.connector(page_size=1), "charges")
    _assert_every_refund(latest_charge(found, "ch_000001a"), ids)


def test_a_fetched_charge_with_eleven_refunds_lists_them_all(stripe: RefundingStripe) -> None:
    ids = _refund_many(stripe, "ch_000001a", 2 * EXPANDED_REFUNDS + 3)
    fetched = stripe.connector(page_size=5).fetch_one("charge", "ch_000001a")
    assert fetched is not None
    mapped = map_record("charge", fetched.payload).activity
    assert isinstance(mapped, Charge)
    _assert_every_refund(mapped, ids)


def test_a_charge_event_whose_refund_list_has_more_refetches_the_charge(
    stripe: RefundingStripe,
) -> None:
    """An event rendered at an older API version carries the first 10 refunds and
    ``has_more``: stored as is, the others would vanish from the context."""
    _refund_many(stripe, "ch_000001a", EXPANDED_REFUNDS + 1)
    copy_ = stripe._shaped(stripe.get("charge", "ch_000001a") or {}, expanded=True)
    event = decode_event(stripe.emit_event("charge.refunded", copy_))
    assert charges_to_refresh(event) == ["ch_000001a"]


# --- 3. A refetch that answers 404 ---------------------------------------------------------------


def test_a_charge_gone_at_refetch_keeps_its_stored_refunds_and_is_noted(
    stripe: RefundingStripe,
) -> None:
    stripe.refund("ch_000001a", 500)
    cursors = _after_backfill(stripe)
    stripe.emit_event("charge.updated", stripe.unexpanded("ch_000001a"))
    stripe.remove("charge", "ch_000001a")
    found = _events(stripe, cursors)
    refundless = [c for c in _copies(found, "ch_000001a") if "refunds" not in c.payload]
    assert refundless == [], "a copy without refunds would replace the stored refunds"
    assert "ch_000001a" in _notes(found)


def test_a_charge_webhook_without_its_refunds_carries_no_refundless_copy(
    stripe: RefundingStripe,
) -> None:
    """Applied with a refetch that finds nothing, the delivery's own copy would replace the
    stored refunds with none; the refetched copy supersedes it anyway."""
    stripe.refund("ch_000001a", 500)
    event = stripe.emit_event("charge.refunded", stripe.unexpanded("ch_000001a"))
    delivery = parse_delivery(stripe.signed(event)[1])
    assert ("charge", "ch_000001a") in delivery.refetch
    assert [obj for obj in delivery.objects if "refunds" not in obj.payload] == []


# --- Through the runner: what the store and the run's record keep --------------------------------


def _stored_refunds(store: Store, charge_id: str) -> list[str]:
    row = store.conn.execute(
        "SELECT payload FROM records WHERE source = 'stripe' AND kind = 'charge' "
        "AND external_id = ?",
        (charge_id,),
    ).fetchone()
    assert row is not None, f"{charge_id} is not stored"
    mapped = map_record("charge", json.loads(row[0])).activity
    assert isinstance(mapped, Charge)
    return [r.external_id for r in mapped.refunds]


def test_a_sync_keeps_the_stored_refunds_of_a_charge_gone_at_refetch_and_notes_it(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    refund = stripe.refund("ch_000001a", 500)
    assert run_sync(store, stripe.connector(), ctx).status == "ok"
    assert _stored_refunds(store, "ch_000001a") == [refund["id"]]
    stripe.advance(600)
    stripe.emit_event("charge.updated", stripe.unexpanded("ch_000001a"))
    stripe.remove("charge", "ch_000001a")
    stripe.advance(600)
    outcome = run_sync(store, stripe.connector(), ctx)
    assert outcome.status == "ok"
    assert _stored_refunds(store, "ch_000001a") == [refund["id"]]
    assert any("ch_000001a" in note for note in outcome.notes)


def test_a_sync_keeps_a_refund_no_charge_shows_raw_and_reports_it(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    assert run_sync(store, stripe.connector(), ctx).status == "ok"
    stripe.advance(600)
    stripe.intent("pi_0009", latest_charge=None)
    refund = stripe.refund(None, 300, intent="pi_0009")
    stripe.emit_event("refund.created", refund)
    stripe.advance(600)
    outcome = run_sync(store, stripe.connector(), ctx)
    assert outcome.status == "ok"
    assert refund["id"] in [r.external_id for r in outcome.report.rejections]
    assert any(refund["id"] in note for note in outcome.notes)
