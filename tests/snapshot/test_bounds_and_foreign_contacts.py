"""Snapshot assembly: a bounded stored snapshot with exact totals, no other
customer's contact details in free text, and no bidirectional controls in stored text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from context_service.audience import count_tokens
from context_service.models import (
    BillingSection,
    Snapshot,
    Subscription,
    SupportSection,
    Ticket,
)
from context_service.snapshot import lookup
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.quoting import strip_bidi_controls
from context_service.snapshot.render import render_text
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.wiring import default_mappers
from tests.conftest import Ingest
from tests.payloads import (
    hubspot_contact,
    shopify_customer,
    shopify_order,
    stripe_charge,
    stripe_customer,
    stripe_dispute,
    stripe_invoice,
    stripe_subscription,
    zendesk_ticket,
    zendesk_user,
)
from tests.review_fixtures import AUTH, app_client
from tests.snapshots import bare_snapshot

EMAIL = "ivy@example.com"
# Embedding, override and isolate controls: LRE RLE PDF LRO RLO, LRI RLI FSI PDI.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _busy_customer(orders: int) -> list[tuple[str, str, dict[str, Any]]]:
    """One customer with ``orders`` orders (every seventh one cancelled), and as many
    subscriptions, disputes and tickets as a fifth of that, merged from four sources."""
    items = [
        shopify_customer(1, EMAIL, "Ivy", "Chen"),
        stripe_customer("cus_1", EMAIL, "Ivy Chen"),
        hubspot_contact("h1", EMAIL, "Ivy", "Chen"),
        zendesk_user(7, "Ivy Chen", EMAIL),
    ]
    for i in range(1, orders + 1):
        order = shopify_order(
            i, 1, f"#{1000 + i}", _day(i), fulfillment="fulfilled", total=f"{i}.25"
        )
        if i % 7 == 0:
            order[2]["cancelled_at"] = _day(i)
        items.append(order)
    for i in range(orders // 5):
        items.append(stripe_subscription(f"sub_{i}", "cus_1", "canceled"))
        items.append(stripe_charge(f"ch_{i}", "cus_1"))
        items.append(stripe_dispute(f"dp_{i}", f"ch_{i}"))
        items.append(zendesk_ticket(100 + i, 7, f"Question {i}", "open" if i % 2 else "solved"))
    return items


def _day(i: int) -> str:
    return f"{2020 + i // 300}-{1 + i // 28 % 10:02d}-{1 + i % 28:02d}T00:00:00Z"


def _stored(tmp_path: Path, items: list[tuple[str, str, dict[str, Any]]], name: str) -> Any:
    store = Store(tmp_path / f"{name}.db")
    ctx = IngestContext(
        mappers=default_mappers(),
        links=DashboardLinks(shopify_shop="context-demo", hubspot_portal_id="4242424"),
    )
    ingest_batch(store, [RawPayload(*item) for item in items], ctx)
    row = lookup.by_email(store.conn, EMAIL)
    store.close()
    return row


def _expected_total(orders: int) -> str:
    live = [Decimal(f"{i}.25") for i in range(1, orders + 1) if i % 7]
    return str(sum(live, Decimal(0)))


# ---- 1. the stored snapshot is bounded; its totals stay exact -----------------------------


def test_a_busy_customer_snapshot_does_not_grow_with_their_history(tmp_path: Path) -> None:
    small = _stored(tmp_path, _busy_customer(60), "small")
    big = _stored(tmp_path, _busy_customer(400), "big")
    # Only counts, totals and ids differ in length once the lists are capped.
    assert len(big.json) < len(small.json) * 1.2, (len(small.json), len(big.json))
    assert len(big.text) < len(small.text) * 1.2, (len(small.text), len(big.text))


def test_capped_lists_keep_exact_counts_and_totals(tmp_path: Path) -> None:
    snap = msgspec.json.decode(_stored(tmp_path, _busy_customer(400), "big").json, type=Snapshot)
    assert snap.commerce.order_count == 400
    assert snap.commerce.total_spent == _expected_total(400)
    assert snap.support.open_count == sum(1 for i in range(80) if i % 2)
    assert len(snap.commerce.orders) < 400


def test_members_name_every_source_and_every_shown_activity(tmp_path: Path) -> None:
    snap = msgspec.json.decode(_stored(tmp_path, _busy_customer(400), "big").json, type=Snapshot)
    held = {(m.source, m.kind, m.external_id) for m in snap.members}
    assert {m.source for m in snap.members} == {"shopify", "stripe", "hubspot", "zendesk"}
    assert {("shopify", "order", o.external_id) for o in snap.commerce.orders} <= held
    assert {("zendesk", "ticket", t.external_id) for t in snap.support.tickets} <= held
    assert {("stripe", "dispute", d.external_id) for d in snap.billing.disputes} <= held
    shown = {o.external_id for o in snap.commerce.orders}
    orders_held = {m.external_id for m in snap.members if m.kind == "order"}
    assert orders_held == shown  # not all 400: a record link per order shown


def test_many_merged_records_keep_the_members_bounded(tmp_path: Path) -> None:
    def people(n: int) -> list[tuple[str, str, dict[str, Any]]]:
        items = [hubspot_contact("h1", EMAIL, "Ivy", "Chen")]
        items += [shopify_customer(i, EMAIL, "Ivy", "Chen") for i in range(1, n)]
        return items

    small = msgspec.json.decode(_stored(tmp_path, people(30), "s").json, type=Snapshot)
    big = msgspec.json.decode(_stored(tmp_path, people(200), "b").json, type=Snapshot)
    assert len(big.members) == len(small.members)
    assert {m.source for m in big.members} == {"shopify", "hubspot"}


def test_max_tokens_still_fits_and_keeps_the_exact_totals(tmp_path: Path) -> None:
    orders_only = [i for i in _busy_customer(400) if i[1] in {"customer", "order"}]
    _stored(tmp_path, orders_only, "api")
    store = Store(tmp_path / "api.db")
    with app_client(store.path, store=store) as client:
        response = client.get(
            "/v1/context",
            params={"email": EMAIL, "audience": "agent", "format": "text", "max_tokens": 300},
            headers=AUTH,
        )
    store.close()
    assert response.status_code == 200, response.text
    assert count_tokens(response.text) <= 300
    assert _expected_total(400) in response.text
    assert "400 orders" in response.text


# ---- 2. another customer's email or phone in free text --------------------------------------

OTHER_EMAIL = "bob.other@elsewhere.org"
OTHER_PHONE = "(212) 555-0199"


def _mentions(store: Store, ingest: Ingest, text: str) -> tuple[str, str]:
    ticket = zendesk_ticket(10, 3, f"Refund for my friend {OTHER_EMAIL}")
    ticket[2]["description"] = text
    order = shopify_order(5, 1, "#1005", "2026-02-01T00:00:00Z")
    order[2]["note"] = text
    ingest(
        zendesk_user(3, "Ola Nord", email="ola@example.com", phone="+1 415 555 0142"),
        shopify_customer(1, "ola@example.com", "Ola", "Nord"),
        ticket,
        order,
    )
    stored = lookup.by_email(store.conn, "ola@example.com")
    return stored.json.decode(), stored.text


def test_another_customers_email_and_phone_are_never_stored(store: Store, ingest: Ingest) -> None:
    text = f"Also charge my neighbour {OTHER_EMAIL} at {OTHER_PHONE} or 212.555.0199"
    for form in _mentions(store, ingest, text):
        assert OTHER_EMAIL not in form
        assert "555-0199" not in form
        assert "555.0199" not in form
        assert "[email removed]" in form
        assert "[phone removed]" in form


def test_the_customers_own_contacts_and_ordinary_numbers_stay(store: Store, ingest: Ingest) -> None:
    text = "Reach me at OLA@example.com or 415-555-0142 about order #1005 of 2026-02-01 (49.00)"
    for form in _mentions(store, ingest, text):
        assert "OLA@example.com" in form
        assert "415-555-0142" in form
        assert "order #1005 of 2026-02-01 (49.00)" in form


# ---- 3. bidirectional override characters -------------------------------------------------


def test_bidi_controls_never_reach_stored_text(store: Store, ingest: Ingest) -> None:
    ticket = zendesk_ticket(10, 3, "\u202edevorppa dnufer\u202c please")
    ticket[2]["description"] = "See \u2067note\u2069 \u202b here"
    order = shopify_order(5, 1, "#1005", "2026-02-01T00:00:00Z")
    order[2]["note"] = "gift \u202dwrap\u202c"
    ingest(
        zendesk_user(3, "Ola \u202eNord", email="ola@example.com"),
        shopify_customer(1, "ola@example.com", "Ola\u2066", "Nord"),
        ticket,
        order,
    )
    stored = lookup.by_email(store.conn, "ola@example.com")
    for form in (stored.json.decode(), stored.text):
        assert not set(BIDI) & set(form)
    assert "devorppa dnufer please" in stored.text


@pytest.mark.parametrize("char", list(BIDI))
def test_strip_bidi_controls_removes_each_and_keeps_the_rest(char: str) -> None:
    assert strip_bidi_controls(f"a{char}b\u05d0\u200f") == "ab\u05d0\u200f"


def test_rendering_an_older_stored_snapshot_shows_no_bidi_controls() -> None:
    """A snapshot stored before the controls were stripped renders without them."""
    ticket = Ticket(external_id="9", status="open", title="\u202edevorppa dnufer\u202c")
    sub = Subscription(external_id="sub_1", status="active", plan="Pro\u2066 plan\u2069")
    snap = bare_snapshot(
        support=SupportSection(open_count=1, tickets=[ticket]),
        billing=BillingSection(subscriptions=[sub]),
    )
    text = render_text(snap)
    assert not set(BIDI) & set(text)
    assert "devorppa dnufer" in text
    assert "Pro plan" in text


# ---- a card number in a refund note ---------------------------------------------------------


def test_a_card_number_in_a_refund_note_is_never_stored(store: Store, ingest: Ingest) -> None:
    order = shopify_order(5, 1, "#1005", "2026-02-01T00:00:00Z", financial="partially_refunded")
    order[2]["refunds"] = [
        {
            "id": 77,
            "created_at": "2026-02-03T00:00:00Z",
            "note": "Refunded to 4242 4242 4242 4242 as asked",
            "transactions": [
                {"kind": "refund", "status": "success", "amount": "5.00", "currency": "USD"}
            ],
        }
    ]
    ingest(shopify_customer(1, "ola@example.com", "Ola", "Nord"), order)
    stored = lookup.by_email(store.conn, "ola@example.com").json.decode()
    assert "4242 4242 4242 4242" not in stored
    assert "[card number removed]" in stored


# ---- an older invoice whose payment failed ----------------------------------------------------


def test_an_unpaid_invoice_older_than_the_recent_ones_still_warns(
    store: Store, ingest: Ingest
) -> None:
    """Weekly invoices paid since do not hide the one whose payment failed two months ago."""
    unpaid = stripe_invoice("in_old", "cus_1", "open", attempts=4, remaining=4900)
    paid = [stripe_invoice(f"in_{i}", "cus_1", "paid", attempts=1, remaining=0) for i in range(9)]
    for week, invoice in enumerate([unpaid, *paid]):
        invoice[2]["created"] += week * 7 * 86400
    ingest(stripe_customer("cus_1", EMAIL, "Ivy Chen"), unpaid, *paid)
    snap = msgspec.json.decode(lookup.by_email(store.conn, EMAIL).json, type=Snapshot)
    assert "in_old" in {i.external_id for i in snap.billing.invoices}
    assert "invoice_payment_failed" in {s.code for s in snap.signals}
    created = [i.created_at or "" for i in snap.billing.invoices]
    assert created == sorted(created, reverse=True)  # still newest first
    assert len(snap.billing.invoices) < 10
