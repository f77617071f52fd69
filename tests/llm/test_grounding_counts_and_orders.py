"""Grounding of an LLM answer (``llm.prompts.ungrounded``) against counts and order numbers
(the snapshot review, session 28): "Her refund of $300 was issued" passed because the data said
"300 orders", and an order the data does not list passed as well."""

from __future__ import annotations

import pytest

from context_service.llm.prompts import ungrounded

SOURCE = (
    "Orders: 300, 5980.00 USD in total; latest #5014 placed 2026-11-20, paid, unfulfilled.\n"
    "- #5014 2026-11-20: 20.00 USD, paid, unfulfilled\n"
    "- 2 more paid orders not fulfilled yet; 1 more order refunded, not listed\n"
)


@pytest.mark.parametrize("invented", ["$300", "300 USD", "$2", "2.00 USD", "$1"])
def test_a_count_in_the_data_grounds_no_amount(invented: str) -> None:
    assert ungrounded(f"Her refund of {invented} was issued.", SOURCE)


@pytest.mark.parametrize("honest", ["$20", "20.00 USD", "$5,980.00"])
def test_an_amount_of_the_data_stays_grounded(honest: str) -> None:
    assert not ungrounded(f"Order #5014 came to {honest}.", SOURCE)


@pytest.mark.parametrize("invented", ["#5015", "# 4999", "#1"])
def test_an_order_the_data_does_not_list_is_ungrounded(invented: str) -> None:
    assert ungrounded(f"Order {invented} is on its way.", SOURCE)


def test_the_orders_the_data_lists_stay_grounded() -> None:
    assert not ungrounded("Order #5014 is paid and not shipped yet; she has 300 orders.", SOURCE)


def test_an_amount_in_a_currency_the_checker_does_not_list_stays_grounded() -> None:
    """``1500.00 TRY``: its code is a word after the number, not a count."""
    source = "- Order #1003 Nov 18: 1500.00 TRY, paid\n- Invoice Nov 17: 1200 TWD due\n"
    assert not ungrounded("Order #1003 came to ₺1,500.00; she owes NT$1,200.", source)


@pytest.mark.parametrize(
    "invented",
    [
        "Your order 1004 has shipped.",
        "Your order number 5015 has shipped.",
        "A refund of $8,672 was issued.",  # the card's last four digits
        "A refund of $4 was issued.",  # the 4 of a 4-pack
    ],
)
def test_a_reference_without_hash_and_numbers_that_are_no_amounts(invented: str) -> None:
    source = (
        "- Order #1003 Nov 18: 160.92 USD, paid; items: Smart Bulb E26 (4-pack)\n"
        "- Charge Nov 17: failed (card_declined), 49 USD on mastercard ending 8672\n"
    )
    assert ungrounded(invented, source)
    assert not ungrounded("Order 1003 came to $160.92.", source)
