"""What the snapshot says about shipping orders and open tickets."""

from __future__ import annotations

import msgspec

from context_service.audience import ContextRequest, FieldPolicy, build_context
from context_service.models import Snapshot
from context_service.snapshot import lookup
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import shopify_customer, shopify_order, zendesk_ticket, zendesk_user
from tests.snapshots import signal_codes

# --- Fulfilment ---------------------------------------------------------------------------------


def test_sheet_order_without_fulfillment_column_is_not_reported_unfulfilled(store: Store) -> None:
    from context_service.sheets.mapping import WithSheetSources, row_payloads
    from context_service.snapshot.links import DashboardLinks
    from context_service.sync import IngestContext, RawPayload, ingest_batch
    from context_service.wiring import default_mappers

    ctx = IngestContext(mappers=WithSheetSources(default_mappers()), links=DashboardLinks())
    row = {
        "email": "uf@example.com",
        "name": "Uma Fe",
        "order_number": "7",
        "order_total": "10.00",
        "currency": "USD",
        "order_status": "paid",
        "ordered_at": "2026-01-01",
    }
    payloads = [RawPayload("crm-export", k, p) for k, p in row_payloads("crm-export", row)]
    ingest_batch(store, payloads, ctx)
    snap = snapshot_of(store, "uf@example.com")
    assert snap.commerce.orders[0].fulfillment_status is None  # nothing known about shipping
    assert "order_unfulfilled" not in signal_codes(snap), [s.message for s in snap.signals]


def test_shopify_order_without_fulfillment_field_is_not_reported_unfulfilled(
    store: Store, ingest: Ingest
) -> None:
    o = shopify_order(1, 1, "#1001", "2026-01-01T00:00:00Z", total="10.00")
    del o[2]["fulfillment_status"]  # absent field: the mapper keeps it unknown (None)
    ingest(shopify_customer(1, "uf@example.com", "Uma", "Fe"), o)
    snap = snapshot_of(store, "uf@example.com")
    assert snap.commerce.orders[0].fulfillment_status is None
    assert "order_unfulfilled" not in signal_codes(snap), [s.message for s in snap.signals]


def test_summary_says_fulfilment_is_unknown_rather_than_unfulfilled(
    store: Store, ingest: Ingest
) -> None:
    o = shopify_order(1, 1, "#1001", "2026-01-01T00:00:00Z", total="10.00")
    del o[2]["fulfillment_status"]
    ingest(shopify_customer(1, "uf@example.com", "Uma", "Fe"), o)
    summary = snapshot_of(store, "uf@example.com").summary
    assert summary.endswith("latest #1001 placed 2026-01-01, paid, fulfilment unknown."), summary


def test_paid_unshipped_order_is_not_fulfilled_yet(store: Store, ingest: Ingest) -> None:
    o = shopify_order(1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="unfulfilled")
    ingest(shopify_customer(1, "un@example.com", "Una", "Ne"), o)
    snap = snapshot_of(store, "un@example.com")
    msg = next(s.message for s in snap.signals if s.code == "order_unfulfilled")
    assert msg == "Order #1001 placed 2026-01-01 is paid but not fulfilled yet"


def test_partially_fulfilled_order_is_called_partly_fulfilled(store: Store, ingest: Ingest) -> None:
    o = shopify_order(1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="partial", total="50.00")
    o[2]["fulfillments"] = [
        {
            "status": "success",
            "tracking_company": "UPS",
            "tracking_number": "1Z999",
            "shipment_status": "in_transit",
        }
    ]
    ingest(shopify_customer(1, "pf@example.com", "Pia", "Fo"), o)
    snap = snapshot_of(store, "pf@example.com")
    msg = next(s.message for s in snap.signals if s.code == "order_unfulfilled")
    assert "not fulfilled yet" not in msg, msg
    assert msg == "Order #1001 placed 2026-01-01 is paid but only partly fulfilled"


def test_partially_refunded_unshipped_order_still_warns(store: Store, ingest: Ingest) -> None:
    o = shopify_order(
        1, 1, "#1001", "2026-01-01T00:00:00Z", financial="partially_refunded", total="50.00"
    )
    o[2]["refunds"] = [
        {
            "id": 11,
            "created_at": "2026-01-02T00:00:00Z",
            "transactions": [{"kind": "refund", "status": "success", "amount": "10.00"}],
        }
    ]
    ingest(shopify_customer(1, "pr@example.com", "Pat", "Ro"), o)
    snap = snapshot_of(store, "pr@example.com")
    assert snap.commerce.orders[0].fulfillment_status == "unfulfilled"
    assert "order_unfulfilled" in signal_codes(snap), [s.message for s in snap.signals]


def test_fully_refunded_unshipped_order_does_not_warn(store: Store, ingest: Ingest) -> None:
    o = shopify_order(1, 1, "#1001", "2026-01-01T00:00:00Z", financial="refunded")
    ingest(shopify_customer(1, "fr@example.com", "Fay", "Ro"), o)
    assert "order_unfulfilled" not in signal_codes(snapshot_of(store, "fr@example.com"))


# --- Support ------------------------------------------------------------------------------------


def test_open_tickets_signal_counts_all_open_tickets(store: Store, ingest: Ingest) -> None:
    tickets = [zendesk_ticket(100 + i, 3, f"Question {i}") for i in range(12)]
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"), *tickets)
    snap = snapshot_of(store, "ola@example.com")
    assert snap.support.open_count == 12
    assert len(snap.support.tickets) == 10
    msg = next(s.message for s in snap.signals if s.code == "open_tickets")
    assert msg.startswith("12 open ticket(s)"), msg


def test_a_chatbot_that_sees_three_tickets_still_reads_how_many_are_open(
    store: Store, ingest: Ingest
) -> None:
    tickets = [zendesk_ticket(100 + i, 3, f"Question {i}") for i in range(5)]
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"), *tickets)
    snap = msgspec.json.decode(lookup.by_email(store.conn, "ola@example.com").json, type=Snapshot)
    view = FieldPolicy().view("chatbot", None)
    body = build_context(snap, ContextRequest("chatbot", "text", None), view).body
    assert "5 open ticket(s)" in body
    assert body.count("Ticket 10") == 3  # the three it shows


def test_a_spreadsheet_ticket_and_order_say_where_they_came_from(store: Store) -> None:
    """The signals named the vendor each kind usually comes from: an open ticket from a
    helpdesk export read as Zendesk's, an order from a CRM export as Shopify's."""
    from context_service.sheets.mapping import WithSheetSources, row_payloads
    from context_service.snapshot.links import DashboardLinks
    from context_service.sync import IngestContext, RawPayload, ingest_batch
    from context_service.wiring import default_mappers

    ctx = IngestContext(mappers=WithSheetSources(default_mappers()), links=DashboardLinks())
    row = {
        "email": "sh@example.com",
        "name": "Sam Hill",
        "ticket_id": "T-7",
        "ticket_subject": "Broken lamp",
        "ticket_status": "open",
        "order_number": "7",
        "order_total": "10.00",
        "currency": "USD",
        "order_status": "paid",
        "fulfillment_status": "unfulfilled",
        "ordered_at": "2026-01-01",
    }
    payloads = [
        RawPayload("helpdesk-export", k, p) for k, p in row_payloads("helpdesk-export", row)
    ]
    ingest_batch(store, payloads, ctx)
    snap = snapshot_of(store, "sh@example.com")
    sources = {s.code: s.source for s in snap.signals}
    assert sources["open_tickets"] == "helpdesk-export", snap.signals
    assert sources["order_unfulfilled"] == "helpdesk-export", snap.signals
