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

# A run of digit groups separated by single spaces or dashes: a card number is a stretch of
# whole groups in it (a customer writes ``4242 4242 4242 4242 12/30`` or ``order 1001 4242 ...``).
_DIGIT_RUN = re.compile(r"(?<![\d])\d+(?:[ -]\d+)*(?![\d])")
_DIGITS = re.compile(r"\d+")
_CARD_DIGITS = range(13, 20)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_IBAN_ANY_CASE = re.compile(_IBAN.pattern, re.IGNORECASE)
CARD_REMOVED = "[card number removed]"
IBAN_REMOVED = "[bank account removed]"


def redact_payment_numbers(text: str) -> str:
    """Remove card numbers (13-19 digits passing the Luhn check) and IBANs from free text.

    An IBAN in capitals goes whatever its check digits; one in lower or mixed case only when
    they are right, so ordinary words that happen to fit the pattern stay.
    """
    text = _DIGIT_RUN.sub(_without_cards, text)
    text = _IBAN.sub(IBAN_REMOVED, text)
    return _IBAN_ANY_CASE.sub(_iban_or_keep, text)


def _without_cards(match: re.Match[str]) -> str:
    """A run of digit groups with every card number in it replaced, the rest kept."""
    run = match.group()
    groups = [(g.start(), g.end()) for g in _DIGITS.finditer(run)]
    out: list[str] = []
    kept_from, first = 0, 0
    while first < len(groups):
        last = _card_ending(run, groups, first)
        if last is None:
            first += 1
            continue
        out += [run[kept_from : groups[first][0]], CARD_REMOVED]
        kept_from, first = groups[last][1], last + 1
    return "".join(out) + run[kept_from:]


def _card_ending(run: str, groups: list[tuple[int, int]], first: int) -> int | None:
    """The last group of the longest card number that starts at group ``first``, if any."""
    digits, found = "", None
    for last in range(first, len(groups)):
        digits += run[groups[last][0] : groups[last][1]]
        if len(digits) > _CARD_DIGITS[-1]:
            break
        if len(digits) in _CARD_DIGITS and _luhn(digits):
            found = last
    return found


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _iban_or_keep(match: re.Match[str]) -> str:
    return IBAN_REMOVED if _iban_check_digits_right(match.group()) else match.group()


def _iban_check_digits_right(candidate: str) -> bool:
    """ISO 13616: the country and check digits moved to the end, letters as 10-35, mod 97 is 1."""
    compact = candidate.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


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
