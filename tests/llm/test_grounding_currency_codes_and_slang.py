"""Amounts in the spellings a model also uses (the LLM review, session 30): an ISO 4217 code
glued to the number (``USD98``, ``98USD``) or one outside the common few (``75 KWD``, ``1500
TRY``), and currency words (``98 pounds``, ``98 bucks``, ``ninety-eight dollars``) are amounts
like ``$98``, checked against the data by value and currency. Ordinary text beside a number
(``ID 1234``, ``SKU 12``, an order number, a date, ``2 orders``) stays no amount."""

from __future__ import annotations

import pytest

from context_service.llm.prompts import ungrounded

SOURCE = (
    "Invoice KJFEVMTW-0009 Nov 17: payment failed (1 attempt), 49.00 USD due\n"
    "Order #1003 Nov 18: 160.92 USD, paid; items: Smart Bulb E26 (4-pack), SKU LMP300\n"
    "Order #1004 2026-11-20: 1500.00 TRY, paid\n"
    "Customer ID 1234; 2 orders; phone +1 415 555 0134\n"
)


@pytest.mark.parametrize(
    "invented",
    [
        "We refunded USD98 to her card.",
        "We refunded 98USD to her card.",
        "A refund of 98 pounds was issued.",
        "A refund of 98 bucks was issued.",
        "A refund of 98 quid was issued.",
        "A refund of 98 yen was issued.",
        "A refund of 75 KWD was issued.",
        "A refund of KWD 75 was issued.",
        "A refund of 98 ZWG was issued.",
        "A refund of ninety-eight dollars was issued.",
        "A refund of 98 cents was issued.",
    ],
)
def test_an_invented_amount_in_any_spelling_is_ungrounded(invented: str) -> None:
    assert ungrounded(invented, SOURCE)


@pytest.mark.parametrize(
    "other_currency",
    [
        "Order #1004 came to 1500 USD.",  # the data's 1500 is in TRY
        "Order #1004 came to 1500 pounds.",
        "The invoice is 49 TRY.",  # the data's 49 is in USD
        "The invoice is 49KWD.",
        "The invoice is 49 euros.",
    ],
)
def test_a_value_of_the_data_in_another_currency_is_ungrounded(other_currency: str) -> None:
    assert ungrounded(other_currency, SOURCE)


@pytest.mark.parametrize(
    "honest",
    [
        "Order #1004 came to 1500 TRY.",
        "Order #1004 came to TRY1500.",
        "Order #1004 came to 1,500 lira.",
        "Order #1003 came to 160.92USD.",
        "The invoice is USD49 (49 bucks, forty-nine dollars).",
        "The invoice is 4900 cents.",
    ],
)
def test_an_amount_of_the_data_in_any_spelling_stays_grounded(honest: str) -> None:
    assert not ungrounded(honest, SOURCE)


@pytest.mark.parametrize(
    "ordinary",
    [
        "Customer ID 1234 has 2 orders.",
        "SKU 12 and SKU LMP300 are out of stock.",
        "Order #1003 shipped Nov 18; order 1004 on 2026-11-20.",
        "TOP 3 issues: ALL 2 orders are late; she wants 5 percent off.",
        "Her call is at 10:00 UTC; she paid dollars 3 times before.",
        "Two USD charges and a 4-pack of E26 bulbs.",
        "She should try 3 more times; all 2 orders are paid.",
    ],
)
def test_ordinary_text_beside_numbers_is_no_amount(ordinary: str) -> None:
    assert not ungrounded(ordinary, SOURCE)
