"""Card numbers written with dots and bank account or routing numbers named as such are
removed from free text (a review found ``4111.1111.1111.1111`` and ``routing 021000021 account
123456789`` kept verbatim in an escalation's helpdesk note)."""

from __future__ import annotations

import pytest

from context_service.snapshot.redaction import (
    CARD_REMOVED,
    IBAN_REMOVED,
    redact_every_payment_number,
    redact_payment_numbers,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111.1111.1111.1111 exp 12/30", f"card {CARD_REMOVED} exp 12/30"),
        ("5555.5555.5555.4444", CARD_REMOVED),
        ("4242\uff0e4242\uff0e4242\uff0e4242", CARD_REMOVED),  # fullwidth dots
        (
            "routing 021000021 account 123456789",
            f"routing {IBAN_REMOVED} account {IBAN_REMOVED}",
        ),
        (
            "account number is 000123456789, routing number is 021000021",
            f"account number is {IBAN_REMOVED}, routing number is {IBAN_REMOVED}",
        ),
        ("checking account: 000123456789", f"checking account: {IBAN_REMOVED}"),
        ("A/C No. 123456789012", f"A/C No. {IBAN_REMOVED}"),
        ("bank account 110-123-456789", f"bank account {IBAN_REMOVED}"),
        ("routing 021-000-021", f"routing {IBAN_REMOVED}"),
        ("Card No.4111.1111.1111.1111", f"Card No.{CARD_REMOVED}"),
        ("sort code 12-34-56", f"sort code {IBAN_REMOVED}"),
        ("bank account no. 12 3456 7890", f"bank account no. {IBAN_REMOVED}"),
    ],
)
def test_removed(text: str, expected: str) -> None:
    assert redact_payment_numbers(text) == expected
    assert redact_every_payment_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "my account was charged 49.00 twice on 2026.11.23",
        "order 1001 on my account",
        "account 12345 is locked",  # five digits: a short id, not a bank account
        "version 1234.5678.9012",  # twelve digits: no card
        "4111.1111.1111.1112",  # fails the Luhn check
        "Account: 1001 (order)",
        "My account 88231977 can't log in",  # a shop's account: no banking word near it
        "my account number is 88231977, cannot log in",
        "account 415 555 0134",  # a phone
        "acct 415-555-0134",
        "my account 2024-05-12 created",
        "I'm checking #1002345 now",  # checking, not a checking account
        "I was checking. 555 123 4567 is my number",
        "prices 12.50 13.99 1234.5678 and 4111.1111.1111",
    ],
)
def test_kept(text: str) -> None:
    assert redact_payment_numbers(text) == text
