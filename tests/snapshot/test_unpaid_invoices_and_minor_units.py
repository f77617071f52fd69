"""Invoices still owed stay in view and an overdue one warns; order totals keep the currency's
own decimal places (ISO 4217 minor units)."""

from __future__ import annotations

from typing import Any

import pytest

from context_service.audience import ContextRequest, build_context
from context_service.audience.policy import View
from context_service.models import Signal, Snapshot
from context_service.snapshot import lookup
from context_service.snapshot.activity_sections import RECENT_INVOICES
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import shopify_customer, shopify_order, stripe_customer, stripe_invoice

EMAIL = "ina@example.com"
JAN_1_2025 = 1735689600
JAN_8_2025 = 1736294400  # 2025-01-08T00:00:00Z: long past when the tests run
YEAR_2100 = 4102444800  # 2100-01-01T00:00:00Z: not due yet
DAY = 86400


def _invoice(
    iid: str,
    status: str,
    *,
    attempts: int = 0,
    remaining: int = 4900,
    created: int = JAN_1_2025,
    due: int | None = None,
    method: str = "send_invoice",
) -> tuple[str, str, dict[str, Any]]:
    item = stripe_invoice(iid, "cus_1", status, attempts, remaining)
    item[2].update(created=created, due_date=due, collection_method=method)
    return item


def _newer_paid(count: int = RECENT_INVOICES) -> list[tuple[str, str, dict[str, Any]]]:
    """``count`` paid invoices, all newer than ``JAN_1_2025``, charged automatically."""
    return [
        _invoice(
            f"in_paid{n}",
            "paid",
            attempts=1,
            remaining=0,
            created=JAN_1_2025 + (n + 1) * 30 * DAY,
            method="charge_automatically",
        )
        for n in range(count)
    ]


def _snap(ingest: Ingest, store: Store, *items: tuple[str, str, dict[str, Any]]) -> Snapshot:
    ingest(stripe_customer("cus_1", EMAIL, "Ina Voice"), *items)
    return snapshot_of(store, EMAIL)


def _listed(snap: Snapshot) -> list[str]:
    return [i.external_id or "" for i in snap.billing.invoices]


def _of_code(snap: Snapshot, code: str) -> list[Signal]:
    return [s for s in snap.signals if s.code == code]


# --- Older invoices still owed are listed, whether or not a payment was tried ----------------


def test_older_open_invoice_never_charged_is_listed_behind_newer_paid_ones(
    store: Store, ingest: Ingest
) -> None:
    """A ``send_invoice`` invoice nobody tried to charge (``attempt_count`` 0) is still owed."""
    snap = _snap(ingest, store, _invoice("in_old", "open", due=YEAR_2100), *_newer_paid())
    assert len(snap.billing.invoices) == RECENT_INVOICES + 1
    assert _listed(snap)[-1] == "in_old"
    assert snap.billing.invoices[-1].amount_remaining == "49.00"
    assert not _of_code(snap, "unlisted_invoices")


def test_older_uncollectible_invoice_is_listed(store: Store, ingest: Ingest) -> None:
    """Stripe's ``uncollectible`` is written off, yet can still be paid: it is owed."""
    snap = _snap(ingest, store, _invoice("in_old", "uncollectible"), *_newer_paid())
    assert "in_old" in _listed(snap)


@pytest.mark.parametrize("status", ["draft", "void", "paid"])
def test_older_invoices_not_owed_are_not_kept(store: Store, ingest: Ingest, status: str) -> None:
    """A draft is not a bill yet and a void one was cancelled: an amount left on either (Stripe
    keeps ``amount_remaining`` on a draft) is not owed."""
    snap = _snap(ingest, store, _invoice("in_old", status, due=JAN_8_2025), *_newer_paid())
    assert "in_old" not in _listed(snap)
    assert len(_of_code(snap, "unlisted_invoices")) == 1
    assert not _of_code(snap, "invoice_overdue")


def test_older_open_invoice_with_nothing_left_to_pay_is_not_kept(
    store: Store, ingest: Ingest
) -> None:
    snap = _snap(ingest, store, _invoice("in_old", "open", remaining=0), *_newer_paid())
    assert "in_old" not in _listed(snap)


# --- An overdue invoice warns ---------------------------------------------------------------


def test_older_overdue_invoice_is_listed_and_warns(store: Store, ingest: Ingest) -> None:
    """The review's case: open, overdue, never charged, behind six newer paid invoices."""
    snap = _snap(ingest, store, _invoice("in_old", "open", due=JAN_8_2025), *_newer_paid())
    assert "in_old" in _listed(snap)
    [overdue] = _of_code(snap, "invoice_overdue")
    assert (overdue.severity, overdue.source, overdue.ref) == ("warning", "stripe", "in_old")
    assert overdue.message == "Invoice N-in_old is overdue (49.00 USD due since 2025-01-08)"
    assert snap.signals[0] == overdue  # before the info-level counts
    assert "Invoice N-in_old is overdue" in snap.summary


def test_newest_invoice_overdue_warns(store: Store, ingest: Ingest) -> None:
    snap = _snap(ingest, store, _invoice("in_1", "open", remaining=2500, due=JAN_8_2025))
    [overdue] = _of_code(snap, "invoice_overdue")
    assert overdue.message == "Invoice N-in_1 is overdue (25.00 USD due since 2025-01-08)"
    text = lookup.by_email(store.conn, EMAIL).text
    assert "- [warning] Invoice N-in_1 is overdue (25.00 USD due since 2025-01-08)" in text


