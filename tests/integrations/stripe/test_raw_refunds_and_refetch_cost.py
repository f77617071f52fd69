"""Stripe refunds: a refund kept raw that a charge shows later leaves the rejected list, and a
page of refund events fetches each charge at most once."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest

from context_service.models import Charge, Page, VendorObject
from context_service.store import Store, cursors
from context_service.store.records import rejected
from context_service.sync import IngestContext, apply_pending, receive
from context_service.sync.runner import run_sync
from integrations.stripe import map_record
from tests.integrations.contract import pages, run_all
from tests.integrations.stripe.refunding import EXPANDED_REFUNDS, RefundingStripe

URL = "https://example.test/v1/webhooks/stripe"


@pytest.fixture
def stripe() -> RefundingStripe:
    fake = RefundingStripe()
    fake.add_customers(2)
    for charge in fake.objects["charge"]:
        charge.pop("refunds", None)
    return fake


def _sync(store: Store, stripe: RefundingStripe, ctx: IngestContext) -> None:
    stripe.advance(600)
    assert run_sync(store, stripe.connector(), ctx).status == "ok"


def _rejected_ids(store: Store) -> list[str]:
    return [record.key.external_id for record in rejected(store.conn, "stripe")]


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


def _raw_refund(store: Store, stripe: RefundingStripe, ctx: IngestContext) -> str:
    """A synced store holding a refund kept raw: it names no charge, nor does its intent."""
    _sync(store, stripe, ctx)
    stripe.intent("pi_raw", latest_charge=None)
    refund = stripe.refund(None, 300, intent="pi_raw")
    stripe.emit_event("refund.created", refund)
    _sync(store, stripe, ctx)
    assert _rejected_ids(store) == [refund["id"]]
    return str(refund["id"])


# --- 1. A raw refund that a charge shows later ---------------------------------------------------


def test_a_raw_refund_leaves_the_rejected_list_when_a_refund_event_names_its_charge(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    refund_id = _raw_refund(store, stripe, ctx)
    stripe.emit_event("refund.updated", stripe.place(refund_id, "ch_000001a"))
    _sync(store, stripe, ctx)
    assert _stored_refunds(store, "ch_000001a") == [refund_id]
    assert _rejected_ids(store) == []


def test_a_raw_refund_leaves_the_rejected_list_when_its_charge_is_refunded(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    refund_id = _raw_refund(store, stripe, ctx)
    stripe.place(refund_id, "ch_000001a")
    stripe.emit_event("charge.refunded", stripe.unexpanded("ch_000001a"))
    _sync(store, stripe, ctx)
    assert _stored_refunds(store, "ch_000001a") == [refund_id]
    assert _rejected_ids(store) == []


def test_a_raw_refund_leaves_the_rejected_list_when_its_intent_gets_a_charge(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    """The refund still names no charge, but its payment intent's ``latest_charge`` does."""
    refund_id = _raw_refund(store, stripe, ctx)
    stripe.intent("pi_raw", latest_charge="ch_000001b")
    refund = stripe.place(refund_id, "ch_000001b")
    stripe.emit_event("refund.updated", {**refund, "charge": None})
    _sync(store, stripe, ctx)
    assert _stored_refunds(store, "ch_000001b") == [refund_id]
    assert _rejected_ids(store) == []


