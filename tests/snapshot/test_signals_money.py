"""What the snapshot says about money: refunds, totals spent, currencies, subscriptions."""

from __future__ import annotations

from typing import Any

from context_service.audience import ContextRequest, FieldPolicy, build_context
from context_service.snapshot import lookup
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import (
    shopify_customer,
    shopify_order,
    stripe_charge,
    stripe_customer,
    stripe_invoice,
    stripe_subscription,
)
from tests.snapshots import signal_codes


def _refund(rid: int, amount: str, currency: str | None = "USD") -> dict[str, Any]:
    transaction = {"kind": "refund", "status": "success", "amount": amount}
    if currency:
        transaction["currency"] = currency
    return {"id": rid, "created_at": "2026-01-05T00:00:00Z", "transactions": [transaction]}


# --- Refunds on card payments and failed invoices ---------------------------------------------


def test_kwd_charge_without_refund_raises_no_refund_signal(store: Store, ingest: Ingest) -> None:
    ch = stripe_charge("ch_1", "cus_1")
    ch[2].update(currency="kwd", amount=12345, amount_refunded=0, refunded=False, disputed=False)
    ingest(stripe_customer("cus_1", "kw@example.com", "Kay Wu"), ch)
    snap = snapshot_of(store, "kw@example.com")
    assert snap.billing.charges[0].amount_refunded == "0.000"
    assert "refund_issued" not in signal_codes(snap), [s.message for s in snap.signals]


def test_partly_refunded_kwd_charge_states_the_refunded_amount(
    store: Store, ingest: Ingest
) -> None:
    ch = stripe_charge("ch_1", "cus_1")
    ch[2].update(currency="kwd", amount=12345, amount_refunded=2000, refunded=False)
    ingest(stripe_customer("cus_1", "kw@example.com", "Kay Wu"), ch)
    snap = snapshot_of(store, "kw@example.com")
    msg = next(s.message for s in snap.signals if s.code == "refund_issued")
    assert msg == "Card payment refunded (2.000 KWD)"


def test_kwd_invoice_with_nothing_left_to_pay_is_not_a_failed_payment(
    store: Store, ingest: Ingest
) -> None:
    inv = stripe_invoice("in_1", "cus_1", "open", 1, 0)
    inv[2]["currency"] = "kwd"
    ingest(stripe_customer("cus_1", "kw@example.com", "Kay Wu"), inv)
    snap = snapshot_of(store, "kw@example.com")
    assert snap.billing.invoices[0].amount_remaining == "0.000"
    assert "invoice_payment_failed" not in signal_codes(snap)


def test_refund_signal_states_the_total_refunded(store: Store, ingest: Ingest) -> None:
    o = shopify_order(
        1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="fulfilled", total="100.00"
    )
    o[2]["financial_status"] = "partially_refunded"
    o[2]["refunds"] = [_refund(11, "5.00"), _refund(12, "30.00")]
    ingest(shopify_customer(1, "rf@example.com", "Rae", "Fox"), o)
    snap = snapshot_of(store, "rf@example.com")
    msg = next(s.message for s in snap.signals if s.code == "refund_issued")
    assert "35.00 USD" in msg, msg


def test_refunds_in_two_currencies_are_stated_per_currency(store: Store, ingest: Ingest) -> None:
    o = shopify_order(
        1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="fulfilled", total="100.00"
    )
    o[2]["financial_status"] = "partially_refunded"
    o[2]["refunds"] = [_refund(11, "5.00", None), _refund(12, "4.00", "EUR"), _refund(13, "1.00")]
    ingest(shopify_customer(1, "rf@example.com", "Rae", "Fox"), o)
    snap = snapshot_of(store, "rf@example.com")
    msg = next(s.message for s in snap.signals if s.code == "refund_issued")
    assert msg == "Order #1001 was partially_refunded (6.00 USD, 4.00 EUR)"


# --- Total spent --------------------------------------------------------------------------------


def _kwd_order(oid: int, name: str, created_at: str, total: str) -> tuple[str, str, dict[str, Any]]:
    o = shopify_order(oid, 1, name, created_at, fulfillment="fulfilled", total=total)
    o[2]["currency"] = "KWD"
    return o


def test_kwd_order_total_keeps_three_decimals(store: Store, ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, "kd@example.com", "Kim", "Dee"),
        _kwd_order(1, "#1001", "2026-01-01T00:00:00Z", "10.125"),
        _kwd_order(2, "#1002", "2026-02-01T00:00:00Z", "5.250"),
    )
    snap = snapshot_of(store, "kd@example.com")
    assert snap.commerce.total_spent == "15.375"


