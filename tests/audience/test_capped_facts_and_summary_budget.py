"""A list cut to its kind's cap says how many it left out, the chatbot sees a charge made twice,
and under a budget a summary never pushes out the signals it restates."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import ContextRequest, FieldPolicy, SummaryBlock, build_context
from context_service.audience.summary import deterministic_summary
from context_service.models import Snapshot
from context_service.store import Store
from context_service.tools.schemas import GetCustomerContext
from context_service.tools.service import ToolBox, customer_context
from tests.audience.helpers import snapshot_of
from tests.conftest import TEST_KEY, Ingest, make_settings
from tests.payloads import stripe_charge, stripe_customer, zendesk_ticket, zendesk_user

POLICY = FieldPolicy()
EMAIL = "dup@example.com"
NOV_17 = 1763370000  # 2025-11-17T09:00:00Z
Payload = tuple[str, str, dict[str, Any]]
# A chatty LLM answer: long, and saying nothing the signals do not.
CHATTY = (
    "Maya Patel has been a customer since October 2024 and is known in HubSpot, Shopify, "
    "Stripe and Zendesk. She has placed several orders over the past months and her account "
    "is managed by the customer success team. She subscribes to the Pro plan and has "
    "contacted support recently about her account. Be friendly and thank her for her "
    "loyalty, and offer help with anything she needs today."
)


def _charge(chid: str, created: int) -> Payload:
    source, kind, payload = stripe_charge(chid, "cus_DUP", "succeeded")
    payload.update(created=created, disputed=False)
    return source, kind, payload


def _customer(ingest: Ingest, store: Store, *created: int) -> Snapshot:
    """Dana, with a successful 49 USD charge at each of ``created`` and a ticket about it."""
    ingest(
        stripe_customer("cus_DUP", EMAIL, "Dana Double"),
        *(_charge(f"ch_DUP{i:08d}", at) for i, at in enumerate(created)),
        zendesk_user(7, "Dana Double", EMAIL),
        zendesk_ticket(700, 7, "I was charged twice this month"),
    )
    return snapshot_of(store, EMAIL)


def _render(snap: Snapshot, fmt: str = "text", budget: int | None = None) -> Any:
    request = ContextRequest("chatbot", fmt, budget)  # type: ignore[arg-type]
    return build_context(snap, request, POLICY.view("chatbot", None))


def _charge_lines(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.startswith("- Charge ")]


# --- a charge made twice reaches the chatbot ---------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_the_chatbot_sees_a_charge_made_twice(store: Store, ingest: Ingest, fmt: str) -> None:
    """Two successful 49 USD charges a minute apart (and one a month before): the chatbot sees
    both, told apart by their time, so it can answer "I was charged twice"."""
    snap = _customer(ingest, store, NOV_17, NOV_17 + 60, NOV_17 - 30 * 86400)
    body = _render(snap, fmt).body
    same_day = [line for line in _charge_lines(body) if "Nov 17 2025" in line]
    assert len(same_day) == 2, body
    assert len(set(same_day)) == 2, "the two lines say when each was made"
    assert all("succeeded, 49 USD" in line for line in same_day)


def test_the_chatbot_json_and_tool_show_both_charges(store: Store, ingest: Ingest) -> None:
    snap = _customer(ingest, store, NOV_17, NOV_17 + 60, NOV_17 - 30 * 86400)
    billing = json.loads(_render(snap, "json").body)["billing"]
    made = sorted(i["created_at"] for i in billing if i.get("status") == "succeeded")
    assert [m[:10] for m in made].count("2025-11-17") == 2
    tool = customer_context(ToolBox(store.conn, "US"), GetCustomerContext(email=EMAIL), None)
    assert len([x for x in _charge_lines(tool) if "Nov 17 2025" in x]) == 2, tool


# --- facts past a kind's cap are counted ------------------------------------------------------


def test_charges_past_the_cap_are_counted_in_text_json_and_totals(
    store: Store, ingest: Ingest
) -> None:
    """More charges than the chatbot lists: the ones left out are counted, not dropped."""
    made = [NOV_17 - month * 30 * 86400 for month in range(6)]
    snap = _customer(ingest, store, *made)
    text = _render(snap)
    shown = len(_charge_lines(text.body))
    assert 0 < shown < len(made)
    left_out = len(made) - shown
    assert dict(text.omitted).get("charge.other") == left_out
    last = text.body.rstrip().splitlines()[-1]
    assert last.startswith("Also on file, not listed:")
    assert f"{left_out} other charge(s)" in last
    doc = json.loads(_render(snap, "json").body)
    assert doc["omitted"]["billing"] == left_out
    assert len(doc["billing"]) == shown


def test_a_budget_counts_the_facts_past_a_cap_too(store: Store, ingest: Ingest) -> None:
    """Under a budget, every charge not shown is counted, past the cap or dropped to fit."""
    made = [NOV_17 - month * 30 * 86400 for month in range(6)]
    snap = _customer(ingest, store, *made)
    for budget in (90, 120, 160, 200):
        fitted = _render(snap, budget=budget)
        shown = len(_charge_lines(fitted.body))
        assert dict(fitted.omitted).get("charge.other") == len(made) - shown, budget
        note = fitted.body.rstrip().splitlines()[-1]
        if ":" in note:
            total = sum(map(int, re.findall(r"\d+", note.split(":", 1)[1])))
        else:
            total = int(note.split()[0])
        assert total == sum(n for _, n in fitted.omitted), budget


def test_the_header_counts_facts_past_a_cap(store: Store, ingest: Ingest, tmp_path: Path) -> None:
    made = [NOV_17 - month * 30 * 86400 for month in range(6)]
    snap = _customer(ingest, store, *made)
    expected = sum(n for _, n in _render(snap).omitted)
    assert expected > 0
    with TestClient(create_app(make_settings(tmp_path / "test.db"))) as client:
        for fmt in ("text", "json"):
            response = client.get(
                "/v1/context",
                params={"email": EMAIL, "audience": "chatbot", "format": fmt},
                headers={"Authorization": f"Bearer {TEST_KEY}"},
            )
            assert response.status_code == 200, response.text
            assert int(response.headers["x-context-omitted"]) == expected


# --- a summary never pushes out the signals ----------------------------------------------------


def _signal_lines(body: str) -> list[str]:
    return [x for x in body.splitlines() if re.match(r"- \[(critical|warning)\] ", x)]


def _facts(body: str) -> list[str]:
    """The body's fact lines, the omitted note left out."""
    return [x for x in body.splitlines() if x.startswith(("- ", "  "))]


