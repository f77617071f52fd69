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
