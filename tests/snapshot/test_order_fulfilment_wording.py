"""What the summary, the signals, the escalation handoff and the sidebar card say
about an order's fulfilment: why an unfulfilled order waits (on hold, scheduled...), orders that
need no shipping, removed lines; and the summary's CRM line when only the owner is shown.

Snapshots are built through the real path: a Shopify REST order body (as a webhook or the
sync's stored shape carries it) ingested into a store, then read back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from context_service.audience import FieldPolicy, View
from context_service.audience.summary import deterministic_summary
from context_service.handoff import Turn, Who, build_handoff, render_text
from context_service.models import Order, Snapshot
from context_service.snapshot.render import render_text as render_snapshot
from context_service.store import Store
from context_service.widget import MatchConfidence, render_card
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import (
    T0,
    hubspot_contact,
    shopify_customer,
    shopify_order,
    zendesk_ticket,
    zendesk_user,
)

EMAIL = "hold@example.com"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
ESCALATION = FieldPolicy().view("escalation", None)
SIDEBAR = FieldPolicy().view("sidebar", None)
AGENT = FieldPolicy().view("agent", None)
WAITING = [
    ("on_hold", "on hold"),
    ("scheduled", "scheduled"),
    ("in_progress", "in progress"),
    ("pending_fulfillment", "pending fulfillment"),
    ("request_declined", "request declined"),
]


def _ingest_order(ingest: Ingest, store: Store, **fields: Any) -> Snapshot:
    """One paid Shopify order with ``fields`` set on its REST body, ingested and read back."""
    source, kind, body = shopify_order(
        1, 1, "#1001", "2026-11-20T00:00:00Z", fulfillment=None, total="40.00"
    )
    body.update(fields)
    ingest(shopify_customer(1, EMAIL, "Hana", "Old"), (source, kind, body))
    return snapshot_of(store, EMAIL)


def _held(ingest: Ingest, store: Store, detail: str = "on_hold") -> Snapshot:
    return _ingest_order(ingest, store, display_fulfillment_status=detail)


def _digital(ingest: Ingest, store: Store) -> Snapshot:
    return _ingest_order(ingest, store, display_fulfillment_status="fulfillment_not_required")


def _removed_line(ingest: Ingest, store: Store) -> Snapshot:
    lines = [
        {"name": "Lamp", "quantity": 1, "current_quantity": 1},
        {"name": "Gift Wrap Deluxe", "quantity": 2, "current_quantity": 0},
    ]
    return _ingest_order(ingest, store, line_items=lines)


def _handoff_text(snap: Snapshot, view: View = ESCALATION) -> str:
    who = Who(snap.profile_id, snap.identity.name, [], [], "email", "high", "email matched")
    turns = [Turn("customer", "Where is my order? It has not shipped.")]
    handoff = build_handoff(snap, who, turns, "customer asks about shipping", view)
    return render_text(handoff)


def _card(snap: Snapshot, view: View = SIDEBAR) -> str:
    confidence = MatchConfidence(score=1.0, rule="email", links=1)
    return render_card(snap, confidence, "/v1/profiles/x/audit", NOW, view)


def _hiding(view: View, *fields: str) -> View:
    return msgspec.structs.replace(view, hidden=view.hidden | frozenset(fields))


def _latest(snap: Snapshot) -> Order:
    return snap.commerce.orders[0]


# The card's Attention section reads the stored signals, not ``signal_views.visible_signals``: a signal
# about a field the sidebar view hides keeps its details there (the order, the ticket subject).
# The fix is in widget/render.py (``_signals(snapshot, view)`` over ``visible_signals``), but an
# older test expects the hidden plan in the card's signal.
# --- 1. the deterministic summary ----------------------------------------------------------------


@pytest.mark.parametrize(("detail", "words"), WAITING)
def test_the_summary_says_why_an_unfulfilled_order_waits(
    store: Store, ingest: Ingest, detail: str, words: str
) -> None:
    snap = _held(ingest, store, detail)
    assert (_latest(snap).fulfillment_status, _latest(snap).fulfillment_detail) == (
        "unfulfilled",
        detail,
    )
    assert f"unfulfilled ({words})" in snap.summary
    assert f"unfulfilled ({words})" in render_snapshot(snap)  # the plain-text rendering too


def test_the_summary_says_a_digital_order_needs_no_fulfilment(store: Store, ingest: Ingest) -> None:
    snap = _digital(ingest, store)
    assert _latest(snap).fulfillment_status == "not_required"
    assert "not_required" not in snap.summary
    assert "fulfilment not required" in snap.summary


def test_a_plain_unfulfilled_order_still_reads_unfulfilled(store: Store, ingest: Ingest) -> None:
    snap = _ingest_order(ingest, store)
    assert _latest(snap).fulfillment_detail is None
    assert snap.summary.endswith(", paid, unfulfilled."), snap.summary


def test_an_audience_hiding_orders_reads_no_hold_in_its_summary(
    store: Store, ingest: Ingest
) -> None:
    snap = _held(ingest, store)
    text = deterministic_summary(snap, _hiding(AGENT, "orders"))
    assert "on hold" not in text
    assert "#1001" not in text


# --- 2. the signals ------------------------------------------------------------------------------


@pytest.mark.parametrize(("detail", "words"), WAITING)
def test_the_unshipped_warning_says_why_the_order_waits(
    store: Store, ingest: Ingest, detail: str, words: str
) -> None:
    snap = _held(ingest, store, detail)
    (signal,) = [s for s in snap.signals if s.code == "order_unfulfilled"]
    assert words in signal.message
    assert signal.message.startswith("Order #1001 placed 2026-11-20 is paid but")


def test_a_digital_order_does_not_warn_as_unshipped(store: Store, ingest: Ingest) -> None:
    snap = _digital(ingest, store)
    assert "order_unfulfilled" not in {s.code for s in snap.signals}


def test_a_plain_unshipped_order_keeps_its_warning(store: Store, ingest: Ingest) -> None:
    snap = _ingest_order(ingest, store)
    (signal,) = [s for s in snap.signals if s.code == "order_unfulfilled"]
    assert signal.message == "Order #1001 placed 2026-11-20 is paid but not fulfilled yet"


# --- 3. the escalation handoff -------------------------------------------------------------------


def _order_fact(text: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith("- Latest order")]
    return line


@pytest.mark.parametrize(("detail", "words"), WAITING)
def test_the_handoff_says_why_the_latest_order_waits(
    store: Store, ingest: Ingest, detail: str, words: str
) -> None:
    snap = _held(ingest, store, detail)
    assert f"unfulfilled ({words})" in _order_fact(_handoff_text(snap))


def test_the_handoff_says_a_digital_order_needs_no_fulfilment(store: Store, ingest: Ingest) -> None:
    fact = _order_fact(_handoff_text(_digital(ingest, store)))
    assert "not_required" not in fact
    assert "fulfilment not required" in fact


def test_the_handoff_does_not_call_an_order_of_unknown_fulfilment_unfulfilled(
    store: Store, ingest: Ingest
) -> None:
    source, kind, body = shopify_order(1, 1, "#1001", "2026-11-20T00:00:00Z", total="40.00")
    del body["fulfillment_status"]  # absent: the mapper keeps it unknown
    ingest(shopify_customer(1, EMAIL, "Hana", "Old"), (source, kind, body))
    snap = snapshot_of(store, EMAIL)
    assert _latest(snap).fulfillment_status is None
    fact = _order_fact(_handoff_text(snap))
    assert "unfulfilled" not in fact
    assert "fulfilment unknown" in fact


def test_a_handoff_hiding_orders_reads_no_hold(store: Store, ingest: Ingest) -> None:
    text = _handoff_text(_held(ingest, store), _hiding(ESCALATION, "orders"))
    assert "on hold" not in text
    assert "#1001" not in text


def test_the_handoff_does_not_list_a_removed_line_as_ordered(store: Store, ingest: Ingest) -> None:
    snap = _removed_line(ingest, store)
    removed = next(item for item in _latest(snap).line_items if item.quantity == 0)
    text = _handoff_text(snap)
    assert f"{removed.ordered_quantity}x {removed.title}" not in text
    assert f"{removed.title}: removed" in text or removed.title not in text


# --- 3. the sidebar card -------------------------------------------------------------------------


@pytest.mark.parametrize(("detail", "words"), WAITING)
def test_the_card_says_why_the_order_waits(
    store: Store, ingest: Ingest, detail: str, words: str
) -> None:
    snap = _held(ingest, store, detail)
    orders = _card(snap).split("<h2>Orders</h2>")[1].split("</section>")[0]
    assert f"unfulfilled ({words})" in orders


def test_the_card_says_a_digital_order_needs_no_fulfilment(store: Store, ingest: Ingest) -> None:
    page = _card(_digital(ingest, store))
    assert "not_required" not in page
    assert "fulfilment not required" in page


def test_a_card_hiding_orders_reads_no_hold(store: Store, ingest: Ingest) -> None:
    page = _card(_held(ingest, store), _hiding(SIDEBAR, "orders"))
    assert "on hold" not in page
    assert "#1001" not in page


def test_a_card_hiding_tickets_does_not_quote_a_ticket_subject_in_its_signals(
    store: Store, ingest: Ingest
) -> None:
    subject = "Refund to my other card please"
    ingest(zendesk_user(9, "Hana Old", EMAIL), zendesk_ticket(90, 9, subject))
    snap = snapshot_of(store, EMAIL)
    assert any(subject in s.message for s in snap.signals)  # the stored signal quotes it
    hiding = _hiding(SIDEBAR, "support.tickets")
    assert subject not in _card(snap, hiding)
    assert "open ticket" in _card(snap, hiding)  # the signal stays, without its details
    assert subject in _card(snap)  # a view that shows tickets still reads it


def test_the_card_does_not_list_a_removed_line_as_ordered(store: Store, ingest: Ingest) -> None:
    snap = _removed_line(ingest, store)
    removed = next(item for item in _latest(snap).line_items if item.quantity == 0)
    page = _card(snap)
    assert f"{removed.ordered_quantity}x {removed.title}" not in page
    assert f"{removed.title}: removed" in page or removed.title not in page


# --- 4. the summary's CRM line when only the owner is shown --------------------------------------


def _crm_snapshot(ingest: Ingest, store: Store) -> Snapshot:
    contact = hubspot_contact(
        "501", EMAIL, "Hana", "Old", lifecyclestage="customer", hubspot_owner_id="77"
    )
    owner = {
        "id": "77",
        "email": "jordan@acme.example",
        "firstName": "Jordan",
        "lastName": "Reyes",
        "updatedAt": T0,
        "archived": False,
    }
    ingest(("hubspot", "owner", owner), contact)
    return snapshot_of(store, EMAIL)


def test_the_summary_keeps_a_shown_owner_when_the_stage_is_hidden(
    store: Store, ingest: Ingest
) -> None:
    snap = _crm_snapshot(ingest, store)
    assert snap.crm.owner
    assert snap.crm.lifecycle_stage
    assert not snap.crm.deals
    text = deterministic_summary(snap, _hiding(AGENT, "crm.stage"))
    (crm_line,) = [line for line in text.splitlines() if line.startswith("CRM:")]
    assert f"owner {snap.crm.owner}" in crm_line
    assert snap.crm.lifecycle_stage not in crm_line


def test_the_summary_drops_a_hidden_owner_and_keeps_the_stage(store: Store, ingest: Ingest) -> None:
    snap = _crm_snapshot(ingest, store)
    assert snap.crm.owner
    assert snap.crm.lifecycle_stage
    text = deterministic_summary(snap, _hiding(AGENT, "crm.owner"))
    assert snap.crm.owner not in text
    assert f"CRM: {snap.crm.lifecycle_stage}." in text


def test_the_summary_says_nothing_of_crm_when_all_of_it_is_hidden(
    store: Store, ingest: Ingest
) -> None:
    snap = _crm_snapshot(ingest, store)
    text = deterministic_summary(snap, _hiding(AGENT, "crm.stage", "crm.owner", "crm.deals"))
    assert "CRM" not in text
