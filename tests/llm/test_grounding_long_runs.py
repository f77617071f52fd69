"""The grounding check reads a customer's transcript, up to 200 turns of 8,000 characters:
a turn that is one long run of digits (a pasted log, a card-like string, ``1,1,1,...``) or
of letters must not make it crawl. Each pattern that scans forward for a number or an
email's ``@`` starts only where a run starts, never inside one, so a run is read once
instead of once per character (8,000 digits took about a minute)."""

from __future__ import annotations

import pytest

from context_service.llm import prompts
from context_service.llm.prompts import ungrounded

RUNS = ["1" * 40 + " USD", "1," * 20 + "1 USD", "111." * 10 + "111,50 EUR"]


@pytest.mark.parametrize("text", RUNS)
def test_an_amount_is_not_looked_for_inside_a_run_of_digits(text: str) -> None:
    assert prompts._AMOUNT.match(text, 0)
    for inside in range(1, 20):
        assert prompts._AMOUNT.match(text, inside) is None, inside


def test_an_email_is_not_looked_for_inside_a_run_of_its_characters() -> None:
    text = "maya.patel" * 5 + "@example.com"
    assert prompts._EMAIL.match(text, 0)
    assert all(prompts._EMAIL.match(text, inside) is None for inside in range(1, 30))


def test_the_amounts_and_emails_found_are_the_same_as_before() -> None:
    text = "Pay 1,234.50 USD or 49,00 € by maya.patel@example.com, ref 12345 USD; x1 EUR"
    amounts = [m.group(0) for m in prompts._AMOUNT.finditer(text)]
    assert amounts == ["1,234.50 USD", "49,00 €", "12345 USD", "1 EUR"]
    assert prompts._EMAIL.findall(text) == ["maya.patel@example.com"]


@pytest.mark.parametrize("run", ["7" * 8000, "7," * 4000, "a" * 8000])
def test_a_long_run_in_the_data_is_checked_like_any_text(run: str) -> None:
    source = f"Order #1004: 49.00 USD\ncustomer: {run}"
    assert not ungrounded("Order #1004 came to $49.", source)
    assert ungrounded("Order #1004 came to $59.", source)
