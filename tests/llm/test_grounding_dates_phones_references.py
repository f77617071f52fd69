"""The LLM grounding check: a date, a phone number or a record's reference in the data does not
ground an invented amount of the same digits, and a word like a month hides no amount."""

from __future__ import annotations

import pytest

from context_service.llm.prompts import ungrounded

# What the data says, as the agent's context renders it: dates, a phone, references, counts.
SOURCE = (
    "Order #1003 Nov 18: 160.92 USD, paid; items: Smart Bulb E26 (4-pack)\n"
    "Invoice KJFEVMTW-0009 Nov 17: payment failed, 49.00 USD due\n"
    "Updated 2024-03-15T10:20:00Z. Phone +1 415 555 0134. Charge ch_3NxAbc12345678\n"
)


@pytest.mark.parametrize("invented", ["$18", "$15", "$20", "$415", "$1003", "$26", "$9"])
def test_an_invented_amount_is_not_grounded_by_a_date_phone_or_reference(invented: str) -> None:
    """A day of a date, a part of a phone number or a record's number is not an amount: an
    invented refund of that value is still an invented refund."""
    assert ungrounded(f"We refunded {invented} to Maya yesterday.", SOURCE)


@pytest.mark.parametrize("honest", ["$49", "160.92 USD", "$160.92"])
def test_an_amount_the_data_holds_stays_grounded(honest: str) -> None:
    assert not ungrounded(f"Maya owes {honest}.", SOURCE)


@pytest.mark.parametrize("line", ["Marketing plan 29 USD", "Junior seat: 29", "May 2024: 29 USD"])
def test_a_word_that_starts_like_a_month_does_not_hide_an_amount(line: str) -> None:
    assert not ungrounded("Maya pays $29 a month.", f"{SOURCE}{line}\n")
