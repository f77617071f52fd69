"""A surname written as one letter (``Maya P``, as helpdesks and chat widgets often show a name)
agrees with another ``P`` on a letter, not on a surname: the pair must not get the weight of
two people called Patel."""

from __future__ import annotations

from context_service.identity.compare import FIELD_NAMES, _last_level, compare, names_conflict
from context_service.identity.features import features_of
from context_service.models import PersonFacet, RecordKey


def _features(first: str, last: str, n: int) -> object:
    key = RecordKey("zendesk", "user", str(n))
    return features_of(key, PersonFacet(first_name=first, last_name=last), "US")


def _last(levels: tuple[str, ...]) -> str:
    return levels[FIELD_NAMES.index("last_name")]


def test_two_surname_initials_alike_are_not_an_exact_surname() -> None:
    levels = compare(_features("Maya", "P", 1), _features("Maya", "P", 2))  # type: ignore[arg-type]
    assert _last(levels) == "fuzzy"


def test_two_full_surnames_alike_stay_exact() -> None:
    levels = compare(_features("Maya", "Patel", 1), _features("Maya", "Patel", 2))  # type: ignore[arg-type]
    assert _last(levels) == "exact"


def test_two_different_surname_initials_differ() -> None:
    assert _last_level("p", "q") == "different"


def test_a_one_character_cjk_surname_is_a_whole_surname() -> None:
    assert _last_level("王", "王") == "exact"


def test_a_surname_initial_is_no_conflict_with_the_surname_it_starts() -> None:
    short, full = _features("Maya", "P", 1), _features("Maya", "Patel", 2)
    assert not names_conflict(short, full)  # type: ignore[arg-type]
    assert _last(compare(short, full)) == "fuzzy"  # type: ignore[arg-type]


def test_a_surname_initial_conflicts_with_a_surname_it_does_not_start() -> None:
    assert names_conflict(_features("Maya", "Q", 1), _features("Maya", "Patel", 2))  # type: ignore[arg-type]
