"""Escalation handoffs: no payment number reaches the LLM endpoint, and the ticket facts (which
ticket is open, whether one is urgent) count tickets open as the snapshot does (Zendesk
new, open, pending and hold)."""

from __future__ import annotations

import json

import httpx2
import msgspec
import pytest

from context_service.audience import FieldPolicy
from context_service.handoff import Turn, Who, build_handoff
from context_service.llm.handoff import llm_handoff, transcript_block
from context_service.models import Snapshot
from context_service.snapshot.redaction import CARD_REMOVED
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.llm.helpers import completion, mock_client

ESCALATION = FieldPolicy().view("escalation", None)
CARDS = ["4242 4242 4242 4242", "4242424242424242", "4000-0566-5566-5556"]
replace = msgspec.structs.replace


@pytest.fixture
def maya(demo_store: Store) -> Snapshot:
    return snapshot_of(demo_store)


def _who(snap: Snapshot) -> Who:
    return Who(snap.profile_id, snap.identity.name, [], [], "email", "high", "matched by email")


def _with_tickets(snap: Snapshot, status: str, priority: str | None = None) -> Snapshot:
    """Maya's snapshot with every ticket set to ``status`` (and ``priority`` when given)."""
    tickets = [
        replace(t, status=status, priority=priority or t.priority) for t in snap.support.tickets
    ]
    return replace(snap, support=replace(snap.support, tickets=tickets))


# --- payment numbers ----------------------------------------------------------------------------


def test_the_llm_handoff_prompt_carries_no_card_number(maya: Snapshot) -> None:
    bodies: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(request.content.decode())
        return httpx2.Response(200, json=completion("Who: Maya\nNext: check Stripe"))

    transcript = [
        Turn("customer", f"You charged my card {CARDS[0]} twice, refund one please"),
        Turn("customer", f"or was it {CARDS[1]}?"),
    ]
    reason = f"Customer says card {CARDS[2]} was charged twice"
    block = llm_handoff(mock_client(handler), maya, ESCALATION, transcript, reason, "fallback")
    assert block.source == "llm"
    prompt = json.loads(bodies[0])["messages"][-1]["content"]
    for card in CARDS:
        assert card not in prompt
    assert prompt.count(CARD_REMOVED) == 3
    assert "twice, refund one please" in prompt  # the rest of what was said stays
    assert "Customer says card" in prompt


def test_the_llm_handoff_prompt_carries_no_one_elses_contacts(maya: Snapshot) -> None:
    """The escalation view shows contacts in full, and the deterministic note keeps what the
    customer typed; the LLM endpoint, a third party, gets the customer's own contacts only
    (its note may not name another's anyway)."""
    bodies: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(request.content.decode())
        return httpx2.Response(200, json=completion("Who: Maya\nNext: check Stripe"))

    own = maya.identity.emails[0]
    transcript = [
        Turn("customer", f"Write to my brother at bro@example.org or me at {own}"),
        Turn("customer", "or call him on +44 7700 900123"),
    ]
    reason = "Customer asks us to contact raj.other@example.net"
    llm_handoff(mock_client(handler), maya, ESCALATION, transcript, reason, "fallback")
    prompt = json.loads(bodies[0])["messages"][-1]["content"]
    for other in ("bro@example.org", "+44 7700 900123", "raj.other@example.net"):
        assert other not in prompt
    assert own in prompt
    assert "Write to my brother at" in prompt


def test_transcript_block_redacts_each_turn_and_stays_json() -> None:
    lines = transcript_block(
        [Turn("customer", f"card {CARDS[0]}"), Turn("bot", "order #1003, phone +14155550134")]
    ).splitlines()
    assert [json.loads(line)["text"] for line in lines] == [
        f"card {CARD_REMOVED}",
        "order #1003, phone +14155550134",  # not a card number: kept
    ]


# --- which ticket is open -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["new", "open", "pending", "hold"])
def test_an_unsolved_ticket_is_the_open_ticket_of_the_handoff(maya: Snapshot, status: str) -> None:
    snap = _with_tickets(maya, status)
    handoff = build_handoff(snap, _who(snap), [Turn("customer", "any news?")], "needs a human")
    assert handoff.open_ticket == maya.support.tickets[0].external_id == "1001"


@pytest.mark.parametrize("status", ["solved", "closed"])
def test_a_finished_ticket_is_no_open_ticket(maya: Snapshot, status: str) -> None:
    snap = _with_tickets(maya, status)
    handoff = build_handoff(snap, _who(snap), [Turn("customer", "any news?")], "needs a human")
    assert handoff.open_ticket is None


# --- priority from ticket priority --------------------------------------------------------------


def _priority_of(snap: Snapshot) -> tuple[str, list[str]]:
    calm = replace(snap, signals=[])  # no critical signal: only the tickets can raise it
    handoff = build_handoff(
        calm, _who(calm), [Turn("customer", "Where is my parcel?")], "shipping question"
    )
    return handoff.priority, handoff.priority_why


@pytest.mark.parametrize("status", ["new", "open", "pending", "hold"])
def test_an_unsolved_high_priority_ticket_raises_the_priority(maya: Snapshot, status: str) -> None:
    priority, why = _priority_of(_with_tickets(maya, status, "high"))
    assert priority == "high"
    assert "an open ticket is marked high priority" in why


@pytest.mark.parametrize("status", ["solved", "closed"])
def test_a_finished_high_priority_ticket_leaves_the_priority_normal(
    maya: Snapshot, status: str
) -> None:
    priority, why = _priority_of(_with_tickets(maya, status, "urgent"))
    assert priority == "normal"
    assert "an open ticket is marked high priority" not in why


# --- facts ----------------------------------------------------------------------------------------


def test_a_plan_without_a_price_is_stated_without_one(maya: Snapshot) -> None:
    """A plan from a spreadsheet may carry no amount: "Plan Pro: active", not "None None"."""
    plan = replace(maya.billing.subscriptions[0], amount=None, currency=None)
    snap = replace(maya, billing=replace(maya.billing, subscriptions=[plan]))
    handoff = build_handoff(snap, _who(snap), [Turn("customer", "any news?")], "needs a human")
    (fact,) = [f for f in handoff.facts if f.startswith("Plan ")]
    assert "None" not in fact
    assert fact.endswith(f": {plan.status}")