@pytest.mark.parametrize("budget", [160, 180, 200, 250, 300])
def test_a_long_llm_summary_never_pushes_out_a_signal(maya: Snapshot, budget: int) -> None:
    """What the budget keeps of the signals without a summary, it keeps with one: a long
    summary is left out before any critical or warning signal is."""
    view = POLICY.view("chatbot", None)
    request = ContextRequest("chatbot", "text", budget)
    plain = build_context(maya, request, view).body
    summary = SummaryBlock(CHATTY, "llm")
    with_summary = build_context(maya, request, view, summary).body
    assert _signal_lines(plain)
    assert _signal_lines(with_summary) == _signal_lines(plain)


@pytest.mark.parametrize("audience", ["chatbot", "agent", "sidebar", "escalation"])
@pytest.mark.parametrize("source", ["llm", "deterministic"])
def test_a_kept_summary_comes_after_every_signal(
    maya: Snapshot, audience: str, source: str
) -> None:
    view = POLICY.view(audience, None)
    text = CHATTY if source == "llm" else deterministic_summary(maya, view)
    summary = SummaryBlock(text, source)
    every = _signal_lines(build_context(maya, ContextRequest(audience, "text"), view).body)  # type: ignore[arg-type]
    assert every
    kept_once = False
    for budget in range(120, 900, 20):
        request = ContextRequest(audience, "text", budget)  # type: ignore[arg-type]
        body = build_context(maya, request, view, summary).body
        if re.search(r"^Summary", body, re.MULTILINE):
            kept_once = True
            assert _signal_lines(body) == every, budget
    assert kept_once, "a roomy budget keeps the summary"


@pytest.mark.parametrize("source", ["llm", "deterministic"])
def test_a_summary_left_out_holds_back_no_other_fact(maya: Snapshot, source: str) -> None:
    """A summary that does not fit is left out alone: the facts kept are those kept without
    one, not fewer, and the note counts it."""
    view = POLICY.view("chatbot", None)
    text = CHATTY if source == "llm" else deterministic_summary(maya, view)
    checked = 0
    for budget in range(160, 420, 20):
        request = ContextRequest("chatbot", "text", budget)
        rendered = build_context(maya, request, view, SummaryBlock(text, source))
        if re.search(r"^Summary", rendered.body, re.MULTILINE):
            continue
        checked += 1
        assert _facts(rendered.body) == _facts(build_context(maya, request, view).body), budget
        assert dict(rendered.omitted).get("summary") == 1
        assert "summary 1" in rendered.body.splitlines()[-1]
    assert checked, "some budget leaves the summary out"