def test_a_raw_refund_leaves_the_rejected_list_on_a_refund_webhook_naming_its_charge(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    refund_id = _raw_refund(store, stripe, ctx)
    event = stripe.emit_event("refund.updated", stripe.place(refund_id, "ch_000001a"))
    connector = stripe.connector()
    headers, body = stripe.signed(event)
    assert receive(store, connector, headers, body, URL, stripe.now()).status == "accepted"
    assert apply_pending(store, {"stripe": connector}, ctx, now=stripe.now()) == 1
    assert _stored_refunds(store, "ch_000001a") == [refund_id]
    assert _rejected_ids(store) == []


def test_a_placed_refund_is_not_put_back_on_the_rejected_list_by_a_replayed_raw_copy(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    """A webhook placed the refund; then the events stream lists the old chargeless event
    again (its cursor was reset): the older raw copy must not come back."""
    _sync(store, stripe, ctx)
    before = cursors.get_cursor(store.conn, "stripe", "events")
    refund_id = _raw_refund(store, stripe, ctx)
    event = stripe.emit_event("refund.updated", stripe.place(refund_id, "ch_000001a"))
    connector = stripe.connector()
    headers, body = stripe.signed(event)
    receive(store, connector, headers, body, URL, stripe.now())
    assert apply_pending(store, {"stripe": connector}, ctx, now=stripe.now()) == 1
    with store.transaction() as conn:
        cursors.set_cursor(conn, "stripe", "events", before, "2026-01-01T00:00:00Z")
    _sync(store, stripe, ctx)
    assert _stored_refunds(store, "ch_000001a") == [refund_id]
    assert _rejected_ids(store) == []


# --- 2. What a page of refund events costs -------------------------------------------------------


def _charge_retrieves(stripe: RefundingStripe, since: int) -> Counter[str]:
    """The ``GET /v1/charges/<id>`` requests made after the first ``since``, per charge."""
    paths = [request.url.path for request in stripe.requests[since:]]
    return Counter(path.rsplit("/", 1)[1] for path in paths if path.startswith("/v1/charges/"))


def _backfilled(stripe: RefundingStripe) -> dict[str, str | None]:
    cursors: dict[str, str | None] = {}
    run_all(stripe.connector(), cursors)
    stripe.advance(600)
    return cursors


def _latest_charges(found: list[Page]) -> dict[str, Charge]:
    """The newest copy of each charge on these pages (what the store keeps), mapped."""
    newest: dict[str, VendorObject] = {}
    for obj in (obj for page in found for obj in page.objects if obj.kind == "charge"):
        held = newest.get(obj.payload["id"])
        if held is None or (obj.observed_at or "") >= (held.observed_at or ""):
            newest[obj.payload["id"]] = obj
    mapped = {charge: map_record("charge", obj.payload).activity for charge, obj in newest.items()}
    return {charge: m for charge, m in mapped.items() if isinstance(m, Charge)}


def _assert_whole(charge: Charge, refund_ids: list[str]) -> None:
    assert sorted(r.external_id for r in charge.refunds) == sorted(refund_ids)
    listed = sum(Decimal(r.amount or "nan") for r in charge.refunds)
    assert listed == Decimal(charge.amount_refunded or "nan")


def test_a_page_of_first_refunds_fetches_no_charge(stripe: RefundingStripe) -> None:
    """Stripe sends ``refund.created`` with each ``charge.refunded``: together they show the
    whole charge, so no charge needs a request of its own."""
    cursors = _backfilled(stripe)
    refunds = {}
    for charge in [c["id"] for c in stripe.objects["charge"]]:
        refund = stripe.refund(charge, 500)
        refunds[charge] = [refund["id"]]
        stripe.emit_event("refund.created", refund)
        stripe.emit_event("charge.refunded", stripe.unexpanded(charge))
    stripe.advance(600)
    since = len(stripe.requests)
    found = pages(stripe.connector(), "events", cursors["events"])
    assert _charge_retrieves(stripe, since) == Counter()
    charges = _latest_charges(found)
    assert sorted(charges) == sorted(refunds)
    for charge, ids in refunds.items():
        _assert_whole(charges[charge], ids)


def test_a_charge_refunded_again_is_fetched_with_every_refund(stripe: RefundingStripe) -> None:
    """The page shows one refund of a charge that has more: the charge is fetched, and its
    refunds beyond the 10 an expanded list holds are listed too."""
    older = [stripe.refund("ch_000001a", 10)["id"] for _ in range(EXPANDED_REFUNDS + 1)]
    cursors = _backfilled(stripe)
    refund = stripe.refund("ch_000001a", 10)
    stripe.emit_event("refund.created", refund)
    stripe.emit_event("charge.refunded", stripe.unexpanded("ch_000001a"))
    stripe.advance(600)
    found = pages(stripe.connector(), "events", cursors["events"])
    _assert_whole(_latest_charges(found)["ch_000001a"], [*older, refund["id"]])


def test_a_failed_refund_on_the_page_still_fetches_the_charge(stripe: RefundingStripe) -> None:
    """The copy's ``amount_refunded`` and the refunds the page shows disagree: fetched."""
    cursors = _backfilled(stripe)
    refund = stripe.refund("ch_000001a", 500)
    stripe.emit_event("charge.refunded", stripe.unexpanded("ch_000001a"))
    stripe.emit_event("refund.created", refund)
    stripe.advance(1)
    stored = next(r for r in stripe.refunds if r["id"] == refund["id"])
    stored["status"] = "failed"
    (stripe.get("charge", "ch_000001a") or {})["amount_refunded"] = 0
    stripe.emit_event("refund.failed", dict(stored))
    stripe.advance(600)
    since = len(stripe.requests)
    found = pages(stripe.connector(), "events", cursors["events"])
    assert _charge_retrieves(stripe, since) == Counter({"ch_000001a": 1})
    charge = _latest_charges(found)["ch_000001a"]
    assert charge.refunds == []
    assert Decimal(charge.amount_refunded or "nan") == 0


def test_a_charge_whose_refund_events_span_pages_is_fetched_once_a_run(
    stripe: RefundingStripe,
) -> None:
    """A charge fetched during a run is newer than every event the run lists."""
    cursors = _backfilled(stripe)
    ids = []
    for _ in range(3):
        refund = stripe.refund("ch_000001a", 100)
        ids.append(refund["id"])
        stripe.emit_event("refund.created", refund)
        stripe.advance(1)
    stripe.advance(600)
    since = len(stripe.requests)
    found = pages(stripe.connector(page_size=1), "events", cursors["events"])
    assert _charge_retrieves(stripe, since) == Counter({"ch_000001a": 1})
    _assert_whole(_latest_charges(found)["ch_000001a"], ids)


# --- 3. Records lost or doubled ------------------------------------------------------------------


def test_a_refund_its_intents_charge_does_not_show_is_kept_raw_by_the_events_stream(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    """The refund names no charge and its payment intent's charge does not list it: placed
    on that charge it would be shown nowhere."""
    _sync(store, stripe, ctx)
    stripe.intent("pi_elsewhere", latest_charge="ch_000001b")
    refund = stripe.refund(None, 300, intent="pi_elsewhere")
    stripe.emit_event("refund.created", refund)
    _sync(store, stripe, ctx)
    assert refund["id"] not in _stored_refunds(store, "ch_000001b")
    assert _rejected_ids(store) == [refund["id"]]


def test_a_refund_its_intents_charge_does_not_show_is_kept_raw_from_a_webhook(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    _sync(store, stripe, ctx)
    stripe.intent("pi_elsewhere", latest_charge="ch_000001b")
    refund = stripe.refund(None, 300, intent="pi_elsewhere")
    event = stripe.emit_event("refund.created", refund)
    connector = stripe.connector()
    headers, body = stripe.signed(event)
    assert receive(store, connector, headers, body, URL, stripe.now()).status == "accepted"
    assert apply_pending(store, {"stripe": connector}, ctx, now=stripe.now()) == 1
    assert _rejected_ids(store) == [refund["id"]]


def test_a_refund_placed_later_on_the_same_page_is_never_reported_rejected(
    stripe: RefundingStripe, store: Store, ctx: IngestContext
) -> None:
    """Created without a charge, then placed, both listed by one run: the run reports no
    rejection for a refund that its charge shows."""
    _sync(store, stripe, ctx)
    stripe.intent("pi_late", latest_charge=None)
    refund = stripe.refund(None, 300, intent="pi_late")
    stripe.emit_event("refund.created", refund)
    stripe.advance(1)
    stripe.emit_event("refund.updated", stripe.place(str(refund["id"]), "ch_000001a"))
    stripe.advance(600)
    outcome = run_sync(store, stripe.connector(), ctx)
    assert outcome.status == "ok"
    assert [r.external_id for r in outcome.report.rejections] == []
    assert _stored_refunds(store, "ch_000001a") == [refund["id"]]
    assert _rejected_ids(store) == []
