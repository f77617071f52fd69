"""Numbers beside words that only look like money (the LLM review, session 30): ``pounds of``
and a weight the data gives in ``lb`` are weights, ``a 10 franc coin`` is a coin, and a code
that is also a word (``2 PEN 3 refills``, a ``12CUP coffee maker``) or ``3 rand`` is money only
where the data or the answer names that currency otherwise. Invented amounts in these
currencies stay caught where they are money."""

from __future__ import annotations

import pytest

from context_service.llm.prompts import ungrounded

SOURCE = (
    "Orders (1, 64.99 USD total): #1003 2026-11-18 64.99 USD paid unfulfilled; "
    "items: Whole Bean Coffee 5 lb bag x1, Dog Food 30 lb x1, 12-Cup Coffee Maker x1\n"
    'Ticket 1001 open: customer-written "the 5 lb bag arrived torn"\n'
)


@pytest.mark.parametrize(
    "ordinary",
    [
        "Order #1003 includes 1 pound of coffee and 2 pounds of beans; 64.99 USD paid.",
        "Order #1003 (64.99 USD) holds a 5 pound coffee bag and 30 pounds of dog food.",
        "Her 30 pounds of dog food in #1003 is unfulfilled.",
        "Order #1003 has a 12CUP coffee maker and she ordered 2 PEN 3 refills.",
        "Order #1003 contains a 10 franc coin replica and a 1 yen coin.",
        "She sent a 3 rand sample; order #1003 is paid (64.99 USD).",
        "She found a ten franc coin and a two-pound coin.",
    ],
)
def test_weights_coins_and_word_like_codes_are_no_amounts(ordinary: str) -> None:
    assert not ungrounded(ordinary, SOURCE)


@pytest.mark.parametrize(
    "invented",
    [
        "A refund of 98 pounds was issued.",
        "A refund of 98 yen was issued.",
        "We refunded USD98.",
        "We refunded 98USD.",
        "We refunded 98 bucks.",
        "We refunded 75 KWD.",
        "We refunded forty-nine dollars.",
        "We refunded 75KWD.",
        "A refund of 98.00 PEN was issued.",  # with cents, a word-like code is money
    ],
)
def test_invented_amounts_stay_caught(invented: str) -> None:
    assert ungrounded(invented, SOURCE)


# A store that sells in soles, rand and pounds: there the same words are money.
LOCAL = "Orders (3): #1 120.00 PEN paid; #2 150.00 ZAR paid; #3 40.00 GBP paid, Dog Food 30 lb\n"


@pytest.mark.parametrize(
    "invented",
    [
        "A refund of 98 PEN was issued.",
        "A refund of 98PEN was issued.",
        "A refund of 3 rand was issued.",
        "A refund of 98 pounds was issued.",
    ],
)
def test_word_like_codes_and_rand_are_money_where_the_data_names_them(invented: str) -> None:
    assert ungrounded(invented, LOCAL)


@pytest.mark.parametrize(
    "honest",
    ["Order #1 came to 120 PEN.", "Order #2 came to 150 rand.", "Order #3 came to 40 pounds."],
)
def test_their_amounts_of_the_data_stay_grounded(honest: str) -> None:
    assert not ungrounded(honest, LOCAL)


def test_a_code_word_in_the_answer_makes_its_neighbour_money() -> None:
    """``2 PEN`` is money when the answer also names soles beyond doubt."""
    assert ungrounded("She owes 120.00 PEN, and 2 PEN more.", LOCAL)


# A weight or a coin beside a money word is money again (the LLM review, session 30, of
# 7e161ab): an invented refund in pounds, or in a store's word-like code, stays caught.
GBP = "Orders (1, 59.99 GBP total): #1003 2026-11-18 59.99 GBP paid; items: Dog Food 30 lb x1\n"
PHP = "Orders (1, 1500 PHP total): #1003 2026-11-18 1500 PHP paid\n"
PEN = "Orders (1): #1003 2026-11-18 120 PEN paid\n"


@pytest.mark.parametrize(
    ("invented", "source"),
    [
        ("We refunded 30 pounds.", GBP),
        ("Her refund: 30 pounds.", GBP),
        ("We refunded 30 pounds of the 59.99 GBP charge.", GBP),
        ("A 30 pounds of credit was issued to her account.", GBP),
        ("She was given a 30 pound coin refund.", GBP),
        ("We credited her thirty pounds.", GBP),
        ("A refund of 500 PHP was issued for #1003.", PHP),
        ("We refunded 500PHP.", PHP),
        ("A refund of 50 PEN was issued.", PEN),
    ],
)
def test_weights_and_coins_beside_a_money_word_are_money(invented: str, source: str) -> None:
    assert ungrounded(invented, source)


@pytest.mark.parametrize(
    "honest",
    [
        "Her 30 pounds of dog food in #1003 is paid (59.99 GBP).",
        "Order #1003 (59.99 GBP paid) holds 30 pounds of dog food.",
        "Order #1003 came to 1500 PHP.",
    ],
)
def test_a_money_word_elsewhere_leaves_a_weight_a_weight(honest: str) -> None:
    assert not ungrounded(honest, GBP if "GBP" in honest else PHP)
