"""The words that raise an escalation's priority: a threat to go to the bank over a charge is
urgent, "my bank card details" is not; repeated contact and frustration are high, while
"thanks again" and "is my plan still active?" are neither."""

from __future__ import annotations

import pytest

from context_service.handoff.intent import is_upset, urgent_words


@pytest.mark.parametrize(
    "text",
    [
        "I want to update my bank card details",
        "Which bank do you use for refunds?",
        "Can I pay by bank transfer?",
    ],
)
def test_a_bank_mentioned_in_passing_is_not_urgent(text: str) -> None:
    assert urgent_words([text]) == []


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("If this is not fixed I will call my bank", "call my bank"),
        ("I already contacted my bank about it", "contacted my bank"),
        ("I'll report this to my bank", "to my bank"),
        ("Fix it or I file a chargeback with my bank.", "chargeback"),
    ],
)
def test_going_to_the_bank_over_a_charge_is_urgent(text: str, word: str) -> None:
    assert word in urgent_words([text])


@pytest.mark.parametrize(
    "text", ["Thanks again!", "Is my plan still active?", "Can you send it again please?"]
)
def test_politeness_and_questions_are_no_frustration(text: str) -> None:
    assert not is_upset([text])


@pytest.mark.parametrize(
    "text",
    [
        "This is the second time I write about it.",
        "It is still not delivered",
        "still no refund",
        "I was charged again!",
        "I'm so frustrated with this",
        "This is ridiculous",
    ],
)
def test_repeated_contact_and_frustration_are_upset(text: str) -> None:
    assert is_upset([text])
