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
