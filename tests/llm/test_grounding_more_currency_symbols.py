"""Amounts beside the currency symbols beyond the common few (session 31): the shekel's ``₪``,
the peso's ``₱``, and symbols written in letters (``zł``, ``kr``, ``Kč``, ``Rs.``, ``Ft``,
``lei``) are amounts, checked by value and currency like ``$98``; the letters count only in
the case they are written in and as a word of their own, so ``30 ft`` or ``Mrs 30`` is none."""

from __future__ import annotations

import pytest

from context_service.llm.prompts import ungrounded

SOURCE = (
    "Order #1004 2026-11-20: 1500.00 ILS, paid\n"
    "Invoice INV-7 Nov 17: 49.00 PLN due\n"
    "Order #1007 Nov 18: 300.00 SEK, paid; a 30 ft garden hose\n"
    "Order #1008 Nov 19: 2500.00 INR, paid\n"
)


@pytest.mark.parametrize(
    "invented",
    [
        "We refunded ₪98 to her card.",
        "We refunded ₱500 to her card.",
        "A refund of 98 zł was issued.",
        "A refund of 120 kr was issued.",
        "A refund of 120 Kč was issued.",
        "A refund of Rs. 500 was issued.",
        "A refund of 900 Ft was issued.",
        "A refund of 98 lei was issued.",
        "Order #1004 came to ₹1500.",  # the data's 1500 is in shekels
        "The invoice is 49 kr.",  # the data's 49 is in zloty
    ],
)
def test_an_invented_amount_beside_a_symbol_is_ungrounded(invented: str) -> None:
    assert ungrounded(invented, SOURCE)


@pytest.mark.parametrize(
    "honest",
    [
        "Order #1004 came to ₪1,500.00.",
        "The invoice of 49 zł is due.",
        "Order #1007 came to 300 kr.",
        "Order #1008 came to Rs. 2,500.",
        "Order #1008 came to Rs 2500.",
        "She ordered a 30 ft garden hose.",
    ],
)
def test_an_amount_of_the_data_beside_its_symbol_is_grounded(honest: str) -> None:
    assert not ungrounded(honest, SOURCE)


def test_letters_that_only_look_like_a_symbol_name_no_amount() -> None:
    assert not ungrounded("Mrs Patel has 2 open orders, the hose is 30 FT.", SOURCE)
