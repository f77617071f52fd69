"""Normalization is pure, idempotent and tolerant of any input."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from context_service.identity.normalize import (
    births_conflict,
    fold,
    is_family_mailbox,
    is_merge_email,
    is_merge_phone,
    is_own_number,
    name_tokens,
    normalize_birth_date,
    normalize_email,
    normalize_phone,
)


@pytest.mark.parametrize(
    "raw", ["+1 415-555-0134", "(415) 555-0134", "415.555.0134", "+14155550134", "4155550134"]
)
def test_us_phone_formats_share_one_e164(raw: str) -> None:
    assert normalize_phone(raw, "US") == "+14155550134"


def test_uk_number_with_region_and_international_prefix() -> None:
    assert normalize_phone("020 7946 0123", "GB") == normalize_phone("+44 20 7946 0123", "US")


@pytest.mark.parametrize("region", ["US", "CA", "GB", "DE"])
@pytest.mark.parametrize("raw", ["00442079460958", "0044 20 7946 0958", "00 44 (0)20 7946 0958"])
def test_the_00_international_prefix_is_read_in_every_region(raw: str, region: str) -> None:
    """Most of the world dials abroad with 00; a North American region's rules know only 011,
    so a European customer's ``0044...`` was no phone at all in a US store."""
    assert normalize_phone(raw, region) == "+442079460958"


@pytest.mark.parametrize("raw", ["", "n/a", "12", "not a phone", "+", "()"])
def test_non_phones_are_none(raw: str) -> None:
    assert normalize_phone(raw, "US") is None


@pytest.mark.parametrize("raw", ["0000000000", "+1 111 111 1111", "1234567890"])
def test_placeholder_phones_are_not_merge_keys(raw: str) -> None:
    e164 = normalize_phone(raw, "US")
    assert e164 is None or not is_merge_phone(e164)


def test_email_case_and_whitespace() -> None:
    assert normalize_email("  Maya.Patel@Example.COM ") == "maya.patel@example.com"


@pytest.mark.parametrize("raw", ["not-an-email", "a@b", "@example.com", "a b@example.com", ""])
def test_malformed_emails_are_none(raw: str) -> None:
    assert normalize_email(raw) is None


@pytest.mark.parametrize(
    ("email", "merge"),
    [
        ("info@silvacosta.example", False),
        ("support@shop.example", False),
        ("test@test.com", False),
        ("noreply@example.com", False),
        ("maya.patel@example.com", True),
        ("info+maya@example.com", False),
    ],
)
def test_generic_and_placeholder_emails_are_not_merge_keys(email: str, merge: bool) -> None:
    assert is_merge_email(email) is merge


@pytest.mark.parametrize(
    ("email", "household"),
    [
        ("thepetrovs951@yahoo.com", True),
        ("the.garcias@gmail.com", True),
        ("desai.family@example.com", True),
        ("smithhousehold@outlook.com", True),
        ("theodore.nash@gmail.com", False),
        ("thomas1984@gmail.com", False),
        ("maya.patel@example.com", False),
    ],
)
def test_a_household_mailbox_is_told_by_its_name(email: str, household: bool) -> None:
    assert is_family_mailbox(email) is household


def test_name_tokens_fold_accents_and_drop_titles() -> None:
    assert name_tokens(None, None, "Dr. Tomás García") == ("tomas", "garcia")
    assert name_tokens("José", "Núñez", None) == ("jose", "nunez")


@given(st.text(max_size=60))
def test_email_normalization_is_idempotent(raw: str) -> None:
    once = normalize_email(raw)
    assert once is None or normalize_email(once) == once


@given(st.text(max_size=30))
def test_phone_normalization_is_idempotent(raw: str) -> None:
    once = normalize_phone(raw, "US")
    assert once is None or (once.startswith("+") and normalize_phone(once, "US") == once)


@given(st.text(max_size=40))
@example("\ua7f9")  # a modifier ligature that decomposes into "œ", which folds to "oe"
@example("\u1d2d")  # and one that decomposes into "Æ"
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_fold_ascii_shortcut_agrees_with_the_full_decomposition(text: str) -> None:
    # The same text with one accented letter in front takes the full path; the folded ASCII
    # remainder must come out the same either way.
    assert fold("\u00e9" + text) == "e" + fold(text)
    assert fold("Tom\u00e1s O'BRIEN") == "tomas o'brien"


@given(
    digits=st.text(alphabet="0123456789", min_size=10, max_size=11),
    style=st.sampled_from(
        ["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "{a}{b}{c}", "+1 {a} {b} {c}"]
    ),
)
def test_north_american_shortcut_agrees_with_the_phonenumbers_parser(
    digits: str, style: str
) -> None:
    import phonenumbers

    from context_service.identity.normalize import _nanp_national

    core = digits[-10:]
    raw = style.format(a=core[:3], b=core[3:6], c=core[6:])
    fast = _nanp_national(raw)
    if fast is None:
        return
    parsed = phonenumbers.parse(raw, "US")
    assert phonenumbers.is_possible_number(parsed)
    assert fast == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("maya.patel@yahoo.co", "maya.patel@yahoo.com"),  # .com cut short
        ("maya.patel@hotmail.co", "maya.patel@hotmail.com"),
        ("maya.patel@yhaoo.com", "maya.patel@yahoo.com"),  # two letters swapped
        ("maya.patel@yahoo.co.uk", "maya.patel@yahoo.co.uk"),  # a real domain stays
        ("maya.patel@ymail.com", "maya.patel@ymail.com"),
    ],
)
def test_common_provider_domain_typos_are_fixed(raw: str, fixed: str) -> None:
    assert normalize_email(raw) == fixed


@pytest.mark.parametrize(
    ("digits", "own"),
    [
        ("48635", True),
        ("90210", True),
        ("2026123", True),
        ("1234", False),  # too short to be anybody's own
        ("12345", False),  # a placeholder run
        ("67890", False),
        ("11111", False),
        ("121212", False),  # two digits repeated
    ],
)
def test_a_mailbox_number_is_its_owner_s_only_when_long_and_not_a_placeholder(
    digits: str, own: bool
) -> None:
    assert is_own_number(digits) is own


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("1984-03-09", "1984-03-09"),
        (" 1984-03-09T00:00:00Z", "1984-03-09"),
        ("447638400000", "1984-03-09"),  # HubSpot's midnight epoch milliseconds
        ("09/03/1984", ""),  # ambiguous: not read as a date at all
        ("1984-13-40", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_dates_of_birth_normalize_to_iso_dates(raw: str | None, normalized: str) -> None:
    assert normalize_birth_date(raw) == normalized


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        ("1984-03-09", "1984-03-09", False),
        ("1984-03-09", "", False),  # one unknown: nothing to disagree about
        ("1984-03-09", "1984-09-03", False),  # day and month swapped: a US/EU reading
        ("1984-03-09", "1985-03-09", True),
        ("1984-03-09", "1984-03-10", True),
        ("2011-06-02", "1979-06-02", True),  # a parent and a child
    ],
)
def test_dates_of_birth_conflict_only_when_both_known_and_not_a_swap(
    a: str, b: str, conflict: bool
) -> None:
    assert births_conflict(a, b) is conflict
    assert births_conflict(b, a) is conflict


def test_fold_is_idempotent_for_every_code_point() -> None:
    """Hypothesis found two compatibility characters at random (U+A7F9, U+1D2D); this checks
    every code point once, so no other one waits to be drawn."""
    points = (chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)
    assert [c for c in points if fold(fold(c)) != fold(c)] == []
