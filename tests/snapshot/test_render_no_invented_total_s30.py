"""The stored text never invents a total of ``0`` (review, session 30).

When every order is cancelled no order counts in ``total_spent``, which is ``None`` (the JSON
has no total, the summary says ``Orders: 2;``), yet ``format=text`` said ``## Orders (2, 0
total)``, with no currency. The heading now gives the count alone.
"""

from __future__ import annotations

from typing import Any

from context_service.models import CommerceSection, Order, Snapshot
from context_service.snapshot import lookup
from context_service.snapshot.render import render_text
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import shopify_customer, shopify_order
from tests.snapshots import bare_snapshot

EMAIL = "can@example.com"


def _cancelled(oid: int, name: str, created: str, total: str, status: str) -> Any:
    source, kind, body = shopify_order(oid, 2, name, created, financial=status, total=total)
    body["cancelled_at"] = created.replace("T10", "T12")
    return source, kind, body


def _heading(text: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith("## Orders")]
    return line


def test_every_order_cancelled_shows_no_total(store: Store, ingest: Ingest) -> None:
    ingest(
        shopify_customer(2, EMAIL, "Cara", "Cancel"),
        _cancelled(21, "#3001", "2026-11-01T10:00:00Z", "80.00", "refunded"),
        _cancelled(22, "#3002", "2026-10-01T10:00:00Z", "20.00", "voided"),
    )
    snap = snapshot_of(store, EMAIL)
    assert snap.commerce.total_spent is None  # what the heading must not make up
    assert _heading(lookup.by_email(store.conn, EMAIL).text) == "## Orders (2)"


def _with(**commerce: Any) -> Snapshot:
    order = Order(title="#1", created_at="2026-11-01T00:00:00Z", amount="5.00", currency="USD")
    return bare_snapshot(commerce=CommerceSection(orders=[order], **commerce))


def test_a_total_is_shown_when_there_is_one() -> None:
    paid = _with(order_count=1, total_spent="5.00", currency="USD")
    assert _heading(render_text(paid)) == "## Orders (1, 5.00 USD total)"
    refunded = _with(order_count=1, total_spent="0.00", currency="USD")  # a real zero
    assert _heading(render_text(refunded)) == "## Orders (1, 0.00 USD total)"
    mixed = _with(order_count=3, total_spent="5.00", currency="USD", total_order_count=1)
    assert _heading(render_text(mixed)) == "## Orders (3; 5.00 USD across 1 of them)"


def test_no_total_is_made_up_when_there_is_none() -> None:
    for commerce in ({}, {"total_order_count": 0}, {"currency": "USD"}):
        text = render_text(_with(order_count=2, **commerce))
        assert _heading(text) == "## Orders (2)"
