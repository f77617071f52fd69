"""Payment card and bank account numbers that customers type into free text, removed before a
snapshot is stored, so no rendering, export or audience (``full`` included) can show them.

Only free text is touched: ticket subjects and last public comments, order notes, deal names,
and the signals and summary that quote them. Identifiers (phones, vendor ids) are left alone:
a long phone number can pass the Luhn check too.
"""

from __future__ import annotations

import re

import msgspec

from context_service.models import Snapshot

_CARD = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
CARD_REMOVED = "[card number removed]"
IBAN_REMOVED = "[bank account removed]"


def redact_payment_numbers(text: str) -> str:
    """Remove card numbers (13-19 digits passing the Luhn check) and IBANs from free text."""
    text = _CARD.sub(_card_or_keep, text)
    return _IBAN.sub(IBAN_REMOVED, text)


def _card_or_keep(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD_REMOVED if _luhn(digits) else match.group()


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _clean(text: str | None) -> str | None:
    return redact_payment_numbers(text) if text else text


def without_payment_numbers(snap: Snapshot) -> Snapshot:
    """The snapshot with payment numbers removed from its free text (the same object when it
    holds none)."""
    replace = msgspec.structs.replace
    support = replace(
        snap.support,
        tickets=[
            replace(t, title=_clean(t.title), last_public_comment=_clean(t.last_public_comment))
            for t in snap.support.tickets
        ],
    )
    commerce = replace(
        snap.commerce, orders=[replace(o, note=_clean(o.note)) for o in snap.commerce.orders]
    )
    crm = replace(snap.crm, deals=[replace(d, title=_clean(d.title)) for d in snap.crm.deals])
    signals = [replace(s, message=redact_payment_numbers(s.message)) for s in snap.signals]
    cleaned = replace(
        snap,
        support=support,
        commerce=commerce,
        crm=crm,
        signals=signals,
        summary=redact_payment_numbers(snap.summary),
    )
    return snap if cleaned == snap else cleaned
