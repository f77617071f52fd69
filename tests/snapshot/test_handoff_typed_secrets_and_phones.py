"""What the customer typed into the chat reaches the handoff, its note and the LLM prompt only
as the key's view allows: a secret the bot asked for and the customer sent as its own turn is
removed, and a phone number that is not on file (a new one, a relative's) is removed for a view
that masks or hides contacts, as an email that is not on file is."""

from __future__ import annotations

import pytest

from context_service.audience.contacts import typed_text_as_viewed
from context_service.audience.policy import View
from context_service.handoff import Turn, Who, build_handoff, render_text
from context_service.llm.handoff import transcript_block
from context_service.models import Snapshot
from context_service.store import Store
from tests.audience.helpers import snapshot_of

FULL = View(contact="full", hidden=frozenset())
NO_CONTACTS = View(contact="none", hidden=frozenset())
NO_PHONES = View(contact="full", hidden=frozenset({"identity.phones", "identity.emails"}))
MASKED = View(contact="masked", hidden=frozenset())
NEW_PHONE = "+1 415 555 0199"  # not on Maya's profile
NEW_EMAIL = "maya.newjob@gmail.com"  # not on her profile either


@pytest.fixture
def maya(demo_store: Store) -> Snapshot:
    return snapshot_of(demo_store)


def _who(maya: Snapshot) -> Who:
    return Who(maya.profile_id, maya.identity.name, [], [], "email", "high", "by email")


@pytest.mark.parametrize(
    ("question", "secret"),
    [
        ("To verify you, please type the one-time code we just texted you.", "482913"),
        ("What is your account password?", "Tr0ub4dor&3x"),
        ("What is the CVV on the back of your card?", "737"),
    ],
    ids=["otp", "password", "cvv"],
)
def test_a_secret_the_bot_asked_for_is_removed(maya: Snapshot, question: str, secret: str) -> None:
    turns = [
        Turn("customer", "I can't log in and I was charged twice"),
        Turn("bot", question),
        Turn("customer", secret),
        Turn("bot", "Thanks, let me get a colleague."),
        Turn("customer", "ok 1234"),  # after the bot spoke again: no longer an answer
    ]
    handoff = build_handoff(maya, _who(maya), turns, "Login problem, needs a human", FULL)
    text = render_text(handoff)
    prompt = transcript_block(turns)
    for shown in (handoff.wants, text, prompt):
        assert secret not in shown
    assert "[secret removed]" in prompt
    assert "ok 1234" in prompt


@pytest.mark.parametrize(
    "turns",
    [
        [
            Turn("customer", "I was charged twice, my card number is 4111 1111"),
            Turn("customer", "1111 1111 exp 12/30"),
        ],
        [
            Turn("customer", "I was charged twice"),
            Turn("bot", "What is the card number?"),
            Turn("customer", "4111 1111"),
            Turn("customer", "1111 1111"),
        ],
        [
            Turn("customer", "I was charged twice"),
            Turn("bot", "What is the card number?"),
            Turn("customer", "4111"),
            Turn("customer", "1111"),
            Turn("customer", "1111 exp 12/30"),
            Turn("customer", "1111"),
        ],
    ],
    ids=["named-by-the-customer", "asked-by-the-bot", "four-digits-a-message"],
)
def test_a_card_number_typed_in_two_messages_is_removed(maya: Snapshot, turns: list[Turn]) -> None:
    """A review split a card over two messages: each half is no card number on its own, and
    both reached the note and the LLM prompt."""
    handoff = build_handoff(maya, _who(maya), turns, "Card problem, needs a human", FULL)
    text = render_text(handoff)
    prompt = transcript_block(turns)
    for shown in (handoff.wants, text, prompt):
        assert "4111" not in shown
        assert "1111 1111" not in shown
        assert "12/30" not in shown
    assert "charged twice" in prompt


def test_a_card_mentioned_in_passing_takes_no_order_or_amount_away(maya: Snapshot) -> None:
    """A review's customer wrote "My credit card was charged twice for order 1003, 160.92 USD
    each time": the order number and the amount went from the handoff, and the order in
    question with them."""
    said = "My credit card was charged twice for order 1003, 160.92 USD each time"
    turns = [
        Turn("bot", "Did you pay by credit card or PayPal?"),
        Turn("customer", said),
        Turn("customer", "I updated my card details yesterday, it was $89.50 on 2025-11-03"),
    ]
    handoff = build_handoff(maya, _who(maya), turns, "Charged twice", FULL)
    prompt = transcript_block(turns)
    for shown in (handoff.wants, prompt):
        assert "1003" in shown
        assert "160.92" in shown
        assert "[secret removed]" not in shown
    assert "$89.50 on 2025-11-03" in prompt


@pytest.mark.parametrize("view", [NO_CONTACTS, NO_PHONES, MASKED], ids=["none", "hidden", "masked"])
@pytest.mark.parametrize("typed", [NEW_PHONE, "(415) 555-0199"], ids=["international", "national"])
def test_a_phone_typed_into_the_chat_follows_the_view(
    maya: Snapshot, view: View, typed: str
) -> None:
    said = f"Please call me back on {typed} or write to {NEW_EMAIL}, I want a refund"
    turns = [Turn("customer", said)]
    handoff = build_handoff(maya, _who(maya), turns, "refund", view, region="US")
    text = render_text(handoff)
    prompt = transcript_block(turns, typed_text_as_viewed(maya, view, "US"))
    for shown in (handoff.wants, text, prompt):
        assert NEW_EMAIL not in shown
        assert "4155550199" not in "".join(ch for ch in shown if ch.isdigit()), shown
        assert "[phone removed]" in shown


def test_a_view_that_shows_contacts_keeps_the_typed_phone(maya: Snapshot) -> None:
    turns = [Turn("customer", f"Please call me back on {NEW_PHONE}")]
    handoff = build_handoff(maya, _who(maya), turns, "callback", FULL, region="US")
    assert NEW_PHONE in handoff.wants
