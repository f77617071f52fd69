"""Amounts written with a currency word (``49 euros``) are amounts too, checked by
value and currency like ``€49``; an amount written with a decimal comma (``49,00 €``,
``€1.234,50``) is the value it names, not a hundred times it."""

from __future__ import annotations

import pytest

from context_service.llm.prompts import ungrounded

SOURCE = (
    "Invoice KJFEVMTW-0009 Nov 17: payment failed (1 attempt), 49.00 USD due\n"
    "Order #1004 Nov 20: 1234.50 EUR, paid\n"
)


@pytest.mark.parametrize(
    "invented",
    [
        "We refunded 49 euros to Maya.",  # the data gives 49 only in USD
        "We refunded 59 dollars to Maya.",  # no 59 in the data
        "We refunded 49.00 Euro to Maya.",
        "Maya owes 1234.50 US dollars.",  # the data gives 1234.50 only in EUR
    ],
)
def test_an_amount_written_with_a_currency_word_is_checked(invented: str) -> None:
    assert ungrounded(invented, SOURCE)


@pytest.mark.parametrize(
    "honest",
    [
        "Maya owes 49.00 dollars.",
        "Maya owes 49 US dollars.",
        "Order #1004 came to 1234.50 euros.",
        "Order #1004 came to €1.234,50.",
        "Order #1004 came to 1.234,50 EUR.",
        "Maya owes 49,00 $.",
        "Maya owes USD 49.00, a $49/month plan.",
    ],
)
def test_honest_amounts_in_other_spellings_stay_grounded(honest: str) -> None:
    assert not ungrounded(honest, SOURCE)


def test_a_decimal_comma_does_not_make_an_invented_amount_grounded() -> None:
    assert ungrounded("Order #1004 came to €1.234,55.", SOURCE)
    assert ungrounded("Maya owes 48,00 $.", SOURCE)
