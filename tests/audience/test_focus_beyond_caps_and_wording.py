"""The record looked up is in question even past the snapshot's capped lists, and text says
what JSON says: a canceled subscription's date, a ticket's satisfaction, a comment cut, a
failed charge paid later, invoices that owe nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import ContextRequest, FieldPolicy, HeldRecords, build_context
from context_service.audience.policy import View
from context_service.errors import AmbiguousIdentifier, InvalidIdentifier
from context_service.models import Snapshot
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.render import render_text
from context_service.store import Store
from context_service.tools.schemas import GetCustomerContext
from context_service.tools.service import ToolBox, customer_context
from tests.audience.helpers import snapshot_of
from tests.conftest import TEST_KEY, Ingest, make_settings
from tests.payloads import (
    shopify_customer,
    shopify_order,
    stripe_charge,
    stripe_customer,
    stripe_invoice,
    stripe_subscription,
    zendesk_ticket,
    zendesk_user,
)

POLICY = FieldPolicy()
LINKS = DashboardLinks(shopify_shop="context-demo")
EMAIL = "foc@example.com"
Payload = tuple[str, str, dict[str, Any]]


def _render(
    snap: Snapshot,
    audience: str,
    fmt: str = "text",
    budget: int | None = None,
    *,
    focus: tuple[str, str] | None = None,
    store: Store | None = None,
    view: View | None = None,
) -> str:
    source, external_id = focus or (None, None)
    request = ContextRequest(
        audience,  # type: ignore[arg-type]
        fmt,  # type: ignore[arg-type]
        budget,
        focus=external_id,
        focus_source=source,
    )
    held = HeldRecords(store.conn, "US", LINKS) if store is not None else None
    the_view = view or POLICY.view(audience, None)
    return build_context(snap, request, the_view, held=held).body


def _in_question(body: str) -> str:
    """The text of the ``In question`` section (up to the next section's title)."""
    start = body.index("In question:")
    rest = body[start + len("In question:") :]
    ends = [i for i in (rest.find("\n" + t) for t in _TITLES) if i >= 0]
    return rest[: min(ends)] if ends else rest


_TITLES = ("Needs attention:", "Tickets:", "Open tickets:", "Billing:", "Orders:", "Records:")


def _eleven_orders(ingest: Ingest) -> None:
    """Orders #1001 (id 100, the oldest) to #1011 (id 110): the snapshot lists the newest 10."""
    orders = [
        shopify_order(100 + n, 1, f"#{1001 + n}", f"2026-0{1 + n // 3}-{10 + n:02d}T00:00:00Z")
        for n in range(11)
    ]
    ingest(shopify_customer(1, EMAIL, "Fay", "Cus"), *orders)


# --- the record looked up, past the lists -------------------------------------------------


@pytest.mark.parametrize("audience", ["chatbot", "agent", "sidebar", "escalation"])
def test_an_order_older_than_the_listed_ten_is_in_question(
    store: Store, ingest: Ingest, audience: str
) -> None:
    _eleven_orders(ingest)
    snap = snapshot_of(store, EMAIL)
    assert "100" not in {o.external_id for o in snap.commerce.orders}  # past the cap
    body = _render(snap, audience, focus=("shopify", "100"), store=store)
    assert "Order #1001 Jan 10" in _in_question(body)
    newest = _render(snap, audience, focus=("shopify", "110"), store=store)
    assert "Order #1011" in _in_question(newest)


def test_the_older_order_is_in_question_in_json_and_markdown(store: Store, ingest: Ingest) -> None:
    _eleven_orders(ingest)
    snap = snapshot_of(store, EMAIL)
    body = json.loads(_render(snap, "agent", "json", focus=("shopify", "100"), store=store))
    (item,) = body["in_question"]
    assert (item["title"], item["external_id"]) == ("#1001", "100")
    assert item["url"].endswith("/orders/100")  # the agent's view shows records
    markdown = _render(snap, "chatbot", "markdown", focus=("shopify", "100"), store=store)
    assert "**In question**\n\n- Order #1001" in markdown


def test_the_older_order_is_among_the_last_facts_a_budget_cuts(
    store: Store, ingest: Ingest
) -> None:
    _eleven_orders(ingest)
    snap = snapshot_of(store, EMAIL)
    body = _render(snap, "agent", "text", 100, focus=("shopify", "100"), store=store)
    assert "Order #1001" in _in_question(body)
    assert "Order #1011" not in body  # the latest order went first
    assert "Omitted to fit 100 tokens" in body


def test_a_view_that_hides_orders_does_not_show_the_older_one(store: Store, ingest: Ingest) -> None:
    _eleven_orders(ingest)
    snap = snapshot_of(store, EMAIL)
    hidden = View(contact="masked", hidden=frozenset({"orders"}))
    body = _render(snap, "chatbot", focus=("shopify", "100"), store=store, view=hidden)
    assert "#1001" not in body
    assert "In question" not in body


def test_someone_elses_order_is_never_read_in(store: Store, ingest: Ingest) -> None:
    _eleven_orders(ingest)
    other = shopify_order(900, 2, "#9001", "2026-01-01T00:00:00Z")
    ingest(shopify_customer(2, "other@example.com", "Oth", "Er"), other)
    snap = snapshot_of(store, EMAIL)
    body = _render(snap, "agent", focus=("shopify", "900"), store=store)
    assert "#9001" not in body
    assert "In question" not in body


def _twelve_tickets(ingest: Ingest, oldest_comment: str) -> None:
    """Tickets 1 (the oldest, with ``oldest_comment``) to 12: the snapshot lists 10."""
    tickets: list[Payload] = []
    for n in range(1, 13):
        source, kind, payload = zendesk_ticket(n, 77, f"Question {n}", status="solved")
        payload["updated_at"] = payload["created_at"] = f"2026-02-{n:02d}T00:00:00Z"
        if n == 1:
            payload["description"] = oldest_comment
            payload["satisfaction_rating"] = {"score": "bad"}
        tickets.append((source, kind, payload))
    ingest(zendesk_user(77, "Tia Cket", EMAIL), *tickets)


def test_an_older_ticket_is_in_question_cleaned_as_a_stored_one(
    store: Store, ingest: Ingest
) -> None:
    comment = (
        "My card 4242 4242 4242 4242 was charged twice; write to me at foc@example.com, "
        "not to my colleague bob@elsewhere.example"
    )
    _twelve_tickets(ingest, comment)
    snap = snapshot_of(store, EMAIL)
    assert "1" not in {t.external_id for t in snap.support.tickets}
    chatbot = _in_question(_render(snap, "chatbot", focus=("zendesk", "1"), store=store))
    assert 'Ticket 1 solved, Feb 1: customer-written "Question 1"; satisfaction: bad' in chatbot
    assert "[card number removed]" in chatbot
    assert "4242 4242" not in chatbot
    assert "[email removed]" in chatbot  # someone else's address
    assert "f***@example.com" in chatbot  # the customer's own, masked as the chatbot sees it
    # The sidebar lists no closed tickets, but the one looked up is in question all the same.
    sidebar = _in_question(_render(snap, "sidebar", focus=("zendesk", "1"), store=store))
    assert "Ticket 1 solved" in sidebar


def test_an_older_paid_invoice_is_in_question(store: Store, ingest: Ingest) -> None:
    invoices: list[Payload] = []
    for n in range(8):  # in_0 is the oldest; the snapshot lists the newest 6
        source, kind, payload = stripe_invoice(f"in_{n}", "cus_1", "paid", 1, 0)
        payload["created"] = 1767225600 + n * 86400 * 30
        invoices.append((source, kind, payload))
    ingest(stripe_customer("cus_1", EMAIL, "Ivy Voice"), *invoices)
    snap = snapshot_of(store, EMAIL)
    assert "in_0" not in {i.external_id for i in snap.billing.invoices}
    body = _render(snap, "chatbot", focus=("stripe", "in_0"), store=store)
    assert "Invoice N-in_0 Jan 1: paid, 49 USD" in _in_question(body)


# --- a canceled subscription ---------------------------------------------------------------


def _subscription(ingest: Ingest, store: Store, **fields: Any) -> Snapshot:
    source, kind, payload = stripe_subscription("sub_1", "cus_1", "active")
    payload.update(fields)
    ingest(stripe_customer("cus_1", EMAIL, "Sue Scribe"), (source, kind, payload))
    return snapshot_of(store, EMAIL)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_canceled_subscription_says_when_not_until_when(
    store: Store, ingest: Ingest, fmt: str
) -> None:
    snap = _subscription(ingest, store, status="canceled", canceled_at=1766000000)
    (signal,) = snap.signals
    assert signal.message == "Pro subscription was canceled on 2025-12-17"
    for audience in ("chatbot", "agent", "sidebar", "escalation"):
        body = _render(snap, audience, fmt)
        line = next(x for x in body.splitlines() if "Subscription Pro" in x)
        assert "canceled Dec 17 2025" in line
        assert "Jan 1" not in line  # the last period's end is no access date


def test_a_subscription_canceling_at_period_end_has_access_until_then(
    store: Store, ingest: Ingest
) -> None:
    snap = _subscription(ingest, store, cancel_at_period_end=True)
    body = _render(snap, "chatbot")
    assert (
        "Subscription Pro 49 USD/month: active, cancels at period end (access until Jan 1" in body
    )


def test_an_overdue_invoice_keeps_its_words_in_text(store: Store, ingest: Ingest) -> None:
    source, kind, payload = stripe_invoice("in_1", "cus_1", "open", 0, 4900)
    payload["due_date"] = 1736294400  # 2025-01-08
    ingest(stripe_customer("cus_1", EMAIL, "Ola Verdue"), (source, kind, payload))
    snap = snapshot_of(store, EMAIL)
    assert [s.code for s in snap.signals] == ["invoice_overdue"]
    body = _render(snap, "chatbot")
    assert "[warning] Invoice N-in_1 is overdue (49.00 USD due since 2025-01-08)" in body


# --- a ticket's satisfaction and comment --------------------------------------------------


def test_satisfaction_is_in_every_text_rendering_and_the_stored_text(
    store: Store, ingest: Ingest
) -> None:
    source, kind, payload = zendesk_ticket(11, 77, "Broken lamp", status="open")
    payload["satisfaction_rating"] = {"score": "bad", "comment": "slow"}
    ingest(zendesk_user(77, "Sam Tick", EMAIL), (source, kind, payload))
    snap = snapshot_of(store, EMAIL)
    assert snap.support.tickets[0].satisfaction == "bad"
    for audience in ("chatbot", "agent", "sidebar", "escalation"):
        for fmt in ("text", "markdown"):
            assert "satisfaction: bad" in _render(snap, audience, fmt), (audience, fmt)
    assert "- ticket 11 [open, normal, satisfaction: bad]:" in render_text(snap)


def test_the_stored_text_marks_a_cut_comment(store: Store, ingest: Ingest) -> None:
    source, kind, payload = zendesk_ticket(12, 78, "Long one")
    payload["description"] = "word " * 80 + "THE-IMPORTANT-ENDING"
    ingest(zendesk_user(78, "Lon Gcom", EMAIL), (source, kind, payload))
    text = render_text(snapshot_of(store, EMAIL))
    line = next(x for x in text.splitlines() if "last public comment" in x)
    assert line.endswith('word…"')
    assert "IMPORTANT" not in line


# --- a failed charge paid later ------------------------------------------------------------


def _charge(chid: str, status: str, created: int) -> Payload:
    source, kind, payload = stripe_charge(chid, "cus_1", status)
    payload.update(created=created, disputed=False)
    if status == "failed":
        payload.update(failure_code="card_declined", failure_message="Your card was declined.")
    return source, kind, payload


def _failed_then_paid(ingest: Ingest, store: Store, invoice_status: str = "paid") -> Snapshot:
    remaining = 0 if invoice_status == "paid" else 4900
    source, kind, invoice = stripe_invoice("in_1", "cus_1", invoice_status, 2, remaining)
    invoice["created"] = 1767000000
    ingest(
        stripe_customer("cus_1", EMAIL, "Rae Cover"),
        stripe_subscription("sub_1", "cus_1", "active"),
        (source, kind, invoice),
        _charge("ch_fail", "failed", 1767000100),
        _charge("ch_ok", "succeeded", 1767090000),
    )
    return snapshot_of(store, EMAIL)


def test_a_failed_charge_paid_later_never_stands_alone(store: Store, ingest: Ingest) -> None:
    snap = _failed_then_paid(ingest, store)
    for budget in (90, 100, 110, 120, 130, None):
        body = _render(snap, "chatbot", "text", budget)
        # History, not the payment state: listed (the chatbot sees its last charges) only
        # with the payment that made it good, never on its own.
        for line in (x for x in body.splitlines() if "card_declined" in x):
            assert "; paid by a later charge Dec 30 2025" in line, budget
            assert "Charge Dec 30 2025: succeeded" in body, budget
    agent = _render(snap, "agent")
    assert (
        "Charge Dec 29 2025: failed (card_declined), 49 USD on visa ending 4242; "
        "paid by a later charge Dec 30 2025"
    ) in agent
    assert "Billing:\n- Subscription" in agent
    item = next(
        i
        for i in json.loads(_render(snap, "agent", "json"))["billing"]
        if i.get("external_id") == "ch_fail"
    )
    assert item["paid_later_at"].startswith("2025-12-30")


def test_a_failure_is_no_recovered_one_while_an_invoice_is_unpaid(
    store: Store, ingest: Ingest
) -> None:
    snap = _failed_then_paid(ingest, store, invoice_status="open")
    body = _render(snap, "chatbot")
    assert "Charge Dec 29 2025: failed (card_declined)" in body
    assert "paid by a later charge" not in _render(snap, "agent")


# --- invoices that owe nothing -------------------------------------------------------------


def test_draft_and_void_invoices_owe_nothing(store: Store, ingest: Ingest) -> None:
    void = stripe_invoice("in_void", "cus_1", "void", attempts=1, remaining=4900)
    draft = stripe_invoice("in_draft", "cus_1", "draft", attempts=0, remaining=4900)
    draft[2].update(number=None, created=1735700000)
    ingest(stripe_customer("cus_1", EMAIL, "Vic Void"), void, draft)
    snap = snapshot_of(store, EMAIL)
    agent = _render(snap, "agent")
    assert "Invoice in_draft Jan 1 2025: draft, 49 USD, not final yet, nothing due\n" in agent
    assert "Invoice N-in_void Jan 1 2025: void, 49 USD, nothing due\n" in agent
    assert " due\n" not in agent.replace("nothing due\n", "")
    text = render_text(snap)
    assert "- invoice N-in_void: void, 49.00 USD (nothing due, attempts 1)" in text
    assert "remaining 49.00" not in text


# --- over HTTP and the agent tool -----------------------------------------------------------


def test_get_context_by_an_older_order_id_has_it_in_question(
    store: Store, ingest: Ingest, tmp_path: Path
) -> None:
    _eleven_orders(ingest)
    store.close()
    with TestClient(create_app(make_settings(tmp_path / "test.db"))) as client:
        for audience, fmt in (("agent", "text"), ("chatbot", "json")):
            response = client.get(
                "/v1/context",
                params={
                    "source": "shopify",
                    "external_id": "100",
                    "audience": audience,
                    "format": fmt,
                },
                headers={"Authorization": f"Bearer {TEST_KEY}"},
            )
            assert response.status_code == 200
            if fmt == "json":
                assert response.json()["in_question"][0]["title"] == "#1001"
            else:
                assert "In question:\n- Order #1001 Jan 10" in response.text
            response = client.post(
                "/v1/context/lookup",
                json={"source": "shopify", "external_id": "100", "audience": audience},
                headers={"Authorization": f"Bearer {TEST_KEY}"},
            )
            assert response.json()["in_question"][0]["title"] == "#1001"


def test_the_context_tool_takes_no_order_id(store: Store, ingest: Ingest) -> None:
    """A model fills the tool's ids in from what the customer typed, and an order id is on the
    order's emails: the tool names no one for it (session 28); ``GET /v1/context`` above, which
    programs call with ids of their own, still shows the order in question."""
    _eleven_orders(ingest)
    box = ToolBox(store.conn, "US")
    args = GetCustomerContext(source="shopify", external_id="100")
    with pytest.raises(AmbiguousIdentifier):
        customer_context(box, args, None)


def test_the_context_tool_shows_the_order_the_customer_quotes(store: Store, ingest: Ingest) -> None:
    """The order the customer asks about, by its number beside their identifier, is in
    question (the oldest, past the snapshot's ten, too); a number that is not theirs names
    nothing: no order in question, and never another customer's (a tool argument a model fills
    in from the chat)."""
    _eleven_orders(ingest)
    ingest(
        shopify_customer(2, "other@example.com", "Oz", "Other"),
        shopify_order(200, 2, "#2001", "2026-05-01T00:00:00Z"),
    )
    box = ToolBox(store.conn, "US")

    oldest = customer_context(box, GetCustomerContext(email=EMAIL, order_number="#1001"), None)
    newest = customer_context(box, GetCustomerContext(email=EMAIL, order_number="1011"), None)
    others = customer_context(box, GetCustomerContext(email=EMAIL, order_number="2001"), None)

    assert "Order #1001 Jan 10" in _in_question(oldest)
    assert "Order #1011" in _in_question(newest)
    assert "In question:" not in others
    assert "#2001" not in others


def test_an_order_number_alone_names_no_one(store: Store, ingest: Ingest) -> None:
    _eleven_orders(ingest)
    box = ToolBox(store.conn, "US")
    with pytest.raises(InvalidIdentifier, match="identifier"):
        customer_context(box, GetCustomerContext(order_number="1001"), None)
