"""A secret the bot asked for is removed from the customer's answer, which carries no label of
its own ("482913" after "type the code we texted you"); ordinary answers stay as they were."""

from __future__ import annotations

import pytest

from context_service.snapshot.asked_secrets import secret_asked, without_answered_secret
from context_service.snapshot.secrets import SECRET_REMOVED


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("To verify you, please type the one-time code we just texted you.", "code"),
        ("What's the verification code?", "code"),
        ("Please enter the code we sent to your phone", "code"),
        ("What is the CVV on the back of your card?", "code"),
        ("Can you confirm your card PIN?", "code"),
        ("What is your account password?", "password"),
        ("Wie lautet Ihr Passwort?", "password"),
        ("What is your order number?", None),
        ("What's the zip code of the delivery address?", None),
        ("Can I have the email on your account?", None),
    ],
)
def test_what_a_question_asks_for(question: str, kind: str | None) -> None:
    assert secret_asked(question) == kind


@pytest.mark.parametrize(
    ("answer", "kind", "kept"),
    [
        ("482913", "code", ""),
        (" 482 913. ", "code", " . "),
        ("sure, 482913", "code", "sure, "),
        ("it's 737 I think", "code", "it's  I think"),
        ("Tr0ub4dor&3x", "password", ""),
        ("it's Hunter2!", "password", "it's !"),
    ],
)
def test_the_secret_in_an_answer_goes(answer: str, kind: str, kept: str) -> None:
    cleaned = without_answered_secret(answer, kind)  # type: ignore[arg-type]
    assert SECRET_REMOVED in cleaned
    assert cleaned.replace(SECRET_REMOVED, "") == kept


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("ok", "password"),
        ("I forgot it", "password"),
        ("Thanks", "password"),
        ("one sec, let me look", "code"),
        ("I never got a code for order #1004", "code"),
    ],
)
def test_an_answer_without_the_secret_stays(answer: str, kind: str) -> None:
    assert without_answered_secret(answer, kind) == answer  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "question",
    [
        "What is the card number?",
        "Could you share the long number on the front of your card?",
        "Please give me the 16-digit number and the expiry date.",
        "Please send your card details",
        "What are the 16 digits on your card?",
    ],
)
def test_a_question_for_a_card_number_asks_for_a_card(question: str) -> None:
    assert secret_asked(question) == "card"


@pytest.mark.parametrize(
    "question", ["Did you pay by credit card or PayPal?", "Which debit card did you pay with?"]
)
def test_a_question_about_a_card_asks_for_no_number(question: str) -> None:
    assert secret_asked(question) is None


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        ("4111 1111 1111 1111", ""),
        ("4111,1111|1111*1111", ""),  # any separator: a Luhn check over one pattern misses these
        ("4111 1111", ""),  # half of it: the rest comes in the next message
        ("1111 1111 exp 12/30", " exp "),
        ("4111 1111 1111 1111 for order #1004", " for order #1004"),
        ("4111", ""),  # a number typed four digits a message
        ("then 1111", "then "),
        ("account 4111 1111 1111 1112", "account "),
        ("4111\n1111", "\n"),
    ],
)
def test_the_digits_of_a_card_answer_go(answer: str, kept: str) -> None:
    cleaned = without_answered_secret(answer, "card")
    assert SECRET_REMOVED in cleaned
    assert cleaned.replace(SECRET_REMOVED, "") == kept


@pytest.mark.parametrize(
    "answer",
    [
        "the Visa, I think",
        "it ends in 4242",  # the last four are on every receipt
        "charged $1,249.99 twice for order 100234 on 2025-11-03",
        "PayPal. Order 778899, amount 2,340.00",
        "invoice 20251103 for 3 units",
        "order number 55000000000012, total 1,099.00 EUR",
        "orders 1003, 1004 and #1005",
    ],
)
def test_what_is_no_card_number_stays_in_a_card_answer(answer: str) -> None:
    """A review saw amounts, dates and order numbers go from an answer after any mention of a
    credit card: only card-shaped digits go."""
    assert without_answered_secret(answer, "card") == answer
