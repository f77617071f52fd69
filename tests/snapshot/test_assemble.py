"""Snapshots: sections, signals, conflicts, freshness and versions, built from real ingests."""

from __future__ import annotations

from typing import Any

import msgspec

from context_service.snapshot import lookup
from context_service.store import Store
from tests.audience.helpers import snapshot_of
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
from tests.snapshots import signal_codes


def test_activity_arriving_before_its_customer_is_attached_later(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_order(500, 1, "#1001", "2026-03-01T00:00:00Z"))
    ingest(shopify_customer(1, "ivy@example.com", "Ivy", "Chen"))
    snap = snapshot_of(store, "ivy@example.com")
    assert [o.title for o in snap.commerce.orders] == ["#1001"]
    assert "order_unfulfilled" in signal_codes(snap)


def test_orders_are_newest_first_and_totals_add_up(store: Store, ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, "ivy@example.com", "Ivy", "Chen"),
        shopify_order(
            1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="fulfilled", total="10.50"
        ),
        shopify_order(2, 1, "#1002", "2026-03-01T00:00:00Z", fulfillment="fulfilled", total="4.50"),
    )
    snap = snapshot_of(store, "ivy@example.com")
    assert [o.title for o in snap.commerce.orders] == ["#1002", "#1001"]
    assert snap.commerce.total_spent == "15.00"
    assert "order_unfulfilled" not in signal_codes(snap)


def test_billing_signals_past_due_failed_invoice_and_open_dispute(
    store: Store, ingest: Ingest
) -> None:
    ingest(
        stripe_customer("cus_1", "max@example.com", "Max Roe"),
        stripe_subscription("sub_1", "cus_1", "past_due"),
        stripe_invoice("in_1", "cus_1", "open", attempts=2, remaining=4900),
        stripe_charge("ch_1", "cus_1"),
        stripe_dispute("dp_1", "ch_1"),
    )
    snap = snapshot_of(store, "max@example.com")
    assert {"subscription_past_due", "invoice_payment_failed", "dispute_open"} <= signal_codes(snap)
    assert snap.signals[0].severity == "critical"
    assert [d.external_id for d in snap.billing.disputes] == ["dp_1"]


def test_paid_invoice_clears_the_failed_payment_signal(store: Store, ingest: Ingest) -> None:
    ingest(
        stripe_customer("cus_1", "max@example.com", "Max Roe"),
        stripe_invoice("in_1", "cus_1", "open", attempts=1, remaining=4900),
    )
    assert "invoice_payment_failed" in signal_codes(snapshot_of(store, "max@example.com"))
    ingest(stripe_invoice("in_1", "cus_1", "paid", attempts=2, remaining=0))
    assert "invoice_payment_failed" not in signal_codes(snapshot_of(store, "max@example.com"))


def test_conflicting_names_are_reported_with_the_rule(store: Store, ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, "rob@example.com", "Bob", "Smith", "+1 212 555 0142"),
        hubspot_contact("7", "rob@example.com", "Robert", "Smith", "+1 212 555 0143"),
    )
    snap = snapshot_of(store, "rob@example.com")
    assert snap.identity.name == "Robert Smith"
    fields = {c.field: c for c in snap.conflicts}
    assert fields["name"].chosen == "Robert Smith"
    assert "hubspot" in fields["name"].rule
    assert {v.source for v in fields["name"].values} == {"shopify", "hubspot"}
    assert fields["phone"].chosen == "+12125550142"


def test_same_name_with_different_case_and_accents_is_no_conflict(
    store: Store, ingest: Ingest
) -> None:
    ingest(
        shopify_customer(1, "tomas@example.com", "Tomás", "García"),
        zendesk_user(3, "tomas garcia", email="tomas@example.com"),
    )
    assert snapshot_of(store, "tomas@example.com").conflicts == []


def test_version_bumps_on_every_change_and_freshness_per_source(
    store: Store, ingest: Ingest
) -> None:
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"))
    first = snapshot_of(store, "ola@example.com")
    ingest(zendesk_ticket(10, 3, "Where is my parcel?"))
    second = snapshot_of(store, "ola@example.com")
    assert second.version > first.version
    assert second.support.open_count == 1
    assert [f.source for f in second.freshness] == ["zendesk"]


def test_card_details_beyond_brand_and_last4_never_reach_the_snapshot(
    store: Store, ingest: Ingest
) -> None:
    ingest(stripe_customer("cus_1", "max@example.com", "Max Roe"), stripe_charge("ch_1", "cus_1"))
    raw: dict[str, Any] = msgspec.json.decode(lookup.by_email(store.conn, "max@example.com").json)
    text = msgspec.json.encode(raw).decode()
    assert "4242" in text
    assert "Xt5EWLLDS7FJjR1c" not in text
    assert "exp_month" not in text


def test_summary_names_the_person_and_what_needs_attention(store: Store, ingest: Ingest) -> None:
    ingest(
        stripe_customer("cus_1", "max@example.com", "Max Roe"),
        stripe_subscription("sub_1", "cus_1", "past_due"),
    )
    summary = snapshot_of(store, "max@example.com").summary
    assert summary.startswith("Max Roe <max@example.com>")
    assert "Pro subscription is past_due" in summary


def test_paid_latest_invoice_means_the_subscription_is_no_longer_past_due(
    store: Store, ingest: Ingest
) -> None:
    sub = stripe_subscription("sub_1", "cus_1", "past_due")
    sub[2]["latest_invoice"] = "in_9"
    ingest(
        stripe_customer("cus_1", "max@example.com", "Max Roe"),
        sub,
        stripe_invoice("in_9", "cus_1", "open", attempts=1, remaining=4900),
    )
    assert "subscription_past_due" in signal_codes(snapshot_of(store, "max@example.com"))
    ingest(stripe_invoice("in_9", "cus_1", "paid", attempts=2, remaining=0))
    snap = snapshot_of(store, "max@example.com")
    assert "subscription_past_due" not in signal_codes(snap)
    assert snap.billing.subscriptions[0].status == "active"
