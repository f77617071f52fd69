"""Blocking keys: a person's records meet under one key; different people's rarely do."""

from __future__ import annotations

from typing import TypedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from context_service.identity.features import (
    Features,
    blocking_keys,
    mailbox_initials,
    name_keys,
)


def _person(first: str, last: str, *emails: str) -> Features:
    return Features(emails=tuple(sorted(emails)), first=first, last=last)


def _meet(a: Features, b: Features) -> bool:
    return bool(blocking_keys(a) & blocking_keys(b))


def test_a_name_typo_and_a_second_mailbox_with_the_same_digits_meet() -> None:
    a = _person("oiisn", "collins", "oisin.collins4802@meadowlark.example")
    b = _person("oisin", "collins", "ocollins4802@hotmail.com")
    assert _meet(a, b)


def test_the_same_local_part_without_its_punctuation_meets() -> None:
    a = _person("", "", "kenneth_kwon2282@gmail.com")
    b = _person("kenneth", "kwon", "kenneth.kwon2282@summit.example")
    assert _meet(a, b)


def test_a_bare_name_or_a_name_with_other_digits_is_no_block() -> None:
    smith = _person("john", "smith", "jsmith4411@gmail.com")
    assert not _meet(smith, _person("john", "smith"))
    assert not _meet(smith, _person("john", "smith", "john.smith903@yahoo.com"))


def test_short_digit_runs_need_the_whole_name() -> None:
    assert not _meet(
        _person("john", "smith", "jsmith12@gmail.com"),
        _person("jane", "smith", "smith.j12@yahoo.com"),
    )


names = st.text(alphabet="abcdefgh", min_size=0, max_size=6)
digits = st.text(alphabet="0123456789", min_size=0, max_size=5)


@given(names, names, names, digits)
def test_keys_are_a_pure_function_of_the_features(
    first: str, last: str, local: str, n: str
) -> None:
    emails = (f"{local}{n}@example.com",) if local or n else ()
    features = _person(first, last, *emails)
    assert blocking_keys(features) == blocking_keys(_person(first, last, *emails))
    assert all(key and ":" in key for key in blocking_keys(features))


def test_an_ambiguous_nickname_meets_each_formal_name_it_may_stand_for() -> None:
    sam = Features(first="sam", last="harrison", postcode="77088", street="792 cherry dr")
    samuel = Features(first="samuel", last="harrison", postcode="77088", street="792 cherry dr")
    assert _meet(sam, samuel)
    assert name_keys(sam) == {"harrison|sam", "harrison|samuel", "harrison|samantha"}
    assert name_keys(Features(first="bob", last="smith")) == {"robert|smith"}


def test_a_long_run_of_digits_meets_a_record_without_a_name() -> None:
    nameless = _person("", "", "vossean25164@gmail.com")
    assert _meet(nameless, _person("sean", "vos", "sean.vos25164@bright.example"))


def test_placeholder_runs_of_digits_are_no_block() -> None:
    a, b = _person("", "", "ann.lee12345@gmail.com"), _person("", "", "bo.park12345@yahoo.com")
    assert not _meet(a, b)
    c, d = _person("", "", "ann.lee11111@gmail.com"), _person("", "", "bo.park11111@yahoo.com")
    assert not _meet(c, d)


def test_a_name_typo_at_the_same_door_meets() -> None:
    def at(first: str, postcode: str = "63117") -> Features:
        return Features(first=first, last="aguilar", postcode=postcode, street="1554 park dr")

    assert _meet(at("dave"), at("daave"))
    assert not _meet(at("dave"), at("dave", postcode="63118"))


def test_a_mailbox_spells_the_initials_of_a_record_without_a_name() -> None:
    assert mailbox_initials("jennifer_brown394@yahoo.com") == {"bj"}
    assert mailbox_initials("meijer.deborah16550@outlook.com") == {"dm"}
    assert mailbox_initials("dmenon7684@gmail.com") == {"dm", "de", "dn", "do"}
    assert mailbox_initials("12345@example.com") == set()


class Door(TypedDict):
    """An address's ``Features`` fields, passed as ``**door``."""

    postcode: str
    street: str


_DOOR: Door = {"postcode": "96866", "street": "2415 meadow pl"}


@pytest.mark.parametrize(
    "email",
    [
        "diasdeborah28983@gmail.com",  # one word: the surname's initial somewhere in it
        "deborah_dias@gmail.com",
        "ddias@gmail.com",  # an initial and the surname
    ],
)
def test_a_nameless_mailbox_meets_the_name_it_spells_at_the_same_door(email: str) -> None:
    deborah = Features(first="deborah", last="dias", **_DOOR)
    assert _meet(Features(emails=(email,), **_DOOR), deborah)


def test_a_nameless_mailbox_at_the_door_does_not_meet_other_initials_or_doors() -> None:
    nameless = Features(emails=("deborah_dias@gmail.com",), **_DOOR)
    assert not _meet(nameless, Features(first="carlos", last="ruiz", **_DOOR))  # a flatmate
    moved: Door = {"postcode": "96866", "street": "17 harbor rd"}
    assert not _meet(nameless, Features(first="deborah", last="dias", **moved))
    assert not _meet(Features(**_DOOR), Features(first="deborah", last="dias", **_DOOR))


def test_a_nameless_mailbox_meets_the_name_it_spells_with_three_or_four_digits() -> None:
    nameless = _person("", "", "mnacini.melissa244@icloud.com")
    assert _meet(nameless, _person("melissa", "mancini", "mancini.melissa244@icloud.com"))
    assert _meet(_person("", "", "ruid.1957@icloud.com"), _person("rui", "demir", "rd1957@x.io"))


def test_a_nameless_mailbox_does_not_meet_other_digits_or_other_initials() -> None:
    nameless = _person("", "", "jennifer_brown394@yahoo.com")
    assert not _meet(nameless, _person("jennifer", "brown", "jen.brown395@meadowlark.example"))
    assert not _meet(nameless, _person("maria", "lopez", "mlopez394@gmail.com"))
    assert not _meet(nameless, _person("", "", "mlopez394@gmail.com"))


_LOCAL = st.text(alphabet="ab._-1", min_size=1, max_size=9)


def _local_keys(local: str) -> set[str]:
    return {k for k in blocking_keys(_person("", "", f"{local}@x.example")) if k.startswith("l:")}


@given(_LOCAL, _LOCAL)
def test_local_part_keys_meet_exactly_when_the_local_parts_match(x: str, y: str) -> None:
    """Two local parts long enough to block on meet when they are equal, or equal without
    their punctuation; each has one such key, not one per spelling."""

    def plain(local: str) -> str:
        return "".join(ch for ch in local if ch.isalnum())

    long_enough = (len(plain(x)) >= 6 and plain(x) == plain(y)) or (len(x) >= 6 and x == y)
    assert bool(_local_keys(x) & _local_keys(y)) == long_enough
    assert len(_local_keys(x)) <= 1
