"""Every audience in every format on Maya's demo snapshot: selection, order, quoting."""

from __future__ import annotations

import json

import pytest

from context_service.audience import AUDIENCES, ContextRequest, FieldPolicy, build_context
from context_service.audience.wording import Wording
from context_service.demo.personas import MAYA_EMAIL, MAYA_PHONE, MAYA_TICKET_SUBJECT
from context_service.models import Snapshot
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import stripe_customer, stripe_invoice

POLICY = FieldPolicy()


def _render(snap: Snapshot, audience: str, fmt: str, budget: int | None = None) -> str:
    request = ContextRequest(audience, fmt, budget)  # type: ignore[arg-type]
    return build_context(snap, request, POLICY.view(audience, None)).body


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_every_audience_and_format_renders_the_key_facts(
    maya: Snapshot, audience: str, fmt: str
) -> None:
    body = _render(maya, audience, fmt)
    assert "Maya Patel" in body
    assert "past_due" in body
    assert MAYA_TICKET_SUBJECT in body
    assert "#1003" in body
    if fmt == "json":
        doc = json.loads(body)
        assert doc["audience"] == audience
        assert doc["customer"][0]["name"] == "Maya Patel"
    elif fmt == "text":
        assert 'customer-written "Maya Patel"' in body
    else:
        assert '` customer-written "Maya Patel" `' in body


def test_chatbot_puts_what_changes_the_next_reply_first(maya: Snapshot) -> None:
    body = _render(maya, "chatbot", "text")
    order = [body.index(s) for s in ("Customer:", "Needs attention:", "Billing:", "Orders:")]
    assert order == sorted(order)
    assert body.index("[critical]") < body.index("Orders:")


def test_chatbot_text_says_each_signal_once_on_the_fact_it_is_about(maya: Snapshot) -> None:
    body = _render(maya, "chatbot", "text")
    attention = body[body.index("Needs attention:") : body.index("Billing:")]
    assert "[critical] Subscription Pro 49 USD/month: past_due" in attention
    assert "[critical] Invoice KJFEVMTW-0009" in attention
    assert "[warning] Order #1003" in attention
    day = Wording(maya.generated_at).day  # "Nov 19", or "Nov 19 2026" read in another year
    subject = f'customer-written "{MAYA_TICKET_SUBJECT}"'
    assert f"[warning] Ticket 1001 open, high, {day('2026-11-19')}: {subject}" in attention
    assert "  last comment: " in attention  # the ticket's comment moved with it
    for fact in ("Subscription Pro", "KJFEVMTW-0009", "#1003 ", "Ticket 1001"):
        assert body.count(fact) == 1, fact
    assert "Pro subscription is past_due" not in body  # the signal's words would repeat it


def test_a_flagged_order_in_question_stays_first_with_its_tag(maya: Snapshot) -> None:
    latest = maya.commerce.orders[0]
    request = ContextRequest("chatbot", "text", focus=latest.external_id)
    body = build_context(maya, request, POLICY.view("chatbot", None)).body
    in_question = body[body.index("In question:") : body.index("Needs attention:")]
    assert f"- [warning] Order {latest.title}" in in_question
    assert body.count(f"Order {latest.title} ") == 1


def test_signals_about_facts_not_shown_stay_as_words(maya: Snapshot) -> None:
    view = POLICY.view("chatbot", None)
    hidden = type(view)(view.contact, view.hidden | {"billing"})
    body = build_context(maya, ContextRequest("chatbot", "text"), hidden).body
    assert "[critical] A subscription is past_due" in body
    assert "Pro subscription" not in body  # the plan is billing's, hidden here
    assert "Subscription Pro" not in body


def test_chatbot_json_keeps_signals_and_facts_apart(maya: Snapshot) -> None:
    doc = json.loads(_render(maya, "chatbot", "json"))
    codes = {item["code"] for item in doc["attention"]}
    assert {"subscription_past_due", "invoice_payment_failed", "order_unfulfilled"} <= codes
    assert any(item["status"] == "past_due" for item in doc["billing"])


def test_dates_and_money_are_compact_in_text_and_exact_in_json(maya: Snapshot) -> None:
    text = _render(maya, "agent", "text")
    day = Wording(maya.generated_at).day
    assert f"Order #1003 {day('2026-11-18')}: 160.92 USD" in text
    chatbot = _render(maya, "chatbot", "text")  # signals folded: no ISO date from their words
    assert "2026-11-18" not in chatbot
    assert "49.00" not in chatbot
    assert "since Oct 2024" in text
    data = json.loads(_render(maya, "agent", "json"))
    order = next(o for o in data["orders"] if o.get("title") == "#1003")
    assert order["created_at"].startswith("2026-11-18")


def test_matched_by_is_said_on_the_identity_line(maya: Snapshot) -> None:
    request = ContextRequest("chatbot", "text", matched="name and order_number, medium confidence")
    body = build_context(maya, request, POLICY.view("chatbot", None)).body
    first = body.splitlines()[1]
    assert first.startswith('Customer: customer-written "Maya Patel"')
    assert first.endswith("; matched by name and order_number, medium confidence")


def test_agent_gets_the_fuller_picture_and_chatbot_does_not(maya: Snapshot) -> None:
    agent = _render(maya, "agent", "text")
    chatbot = _render(maya, "chatbot", "text")
    for internal in ("Jordan Reyes", "Team plan upgrade", "Record shopify", "Valencia"):
        assert internal in agent
        assert internal not in chatbot
    assert len(agent) > len(chatbot)


def test_sidebar_is_a_compact_card(maya: Snapshot) -> None:
    sidebar = _render(maya, "sidebar", "text")
    assert sidebar.count("- Order #") == 1
    assert "Open in:" in sidebar
    assert len(sidebar) < len(_render(maya, "agent", "text"))


def test_chatbot_contact_details_are_masked_in_every_format(maya: Snapshot) -> None:
    for fmt in ("text", "markdown", "json"):
        body = _render(maya, "chatbot", fmt)
        assert MAYA_EMAIL not in body
        assert MAYA_PHONE not in body
        assert "m***@example.com" in body
        assert "0134" in body


def test_focus_puts_the_order_in_question_first(maya: Snapshot) -> None:
    oldest = maya.commerce.orders[-1]
    request = ContextRequest("chatbot", "text", focus=oldest.external_id)
    body = build_context(maya, request, POLICY.view("chatbot", None)).body
    assert body.index("In question:") < body.index("Needs attention:")
    assert body.index(f"Order {oldest.title}") < body.index("Needs attention:")


def test_card_data_is_brand_and_last_four_only(maya: Snapshot) -> None:
    body = _render(maya, "agent", "json")
    charges = json.loads(body)["billing"]
    for item in charges:
        assert set(item) & {"card_number", "number_full", "iban"} == set()
        if "card_last4" in item:
            assert len(item["card_last4"]) == 4


def test_a_paid_three_decimal_invoice_has_nothing_due(store: Store, ingest: Ingest) -> None:
    invoice = stripe_invoice("in_1", "cus_1", "paid", attempts=1, remaining=0)
    invoice[2].update(currency="kwd", amount_due=12345, amount_paid=12345)
    ingest(stripe_customer("cus_1", "kw@example.com", "Kay Wu"), invoice)
    snap = snapshot_of(store, "kw@example.com")
    assert snap.billing.invoices[0].amount_remaining == "0.000"
    body = build_context(
        snap, ContextRequest("agent", "text", None), FieldPolicy().view("agent", None)
    ).body
    line = next(line for line in body.splitlines() if "Invoice" in line)
    assert "paid, 12.345 KWD" in line
    assert "due" not in line
