"""The snapshot tells a bot what money moved and what will happen, not what a vendor's bare
status suggests (a review of the snapshot's facts, session 28):

- a Shopify test order (bogus gateway) is no order of the customer's: not counted, not
  "paid but not fulfilled";
- a Shopify refund that gave no money back (restock only, or its transaction failed) is no
  refund: the bot must not say money is on its way;
- a Stripe charge not captured is a hold on the card, not a payment;
- the summary of a plan cancelled at period end says it ends, not only "active".
"""

from __future__ import annotations

from typing import Any

from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import (
    shopify_customer,
    shopify_order,
    stripe_charge,
    stripe_customer,
    stripe_subscription,
)
from tests.snapshots import signal_codes

EMAIL = "ann.lee@example.com"


def _order(oid: int, name: str, total: str, **fields: Any) -> tuple[str, str, dict[str, Any]]:
    source, kind, payload = shopify_order(oid, 1, name, "2026-11-20T10:00:00Z", total=total)
    payload.update(fields)
    return source, kind, payload


def test_a_test_order_is_not_counted_nor_warned_about(store: Store, ingest: Ingest) -> None:
    real = _order(11, "#1001", "40.00", fulfillment_status="fulfilled", test=False)
    test = _order(12, "#1002", "1000.00", test=True)  # paid by the bogus gateway, unfulfilled
    ingest(shopify_customer(1, EMAIL, "Ann", "Lee"), real, test)
    snap = snapshot_of(store, EMAIL)
    assert [o.title for o in snap.commerce.orders] == ["#1001"]
    assert snap.commerce.order_count == 1
    assert snap.commerce.total_spent == "40.00"
    assert "order_unfulfilled" not in signal_codes(snap), [s.message for s in snap.signals]


def _refund(rid: int, *transactions: dict[str, Any]) -> dict[str, Any]:
    return {"id": rid, "created_at": "2026-11-21T10:00:00Z", "transactions": list(transactions)}


def test_a_refund_that_gave_no_money_back_is_no_refund(store: Store, ingest: Ingest) -> None:
    failed = _refund(61, {"kind": "refund", "status": "failure", "amount": "50.00"})
    restock_only = _refund(62)
    given = _refund(63, {"kind": "refund", "status": "success", "amount": "5.00"})
    ingest(
        shopify_customer(1, EMAIL, "Ann", "Lee"),
        _order(21, "#2001", "50.00", fulfillment_status="fulfilled", refunds=[failed]),
        _order(22, "#2002", "60.00", fulfillment_status="fulfilled", refunds=[restock_only]),
        _order(23, "#2003", "70.00", fulfillment_status="fulfilled", refunds=[given]),
    )
    snap = snapshot_of(store, EMAIL)
    refunds = {o.title: [r.amount for r in o.refunds] for o in snap.commerce.orders}
    assert refunds == {"#2001": [], "#2002": [], "#2003": ["5.00"]}
    refunded = [s.message for s in snap.signals if s.code == "refund_issued"]
    assert len(refunded) == 1, refunded
    assert "#2003" in refunded[0]


def test_a_charge_not_captured_is_a_hold_not_a_payment(store: Store, ingest: Ingest) -> None:
    source, kind, held = stripe_charge("ch_hold", "cus_1")
    held.update(captured=False, amount_captured=0, disputed=False)
    source2, kind2, taken = stripe_charge("ch_taken", "cus_1")
    taken.update(captured=True, amount_captured=4900, disputed=False)
    ingest(
        stripe_customer("cus_1", EMAIL, "Ann Lee"), (source, kind, held), (source2, kind2, taken)
    )
    statuses = {c.external_id: c.status for c in snapshot_of(store, EMAIL).billing.charges}
    assert statuses == {"ch_hold": "authorized", "ch_taken": "succeeded"}


def test_the_summary_says_a_plan_cancelled_at_period_end_ends(store: Store, ingest: Ingest) -> None:
    source, kind, ending = stripe_subscription("sub_1", "cus_1", "active", plan="Pro")
    ending["cancel_at_period_end"] = True
    ingest(stripe_customer("cus_1", EMAIL, "Ann Lee"), (source, kind, ending))
    summary = snapshot_of(store, EMAIL).summary
    assert "Billing: Pro (active, cancels at period end)." in summary, summary


def test_a_released_hold_is_no_refund(store: Store, ingest: Ingest) -> None:
    """Stripe reports a hold it let go as refunded in full: nothing was taken or paid back."""
    source, kind, released = stripe_charge("ch_released", "cus_1")
    released.update(captured=False, refunded=True, amount_refunded=4900, disputed=False)
    ingest(stripe_customer("cus_1", EMAIL, "Ann Lee"), (source, kind, released))
    snap = snapshot_of(store, EMAIL)
    (charge,) = snap.billing.charges
    assert (charge.status, charge.refunded, charge.amount_refunded) == ("released", False, None)
    assert "refund_issued" not in signal_codes(snap), [s.message for s in snap.signals]