def test_overdue_invoice_in_a_zero_decimal_currency(store: Store, ingest: Ingest) -> None:
    inv = _invoice("in_1", "open", remaining=4900, due=JAN_8_2025)
    inv[2]["currency"] = "jpy"
    snap = _snap(ingest, store, inv)
    [overdue] = _of_code(snap, "invoice_overdue")
    assert "(4900 JPY due since 2025-01-08)" in overdue.message


def test_overdue_uncollectible_invoice_warns(store: Store, ingest: Ingest) -> None:
    snap = _snap(ingest, store, _invoice("in_1", "uncollectible", due=JAN_8_2025))
    assert [s.ref for s in _of_code(snap, "invoice_overdue")] == ["in_1"]


@pytest.mark.parametrize(
    ("status", "remaining", "due"),
    [
        ("open", 4900, YEAR_2100),  # not due yet
        ("open", 4900, None),  # no due date (charged automatically)
        ("open", 0, JAN_8_2025),  # nothing left to pay
        ("paid", 0, JAN_8_2025),
        ("void", 4900, JAN_8_2025),
        ("draft", 4900, JAN_8_2025),
    ],
)
def test_invoices_not_overdue_do_not_warn(
    store: Store, ingest: Ingest, status: str, remaining: int, due: int | None
) -> None:
    snap = _snap(ingest, store, _invoice("in_1", status, remaining=remaining, due=due))
    assert not _of_code(snap, "invoice_overdue"), [s.message for s in snap.signals]


def test_failed_overdue_invoice_raises_only_the_failed_payment(
    store: Store, ingest: Ingest
) -> None:
    """A failed payment (critical) already says the invoice is owed: no second signal."""
    snap = _snap(ingest, store, _invoice("in_1", "open", attempts=2, due=JAN_8_2025))
    assert [s.code for s in snap.signals] == ["invoice_payment_failed"]


def test_overdue_invoices_cut_from_the_list_are_counted(store: Store, ingest: Ingest) -> None:
    """More overdue invoices than the list keeps: the ones left out warn in one signal."""
    cut_count = 3
    overdue = [
        _invoice(f"in_old{n}", "open", remaining=1000, created=JAN_1_2025 - n * DAY, due=JAN_8_2025)
        for n in range(RECENT_INVOICES + cut_count)
    ]
    snap = _snap(ingest, store, *overdue, *_newer_paid())
    assert len(snap.billing.invoices) == 2 * RECENT_INVOICES
    signals = _of_code(snap, "invoice_overdue")
    assert len(signals) == RECENT_INVOICES + 1
    counted = [s for s in signals if s.ref is None]
    assert [s.message for s in counted] == ["3 more invoices overdue, not listed (30.00 USD due)"]
    assert counted[0].severity == "warning"


# --- Totals keep the currency's decimal places ----------------------------------------------


def _order(oid: int, total: str, currency: str) -> tuple[str, str, dict[str, Any]]:
    item = shopify_order(oid, 1, f"#{1000 + oid}", "2026-03-01T00:00:00Z", total=total)
    item[2]["currency"] = currency
    item[2]["fulfillment_status"] = "fulfilled"
    return item


def _total(store: Store, ingest: Ingest, currency: str, *totals: str) -> str | None:
    orders = [_order(n, total, currency) for n, total in enumerate(totals, start=1)]
    ingest(shopify_customer(1, "ken@example.com", "Ken", "Sato"), *orders)
    return snapshot_of(store, "ken@example.com").commerce.total_spent


@pytest.mark.parametrize("currency", ["JPY", "KRW", "VND", "CLP", "ISK", "UGX"])
def test_zero_decimal_currency_total_has_no_decimals(
    store: Store, ingest: Ingest, currency: str
) -> None:
    assert _total(store, ingest, currency, "1500", "2500.00") == "4000"


def test_yen_total_in_the_summary(store: Store, ingest: Ingest) -> None:
    _total(store, ingest, "JPY", "1500", "2500")
    snap = snapshot_of(store, "ken@example.com")
    assert "Orders: 2, 4000 JPY in total" in snap.summary, snap.summary


def test_zero_decimal_total_keeps_a_fraction_an_amount_carries(
    store: Store, ingest: Ingest
) -> None:
    assert _total(store, ingest, "JPY", "1500.5", "2500") == "4000.5"


@pytest.mark.parametrize("currency", ["KWD", "BHD", "OMR", "JOD", "TND", "LYD", "IQD"])
def test_three_decimal_currency_total_has_three_decimals(
    store: Store, ingest: Ingest, currency: str
) -> None:
    assert _total(store, ingest, currency, "10", "5.5") == "15.500"


@pytest.mark.parametrize(("currency", "expected"), [("USD", "4.01"), ("EUR", "4.01")])
def test_two_decimal_currency_total(
    store: Store, ingest: Ingest, currency: str, expected: str
) -> None:
    assert _total(store, ingest, currency, "1.5", "2.51") == expected


def test_two_decimal_total_keeps_a_third_decimal_an_amount_carries(
    store: Store, ingest: Ingest
) -> None:
    assert _total(store, ingest, "USD", "1.005", "2") == "3.005"


def test_an_overdue_signal_tells_nothing_of_an_invoice_the_view_hides(
    store: Store, ingest: Ingest
) -> None:
    """A view hiding ``billing.invoices`` reads the overdue signal without the invoice's number
    or amount, as it reads a failed payment's."""
    snap = _snap(ingest, store, _invoice("in_1", "open", remaining=2500, due=JAN_8_2025))
    hidden = View(contact="masked", hidden=frozenset({"billing.invoices"}))
    for audience in ("agent", "chatbot"):
        text = build_context(snap, ContextRequest(audience, "text", 2000), hidden).body
        assert "An invoice is overdue" in text
        assert "N-in_1" not in text
        assert "25.00" not in text
