"""Field comparisons: which level two records' names and emails compare at."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from context_service.identity.compare import compare, names_conflict
from context_service.identity.features import Features
from context_service.identity.normalize import first_name_variants


def _person(first: str, last: str, *emails: str) -> Features:
    return Features(emails=tuple(sorted(emails)), first=first, last=last)


def _names(a: Features, b: Features) -> tuple[str, str]:
    levels = compare(a, b)
    return levels[2], levels[3]


@pytest.mark.parametrize(
    ("written", "formal"),
    [("tori", "victoria"), ("chrissy", "christine"), ("bob", "robert"), ("jimmy", "james")],
)
def test_a_nickname_is_the_same_first_name(written: str, formal: str) -> None:
    assert _names(_person(written, "lee"), _person(formal, "lee")) == ("exact", "exact")


@pytest.mark.parametrize(
    ("written", "formal"),
    [
        ("jimmmy", "james"),  # a typo in the nickname
        ("nicohlas", "nick"),  # a typo in the formal name, the other wrote the nickname
        ("bobyb", "robert"),
        ("cris", "christopher"),
        ("dbebie", "deborah"),
    ],
)
def test_a_typo_of_a_nickname_is_a_fuzzy_first_name_not_a_conflict(
    written: str, formal: str
) -> None:
    a, b = _person(written, "okafor"), _person(formal, "okafor")
    assert _names(a, b) == ("fuzzy", "exact")
    assert not names_conflict(a, b)


@pytest.mark.parametrize(
    ("x", "y"), [("mia", "ma"), ("yan", "yn"), ("yun", "ynu"), ("hui", "hiu"), ("lin", "ln")]
)
def test_a_letter_dropped_or_swapped_in_a_short_name_is_fuzzy(x: str, y: str) -> None:
    assert _names(_person(x, y), _person(y, x))[0] == "fuzzy"
    assert _names(_person("wei", x), _person("wei", y)) == ("exact", "fuzzy")


@pytest.mark.parametrize(
    ("x", "y"), [("lee", "lea"), ("jon", "jan"), ("ben", "bev"), ("ann", "bo")]
)
def test_a_wrong_letter_in_a_short_name_is_another_name(x: str, y: str) -> None:
    a, b = _person(x, "stone"), _person(y, "stone")
    assert _names(a, b)[0] == "different"
    assert names_conflict(a, b)


def test_a_first_letter_slip_in_a_short_name_is_another_name() -> None:
    assert _names(_person("amy", "park"), _person("may", "park"))[0] == "different"


@given(st.sampled_from(["bob", "robert", "sam", "sammy", "chris", "tori", "kate", "jo", "ann"]))
def test_name_variants_are_mutual(token: str) -> None:
    variants = first_name_variants(token)
    assert token in variants
    assert all(token in first_name_variants(v) for v in variants)


@given(
    st.text(alphabet="abcdefghij", min_size=1, max_size=7),
    st.text(alphabet="abcdefghij", min_size=1, max_size=7),
)
def test_name_levels_are_symmetric(x: str, y: str) -> None:
    a, b = _person(x, y), _person(y[::-1], x)
    assert compare(a, b) == compare(b, a)
    assert names_conflict(a, b) == names_conflict(b, a)


def _email_level(a: Features, b: Features) -> str:
    return compare(a, b)[0]


def test_two_mailboxes_with_a_first_name_and_the_same_three_digits_are_related() -> None:
    a = _person("lin", "thomas", "lint421@gmail.com")
    b = _person("lin", "thomas", "lin.thomas421@granite.example")
    assert _email_level(a, b) == "related"
    steve = _person("steve", "knight", "stevenk.3083@icloud.com")
    steven = _person("steve", "knight", "steven.knight3083@foxglove.example")
    assert _email_level(steve, steven) == "related"


def test_two_digits_and_only_a_first_name_are_not_enough() -> None:
    a = _person("lin", "thomas", "lint42@gmail.com")
    b = _person("lin", "thomas", "lin.t42@granite.example")
    assert _email_level(a, b) == "different"


def test_other_digits_are_different_mailboxes() -> None:
    a = _person("lin", "thomas", "lin.thomas421@gmail.com")
    b = _person("lin", "thomas", "lin.thomas422@granite.example")
    assert _email_level(a, b) == "different"


def test_a_record_without_a_name_whose_mailbox_spells_the_name_compares_as_named() -> None:
    nameless = Features(emails=("elizabeth_reynolds1002@yahoo.com",), phones=("+15555550100",))
    beth = Features(phones=("+15555550100",), first="beth", last="reynolds")
    assert _names(nameless, beth) == ("exact", "exact")
    assert _names(beth, nameless) == ("exact", "exact")


def test_a_family_mailbox_spells_only_the_surname() -> None:
    nameless = Features(emails=("thereynolds12@yahoo.com",))
    beth = Features(first="beth", last="reynolds")
    assert _names(nameless, beth) == ("null", "null")


def test_one_handle_at_two_providers_is_the_same_local_part() -> None:
    a = _person("oiisn", "collins", "oisin.collins4802@meadowlark.example")
    b = _person("oisin", "collins", "oisin_collins4802@hotmail.com")
    assert _email_level(a, b) == "local"


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("john.smith@gmail.com", "john.smith@yahoo.com"),  # a plain name: many people
        ("jsmith87@gmail.com", "jsmith87@yahoo.com"),  # a birth year
    ],
)
def test_a_plain_name_or_two_digits_at_two_providers_is_not_one_handle(x: str, y: str) -> None:
    assert _email_level(_person("john", "smith", x), _person("john", "smith", y)) != "local"


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("mgarcia13844@gmail.com", "mgarcia18344@gmail.com"),  # two digits swapped
        ("jbrown3357@gmail.com", "jbrown33578@gmail.com"),  # a digit more
        ("jsmith1987@gmail.com", "jsmith1978@gmail.com"),  # two birth years
    ],
)
def test_a_slip_in_the_digits_is_another_mailbox(x: str, y: str) -> None:
    """Common names make numbers one slip apart by chance: no typo is assumed in the digits."""
    assert _email_level(_person("maria", "garcia", x), _person("maria", "garcia", y)) == "different"