def test_kwd_total_of_round_amounts_has_three_decimal_places(store: Store, ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, "kd@example.com", "Kim", "Dee"),
        _kwd_order(1, "#1001", "2026-01-01T00:00:00Z", "10.000"),
        _kwd_order(2, "#1002", "2026-02-01T00:00:00Z", "5.500"),
    )
    assert snapshot_of(store, "kd@example.com").commerce.total_spent == "15.500"


def test_single_kwd_order_summary_total_matches_the_order(store: Store, ingest: Ingest) -> None:
    o = _kwd_order(1, "#1001", "2026-01-01T00:00:00Z", "12.345")
    ingest(shopify_customer(1, "kd@example.com", "Kim", "Dee"), o)
    snap = snapshot_of(store, "kd@example.com")
    assert "12.345 KWD in total" in snap.summary, snap.summary


def test_two_decimal_currency_total_keeps_two_places(store: Store, ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, "us@example.com", "Uli", "Sa"),
        shopify_order(1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="fulfilled", total="10"),
        shopify_order(2, 1, "#1002", "2026-02-01T00:00:00Z", fulfillment="fulfilled", total="4.5"),
    )
    assert snapshot_of(store, "us@example.com").commerce.total_spent == "14.50"


def test_total_over_mixed_currencies_says_which_orders_it_covers(
    store: Store, ingest: Ingest
) -> None:
    o1 = shopify_order(
        1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="fulfilled", total="40.00"
    )
    o2 = shopify_order(
        2, 1, "#1002", "2026-02-01T00:00:00Z", fulfillment="fulfilled", total="60.00"
    )
    o3 = shopify_order(
        3, 1, "#1003", "2026-03-01T00:00:00Z", fulfillment="fulfilled", total="900.00"
    )
    o3[2]["currency"] = "EUR"
    ingest(shopify_customer(1, "mc@example.com", "Mo", "Cee"), o1, o2, o3)
    snap = snapshot_of(store, "mc@example.com")
    assert (snap.commerce.order_count, snap.commerce.total_spent) == (3, "100.00")
    assert snap.commerce.currency == "USD"
    assert "Orders: 3, 100.00 USD in total" not in snap.summary, snap.summary
    assert "Orders: 3; 100.00 USD across 2 USD orders; latest #1003" in snap.summary
    assert snap.commerce.total_order_count == 2
    stored_text = lookup.by_email(store.conn, "mc@example.com").text
    assert "## Orders (3; 100.00 USD across 2 of them)" in stored_text
    view = FieldPolicy().view("agent", None)
    agent = build_context(snap, ContextRequest("agent", "text", None), view).body
    assert "3 orders, 100 USD across 2 USD orders" in agent


def test_chatbot_summary_of_mixed_currencies_says_which_orders_the_total_covers(
    store: Store, ingest: Ingest
) -> None:
    from context_service.audience.policy import FieldPolicy
    from context_service.audience.summary import deterministic_summary

    o1 = shopify_order(
        1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="fulfilled", total="40.00"
    )
    o2 = shopify_order(2, 1, "#1002", "2026-02-01T00:00:00Z", fulfillment="fulfilled", total="9.00")
    o2[2]["currency"] = "EUR"
    o3 = shopify_order(3, 1, "#1003", "2026-03-01T00:00:00Z", total="5.00")
    o4 = shopify_order(4, 1, "#1004", "2026-04-01T00:00:00Z", total="7.00")
    o4[2]["cancelled_at"] = "2026-04-02T00:00:00Z"  # cancelled: in no total
    ingest(shopify_customer(1, "mc@example.com", "Mo", "Cee"), o1, o2, o3, o4)
    snap = snapshot_of(store, "mc@example.com")
    text = deterministic_summary(snap, FieldPolicy().view("chatbot", None))
    assert "Orders: 4; 45.00 USD across 2 USD orders; latest #1004" in text, text
    assert text.splitlines()[1] == snap.summary.splitlines()[1]


def _twelve_fulfilled_orders() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        shopify_order(i, 1, f"#{1000 + i}", f"2026-01-{i:02d}T00:00:00Z", fulfillment="fulfilled")
        for i in range(1, 13)
    ]


def test_total_across_more_orders_than_listed_counts_all_orders_in_its_currency(
    store: Store, ingest: Ingest
) -> None:
    orders = _twelve_fulfilled_orders()
    orders[-1][2]["currency"] = "EUR"  # the newest, listed; older USD orders are not all listed
    ingest(shopify_customer(1, "mc@example.com", "Mo", "Cee"), *orders)
    snap = snapshot_of(store, "mc@example.com")
    assert (snap.commerce.order_count, len(snap.commerce.orders)) == (12, 10)
    assert "Orders: 12; 110.00 USD across 11 USD orders;" in snap.summary, snap.summary


