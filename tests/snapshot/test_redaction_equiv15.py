"""Payment-number redaction and the one-address shortcut against the code they replaced.

The reference below is ``redact_payment_numbers`` as it was before its quick check (commit
b2ae586's parent): wherever it answered, the new code answers the same, except that it takes
more kinds of separator between a card's digit groups (then it removes at least as much). Where it raised (a
look-alike letter that case-insensitive ``[A-Z]`` lets into an IBAN shape: the Kelvin sign
for k, the dotted capital I), the batch failed and nothing was stored; now the text is
stored, so an IBAN written with one must still be removed when its check digits are right.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from context_service.models import Address
from context_service.snapshot import redaction
from context_service.snapshot.assemble import _has_address_key
from context_service.snapshot.precedence import normalize_for
from context_service.snapshot.redaction import (
    CARD_REMOVED,
    IBAN_REMOVED,
    redact_payment_numbers,
)
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import zendesk_ticket, zendesk_user

KELVIN, DOTTED_I = "\u212a", "\u0130"

# --- the reference: the old code, verbatim --------------------------------------------------
_DIGIT_RUN = re.compile(r"(?<![\d])\d+(?:[ -]\d+)*(?![\d])")
_DIGITS = re.compile(r"\d+")
_CARD_DIGITS = range(13, 20)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_IBAN_ANY_CASE = re.compile(_IBAN.pattern, re.IGNORECASE)


def _old_redact(text: str) -> str:
    text = _DIGIT_RUN.sub(_old_without_cards, text)
    text = _IBAN.sub(IBAN_REMOVED, text)
    return _IBAN_ANY_CASE.sub(_old_iban_or_keep, text)


def _old_without_cards(match: re.Match[str]) -> str:
    run = match.group()
    groups = [(g.start(), g.end()) for g in _DIGITS.finditer(run)]
    out: list[str] = []
    kept_from, first = 0, 0
    while first < len(groups):
        last = _old_card_ending(run, groups, first)
        if last is None:
            first += 1
            continue
        out += [run[kept_from : groups[first][0]], "[card number removed]"]
        kept_from, first = groups[last][1], last + 1
    return "".join(out) + run[kept_from:]


def _old_card_ending(run: str, groups: list[tuple[int, int]], first: int) -> int | None:
    digits, found = "", None
    for last in range(first, len(groups)):
        digits += run[groups[last][0] : groups[last][1]]
        if len(digits) > _CARD_DIGITS[-1]:
            break
        if len(digits) in _CARD_DIGITS and _old_luhn(digits):
            found = last
    return found


def _old_luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _old_iban_or_keep(match: re.Match[str]) -> str:
    compact = match.group().replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    right = int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    return IBAN_REMOVED if right else match.group()


# --- texts ----------------------------------------------------------------------------------
_PIECES = st.sampled_from(
    [
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "378282246310005",
        "\uff14\uff12\uff14\uff12" * 4,  # fullwidth digits
        "\u0664\u0662\u0664\u0662" * 4,  # Arabic-Indic digits
        "4242\u00a04242\u00a04242\u00a04242",  # NBSP: a separator since the new code
        "GB82 WEST 1234 5698 7654 32",
        "gb82west12345698765432",
        "de89 3704 0044 0532 0130 00",
        "\u017ft12 abcd abcd",  # long s
        "\u0131t60x0542811101000000123456",  # dotless i
        "e\u0301",
        "\u202e",
        "\u2028",
    ]
)
_CHARS = st.sampled_from(
    [*"0123456789 -abgkswzABGKSWZ_+#.", "\u00a0", "\u2007", "\uff10", "\u0661", "\u017f", "\u0131"]
)
TEXT = st.lists(st.one_of(_PIECES, _CHARS), max_size=24).map("".join)


# What the old code did not take for a separator between digit groups and the new code may
# (any space, an invisible character, ``_``, ``/``, or a run of up to three of them): where a
# text holds none, both answer alike; where it does, the new code removes at least as much.
_WIDER_SEPARATOR = re.compile(r"\d(?:[\s\-_/\u200b]{2,}|[_/\u200b]|[^\S ])\d")


def _removed(text: str) -> int:
    return text.count(CARD_REMOVED) + text.count(IBAN_REMOVED)


@settings(max_examples=800, derandomize=True)
@given(TEXT)
def test_payment_redaction_answers_as_the_old_code(text: str) -> None:
    old, new = _old_redact(text), redact_payment_numbers(text)
    if _WIDER_SEPARATOR.search(text) is None:
        assert new == old
    else:
        assert _removed(new) >= _removed(old)


@pytest.mark.parametrize(
    ("written", "iban"),
    [
        (f"pay GB33 BU{KELVIN}B 2020 1555 5555 55 now", "GB33BUKB20201555555555"),
        (f"pay {KELVIN}W81 CBKU 0000 0000 0000 1234 5601 01 now", "KW81CBKU0000000000001234560101"),
        (f"pay {DOTTED_I}T60X0542811101000000123456 now", "IT60X0542811101000000123456"),
    ],
)
def test_an_iban_written_with_a_look_alike_letter_is_removed(written: str, iban: str) -> None:
    assert _old_redact(f"pay {iban} now") == f"pay {IBAN_REMOVED} now"  # its digits are right
    assert redact_payment_numbers(written) == f"pay {IBAN_REMOVED} now"


def test_a_look_alike_in_an_iban_shape_with_wrong_digits_is_kept() -> None:
    for text in (
        f"x ab12 cdef ghi{KELVIN}",
        f"IBAN de89 3704 0044 0532 0130 0{KELVIN}",
        f"refund to gb29 nwbk 6016 1331 9268 1{KELVIN} please",
        f"{DOTTED_I}T61X0542811101000000123456",
    ):
        assert redact_payment_numbers(text) == text


_ADDRESS_TEXT = st.lists(
    st.sampled_from(
        [*"aZ09_+-#. ", "\u00a0", "\u0301", "\u00df", "\u212a", "\u0130", "\uff21", "\u2116"]
    ),
    max_size=8,
).map("".join)


@settings(max_examples=600, derandomize=True)
@given(st.one_of(st.none(), _ADDRESS_TEXT), st.one_of(st.none(), _ADDRESS_TEXT))
def test_one_address_has_a_key_exactly_when_the_ranking_keys_it(
    street: str | None, postcode: str | None
) -> None:
    address = Address(street=street, postcode=postcode)
    key = normalize_for("address", f"{street or ''} {postcode or ''}")
    assert _has_address_key(address) is bool(key)


def test_every_non_ascii_letter_an_iban_shape_admits_is_read_as_its_ascii_letter() -> None:
    letter = re.compile("[A-Z]", re.IGNORECASE).fullmatch
    admitted = {chr(point) for point in range(0x110000) if point > 0x7F and letter(chr(point))}
    table = redaction._LOOK_ALIKE_LETTERS
    assert admitted == {chr(point) for point in table}
    for char in admitted:
        assert re.fullmatch(str(table[ord(char)]), char, re.IGNORECASE), char


def test_a_ticket_quoting_a_look_alike_iban_is_stored_without_it(
    store: Store, ingest: Ingest
) -> None:
    subject = f"refund to GB33 BU{KELVIN}B 2020 1555 5555 55 please"
    ingest(zendesk_user(502, "Kel Vin", "kel2@example.com"), zendesk_ticket(9002, 502, subject))
    snap = snapshot_of(store, "kel2@example.com")
    assert [t.title for t in snap.support.tickets] == [f"refund to {IBAN_REMOVED} please"]
