"""Token budgets: never exceeded, whole facts dropped by priority, the omission reported."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from context_service.audience import (
    AUDIENCES,
    BudgetTooSmall,
    ContextRequest,
    FieldPolicy,
    build_context,
    count_tokens,
)
from context_service.audience.compose import fit, place
from context_service.audience.facts import snapshot_facts
from context_service.audience.render import Header, renderer_for
from context_service.audience.specs import SPECS
from context_service.models import Snapshot

POLICY = FieldPolicy()


def _fit(snap: Snapshot, audience: str, fmt: str, budget: int):  # type: ignore[no-untyped-def]
    view = POLICY.view(audience, None)
    spec = SPECS[audience]  # type: ignore[index]
    renderer = renderer_for(fmt, Header("p", 1, "t", audience, budget), spec)  # type: ignore[arg-type]
    placed = place(snapshot_facts(snap, view), spec, None, fold=fmt != "json")
    fitted = fit(placed, budget, renderer, count_tokens)
    return fitted, renderer


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
@pytest.mark.parametrize("budget", [150, 300, 600])
def test_budget_is_never_exceeded(maya: Snapshot, audience: str, fmt: str, budget: int) -> None:
    request = ContextRequest(audience, fmt, budget)  # type: ignore[arg-type]
    try:
        rendered = build_context(maya, request, POLICY.view(audience, None))
    except BudgetTooSmall:  # refused with a 400, never exceeded
        assert (fmt, budget) == ("json", 150), "only the bulky JSON of humans may not fit 150"
        return
    assert count_tokens(rendered.body) == rendered.tokens <= budget


@settings(max_examples=40, deadline=None)
@given(budget=st.integers(min_value=120, max_value=1500), audience=st.sampled_from(AUDIENCES))
def test_whole_facts_drop_lowest_priority_first(maya: Snapshot, budget: int, audience: str) -> None:
    fitted, renderer = _fit(maya, audience, "text", budget)
    assert fitted.tokens <= budget
    if fitted.omitted:
        assert max(p.priority for p in fitted.kept) <= min(p.priority for p in fitted.omitted)
        assert "Omitted to fit" in fitted.body
    for placed in fitted.kept:  # never cut mid-fact: every kept fact is there whole
        assert renderer.fact(placed) in fitted.body


def test_the_response_says_what_was_left_out(maya: Snapshot) -> None:
    text = build_context(maya, ContextRequest("agent", "text", 200), POLICY.view("agent", None))
    assert text.omitted
    assert "Omitted to fit 200 tokens" in text.body
    doc = json.loads(
        build_context(maya, ContextRequest("agent", "json", 300), POLICY.view("agent", None)).body
    )
    assert doc["max_tokens"] == 300
    assert doc["omitted"]["records"] >= 1


def test_no_budget_means_nothing_omitted(maya: Snapshot) -> None:
    rendered = build_context(maya, ContextRequest("agent", "text"), POLICY.view("agent", None))
    assert rendered.omitted == []
    assert "Omitted" not in rendered.body


def test_a_budget_below_the_identity_line_is_refused(maya: Snapshot) -> None:
    with pytest.raises(BudgetTooSmall):
        _fit(maya, "chatbot", "text", 20)


def test_chatbot_at_300_tokens_keeps_every_key_fact(maya: Snapshot) -> None:
    body = build_context(
        maya, ContextRequest("chatbot", "text", 300), POLICY.view("chatbot", None)
    ).body
    for fact in (
        r"Maya Patel",
        r"Subscription Pro [^\n]*: past_due",
        r"KJFEVMTW-0009[^\n]*payment failed[^\n]*49 USD due",
        r"#1003[^\n]*unfulfilled",
        r"charged twice",
    ):
        assert re.search(fact, body), fact