def test_an_audience_summary_counts_the_orders_the_total_covers_beyond_those_listed(
    store: Store, ingest: Ingest
) -> None:
    from context_service.audience.policy import FieldPolicy
    from context_service.audience.summary import deterministic_summary

    orders = _twelve_fulfilled_orders()
    orders[-1][2]["currency"] = "EUR"
    ingest(shopify_customer(1, "mc@example.com", "Mo", "Cee"), *orders)
    text = deterministic_summary(
        snapshot_of(store, "mc@example.com"), FieldPolicy().view("agent", None)
    )
    assert "Orders: 12; 110.00 USD across 11 USD orders;" in text, text


def test_cancelled_order_in_another_currency_leaves_the_total_complete(
    store: Store, ingest: Ingest
) -> None:
    o1 = shopify_order(
        1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="fulfilled", total="40.00"
    )
    o2 = shopify_order(2, 1, "#1002", "2026-02-01T00:00:00Z", total="900.00")
    o2[2].update(currency="EUR", cancelled_at="2026-02-02T00:00:00Z")
    ingest(shopify_customer(1, "mc@example.com", "Mo", "Cee"), o1, o2)
    snap = snapshot_of(store, "mc@example.com")
    assert "Orders: 2, 40.00 USD in total" in snap.summary, snap.summary


def test_fully_refunded_order_is_not_money_spent(store: Store, ingest: Ingest) -> None:
    o = shopify_order(
        1,
        1,
        "#1004",
        "2026-01-01T00:00:00Z",
        financial="refunded",
        fulfillment="fulfilled",
        total="79.36",
    )
    o[2]["refunds"] = [_refund(11, "79.36", None)]
    ingest(shopify_customer(1, "tg@example.com", "Tom", "Ga"), o)
    snap = snapshot_of(store, "tg@example.com")
    assert snap.commerce.total_spent == "0.00", snap.summary


def test_partial_refunds_in_the_totals_currency_are_taken_off_the_total(
    store: Store, ingest: Ingest
) -> None:
    o1 = shopify_order(
        1, 1, "#1001", "2026-01-01T00:00:00Z", fulfillment="fulfilled", total="50.00"
    )
    o1[2]["financial_status"] = "partially_refunded"
    o1[2]["refunds"] = [_refund(11, "10.00"), _refund(12, "3.00", "EUR")]
    o2 = shopify_order(2, 1, "#1002", "2026-02-01T00:00:00Z", fulfillment="fulfilled", total="5.00")
    ingest(shopify_customer(1, "pr@example.com", "Pat", "Ro"), o1, o2)
    assert snapshot_of(store, "pr@example.com").commerce.total_spent == "45.00"


# --- Subscriptions ------------------------------------------------------------------------------


def test_old_cancellation_does_not_warn_when_the_plan_is_active_again(
    store: Store, ingest: Ingest
) -> None:
    old = stripe_subscription("sub_old", "cus_1", "canceled")
    old[2].update(created=1704067200, canceled_at=1709251200)  # 2024-01-01, canceled 2024-03-01
    new = stripe_subscription("sub_new", "cus_1", "active")
    new[2]["created"] = 1767225600  # 2026-01-01
    ingest(stripe_customer("cus_1", "rs@example.com", "Ray Su"), old, new)
    snap = snapshot_of(store, "rs@example.com")
    assert [s.status for s in snap.billing.subscriptions] == ["active", "canceled"]
    assert "subscription_canceled" not in signal_codes(snap), [s.message for s in snap.signals]


def test_cancellation_after_the_other_subscription_started_still_warns(
    store: Store, ingest: Ingest
) -> None:
    running = stripe_subscription("sub_a", "cus_1", "active", plan="Basic")
    running[2]["created"] = 1704067200  # 2024-01-01
    ended = stripe_subscription("sub_b", "cus_1", "canceled")
    ended[2].update(created=1735689600, canceled_at=1767225600)  # canceled 2026-01-01
    ingest(stripe_customer("cus_1", "rs@example.com", "Ray Su"), running, ended)
    msg = next(s.message for s in snapshot_of(store, "rs@example.com").signals)
    assert msg == "Pro subscription was canceled on 2026-01-01"


def test_cancellation_without_a_live_subscription_still_warns(store: Store, ingest: Ingest) -> None:
    old = stripe_subscription("sub_old", "cus_1", "canceled")
    old[2].update(created=1704067200, canceled_at=1709251200)
    ingest(stripe_customer("cus_1", "rs@example.com", "Ray Su"), old)
    assert "subscription_canceled" in signal_codes(snapshot_of(store, "rs@example.com"))
