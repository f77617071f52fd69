"""The emails and phone numbers written anywhere in a payload's text.

What the suppression guard and an erasure read in a payload no person record explains: one
that could not be mapped (kept raw as rejected), or an activity no held person owns (a Shopify
guest checkout, a Stripe charge without a customer), whose billing and shipping details still
name the buyer. An email is any ``local@domain`` run; a phone is a run of digits, spaces and
``+-().`` holding 7 to 15 digits that reads as a valid number in the region (``+1 415 555 0134``,
``(415) 555-0134``): an order id or a date that happens to read as one only matters when it is
the very number looked for.
"""

from __future__ import annotations

import re

from context_service.identity.normalize import (
    is_merge_email,
    mailbox_key,
    normalize_email,
    normalize_phone,
)

_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"(?<![\w.])\+?\d[\d ().-]{5,22}\d(?![\w])")
_MIN_DIGITS, _MAX_DIGITS = 7, 15


def emails_in(text: str) -> list[str]:
    """The email addresses written in ``text``, as written."""
    return _EMAIL_IN_TEXT.findall(text)


def phones_in(text: str, region: str, endings: frozenset[str] | None = None) -> set[str]:
    """The phone numbers written in ``text``, in E.164 (read in ``region`` when written
    without their country code); with ``endings``, only those whose last four digits are
    one of them (the others are not read: parsing a number is the slow part)."""
    found: set[str] = set()
    for run in _PHONE_IN_TEXT.findall(text):
        digits = "".join(char for char in run if char.isdigit())
        if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
            continue
        if endings is not None and digits[-4:] not in endings:
            continue
        if phone := normalize_phone(run, region):
            found.add(phone)
    return found


def mailbox_of(email: str) -> str | None:
    """The mailbox a normalized email reaches as the lookup reads it (``+tag`` dropped, Gmail's
    dots dropped: ``normalize.mailbox_key``), or ``None`` for an address the lookup never
    reads by its mailbox (a generic or placeholder one, ``info@``)."""
    return mailbox_key(email) if is_merge_email(email) else None


def mailboxes_in(text: str) -> set[str]:
    """The normalized emails written in ``text`` and the mailboxes they reach."""
    found: set[str] = set()
    for raw in emails_in(text):
        email = normalize_email(raw)
        if email is None:
            continue
        found.add(email)
        if (mailbox := mailbox_of(email)) is not None:
            found.add(mailbox)
    return found
