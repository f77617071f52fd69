"""The stored plain-text rendering never prints a missing value as ``None``."""

from __future__ import annotations

from context_service.models import CommerceSection, Order, Snapshot
from context_service.snapshot.render import render_text
from tests.snapshots import bare_snapshot


def _snapshot(*orders: Order) -> Snapshot:
    commerce = CommerceSection(
        order_count=len(orders), total_spent="129.00", currency="USD", orders=list(orders)
    )
    return bare_snapshot(commerce=commerce)


def test_an_order_from_a_spreadsheet_without_payment_status_reads_as_unknown() -> None:
    order = Order(
        title="#LEG-7781", created_at="2026-11-20T00:00:00Z", amount="129.00", currency="USD"
    )
    text = render_text(_snapshot(order))
    assert "- #LEG-7781 2026-11-20: 129.00 USD, unknown payment, fulfilment unknown" in text
    assert "None" not in text


def test_an_order_without_an_amount_says_so() -> None:
    text = render_text(_snapshot(Order(title="#7", financial_status="paid")))
    assert "- #7 : no amount, paid, fulfilment unknown" in text
    assert "None" not in text
