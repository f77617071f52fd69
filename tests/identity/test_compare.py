"""Field comparisons: which level two records' names and emails compare at."""

from __future__ import annotations

from typing import TypedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from context_service.identity.compare import compare, names_conflict
from context_service.identity.features import Features
from context_service.identity.model import DEFAULT_MODEL
from context_service.identity.normalize import first_name_variants
from context_service.identity.pairs import Thresholds, decide


class Door(TypedDict):
    """An address's ``Features`` fields, passed as ``**door``."""

    postcode: str
    street: str


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


def _outcome(a: Features, b: Features) -> tuple[str, bool, bool, bool]:
    """The pair's rule, and whether it links, goes to review, and can never share a profile."""
    result = decide(a, b, DEFAULT_MODEL, Thresholds())
    return result.rule, result.link, result.review, result.conflict


def _linked(a: Features, b: Features) -> bool:
    return decide(a, b, DEFAULT_MODEL, Thresholds()).link


def test_a_typo_in_a_name_that_the_own_mailbox_spells_right_is_the_same_name() -> None:
    makr = _person("makr", "barnes", "barnesmark2923@gmail.com")
    mark = _person("mark", "barnes", "mark.barnes2923@stonegate.example")
    assert _names(makr, mark) == ("exact", "exact")
    assert _names(mark, makr) == ("exact", "exact")


@pytest.mark.parametrize(
    ("first", "email"),
    [
        ("marc", "marc.barnes2923@gmail.com"),  # the mailbox spells its own spelling, not his
        ("makr", "mbarnes2923@gmail.com"),  # the mailbox does not spell a first name
    ],
)
def test_a_name_a_typo_apart_stays_fuzzy_unless_the_mailbox_spells_the_other(
    first: str, email: str
) -> None:
    a = _person(first, "barnes", email)
    mark = _person("mark", "barnes", "mark.barnes2923@stonegate.example")
    assert _names(a, mark) == ("fuzzy", "exact")


def test_a_mailbox_does_not_turn_a_conflict_into_a_match() -> None:
    ann = _person("ann", "barnes", "mark.barnes2923@gmail.com")  # a partner's mailbox
    mark = _person("mark", "barnes", "mark.barnes2923@stonegate.example")
    assert _names(ann, mark) == ("different", "exact")
    assert names_conflict(ann, mark)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("psahin42791@hotmail.com", "psahhin42791@hotmail.com"),  # a slip in the handle
        ("psahin45480@gmail.com", "patricia.sahin45480@clearwater.example"),  # a second one
    ],
)
def test_a_handle_with_the_same_five_digit_number_is_its_own_level(x: str, y: str) -> None:
    a, b = _person("patricia", "sahin", x), _person("patricia", "sahin", y)
    assert _email_level(a, b) == "handle"


@pytest.mark.parametrize(
    ("x", "y", "level"),
    [
        ("psahin4279@hotmail.com", "psahhin4279@hotmail.com", "fuzzy"),  # four digits
        ("psahin4548@gmail.com", "patricia.sahin4548@clearwater.example", "related"),
        ("psahin12345@gmail.com", "patricia.sahin12345@clearwater.example", "related"),
        ("psahin11111@gmail.com", "patricia.sahin11111@clearwater.example", "related"),
    ],
)
def test_shorter_or_placeholder_numbers_keep_the_weaker_levels(x: str, y: str, level: str) -> None:
    a, b = _person("patricia", "sahin", x), _person("patricia", "sahin", y)
    assert _email_level(a, b) == level


def test_the_same_numbered_handle_links_through_a_typo_in_the_name() -> None:
    jacqueline = _person("jacqueline", "sahin", "jsahin45480@gmail.com")
    typo = _person("jacueline", "sahin", "jacqueline.sahin45480@clearwater.example")
    assert _linked(jacqueline, typo)
    other = _person("jacqueline", "sahin", "jacqueline.sahin45481@clearwater.example")
    assert not _linked(jacqueline, other)


@pytest.mark.parametrize(
    ("nameless", "named"),
    [
        ("cthomas11049@gmail.com", "charles.thomas11049@evergreen.example"),  # initial, surname
        ("nehaw.46834@outlook.com", "neha.ward46834@lantern.example"),  # name, initial
        ("rao.amada24712@hotmail.com", "rao.amanda24712@hotmail.com"),  # a slip of the name
        ("madison_ly19138@yahoo.com", "madison.ly19138@maple.example"),  # a two-letter surname
    ],
)
def test_a_nameless_record_with_the_others_handle_compares_as_named(
    nameless: str, named: str
) -> None:
    record = Features(emails=(nameless,))
    first, last = named.partition("@")[0].rstrip("0123456789").split(".")
    person = _person(first, last, named)
    assert _names(record, person) == ("exact", "exact")
    assert _linked(record, person)


@pytest.mark.parametrize(
    "nameless",
    [
        "mthomas11049@gmail.com",  # another initial: Mary, not Charles
        "cthomas@gmail.com",  # no number of its own: any C. Thomas
        "cthomas1104@gmail.com",  # another, shorter number
    ],
)
def test_a_short_spelling_without_the_same_long_number_is_not_a_name(nameless: str) -> None:
    charles = _person("charles", "thomas", "charles.thomas11049@evergreen.example")
    assert _names(Features(emails=(nameless,)), charles) == ("null", "null")


@pytest.mark.parametrize("nameless", ["cthomas@gmail.com", "cthomas1104@gmail.com"])
def test_a_short_spelling_at_the_same_door_does_not_link(nameless: str) -> None:
    """Carol Thomas at Charles Thomas's address: only the door is shared."""
    door: Door = {"postcode": "11270", "street": "2291 cedar blvd"}
    record = Features(emails=(nameless,), **door)
    charles = Features(
        emails=("charles.thomas11049@evergreen.example",), first="charles", last="thomas", **door
    )
    assert not _linked(record, charles)


def test_a_nameless_handle_alone_does_not_link() -> None:
    """The same numbered handle with no name on either side is one piece of evidence."""
    a = Features(emails=("sschroder10753@gmail.com",))
    b = Features(emails=("samuel.schroder10753@kestrel.example",))
    assert _email_level(a, b) == "different"
    assert not _linked(a, b)


@pytest.mark.parametrize(
    ("x", "y", "email"),
    [
        ("slin", "seiln", "seline.1471@yahoo.com"),  # a letter dropped, two swapped
        ("caamila", "cmila", "camilam.16199@icloud.com"),
    ],
)
def test_two_slips_of_the_name_the_mailbox_spells_are_no_conflict(
    x: str, y: str, email: str
) -> None:
    a, b = _person(x, "esposito", email), _person(y, "esposito", email)
    assert _names(a, b) == ("fuzzy", "exact")
    assert not names_conflict(a, b)


def test_two_slips_of_a_surname_the_mailbox_spells_are_no_conflict() -> None:
    a, b = _person("mary", "ownes", "mowens3578@icloud.com"), _person("mary", "oens")
    assert _names(a, b) == ("exact", "fuzzy")


@pytest.mark.parametrize(
    ("x", "y", "email"),
    [
        ("amy", "ann", "thesmiths12@gmail.com"),  # a family mailbox spells no first name
        ("slin", "seiln", "s.esposito1471@yahoo.com"),  # the mailbox spells neither
        ("lena", "nora", "lenora.smith@gmail.com"),  # each is in it, neither is a slip of it
    ],
)
def test_names_two_slips_apart_without_one_spelling_still_conflict(
    x: str, y: str, email: str
) -> None:
    a, b = _person(x, "smith", email), _person(y, "smith", email)
    assert names_conflict(a, b)


_DOOR: Door = {"postcode": "02993", "street": "1621 linden ter"}


def _at_door(first: str, last: str, *emails: str) -> Features:
    return Features(emails=tuple(emails), first=first, last=last, **_DOOR)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("samanthahoward2684@gmail.com", "samanthah2685@gmail.com"),
        ("samantha.howard1955@gmail.com", "showard1985@yahoo.com"),
    ],
)
def test_namesakes_at_one_door_with_their_own_numbered_mailboxes_go_to_review(
    x: str, y: str
) -> None:
    """A Sr and a Jr: one name, one address, each their own mailbox under that name."""
    result = decide(
        _at_door("samantha", "howard", x),
        _at_door("samantha", "howard", y),
        DEFAULT_MODEL,
        Thresholds(),
    )
    assert not result.link
    assert result.review


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("showard18344@gmail.com", "showard13844@gmail.com"),  # two digits swapped: a slip
        ("showard1834@gmail.com", "showard18344@gmail.com"),  # one doubled
        ("thehowards12@gmail.com", "samanthah2685@gmail.com"),  # a family mailbox
        ("samantha.howard@acme.example", "samanthah2685@gmail.com"),  # a work mailbox, no number
    ],
)
def test_one_person_at_one_door_with_a_slip_or_another_mailbox_still_links(x: str, y: str) -> None:
    a = _at_door("samantha", "howard", x)
    b = _at_door("samantha", "howard", y)
    assert _linked(a, b)


def _on_phone(first: str, last: str, email: str) -> Features:
    return Features(emails=(email,), phones=("+15555550100",), first=first, last=last)


def test_namesakes_on_one_home_phone_go_to_review_and_never_share_a_profile() -> None:
    """A Sr and a Jr on the family's landline: the phone and the name agree, but each holds
    their own numbered mailbox under that name, so the phone rule does not link them."""
    sr = _on_phone("samantha", "howard", "samanthahoward2684@gmail.com")
    jr = _on_phone("samantha", "howard", "samanthah2685@gmail.com")
    assert _outcome(sr, jr) == ("namesakes", False, True, True)


def test_namesakes_are_found_when_one_record_misspells_the_shared_name() -> None:
    """``Smantha``'s mailbox spells Samantha; the other's spells ``samanthah``: one name."""
    result = decide(
        _at_door("smantha", "howard", "samantha.howard2684@gmail.com"),
        _at_door("samantha", "howard", "samanthah.2685@gmail.com"),
        DEFAULT_MODEL,
        Thresholds(),
    )
    assert (result.rule, result.link, result.review) == ("namesakes", False, True)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("samantha.howard1985@gmail.com", "showard85@yahoo.com"),  # one year, full and short
        ("samanthahoward2684@gmail.com", "samantha.howard2684@outlook.com"),  # one number
        ("samanthahoward2684@gmail.com", "howard.family@gmail.com"),  # a family mailbox
    ],
)
def test_one_person_on_one_phone_with_two_mailboxes_still_links_by_the_phone_rule(
    x: str, y: str
) -> None:
    a, b = _on_phone("samantha", "howard", x), _on_phone("samantha", "howard", y)
    assert decide(a, b, DEFAULT_MODEL, Thresholds()).rule == "phone_name"


def test_a_nameless_namesake_at_one_door_with_its_own_numbered_mailbox_goes_to_review() -> None:
    """Rob Le Sr and Jr: the record without a name spells the name, with another number."""
    nameless = Features(emails=("robert_le32989@gmail.com",), **_DOOR)
    rob = _at_door("rob", "le", "robert_le32988@gmail.com")
    result = decide(nameless, rob, DEFAULT_MODEL, Thresholds())
    assert _names(nameless, rob) == ("exact", "exact")
    assert not result.link
    assert result.review


@pytest.mark.parametrize(
    "nameless",
    [
        "robert_le3298@gmail.com",  # its number, one digit dropped: one person's slip
        "robert_le@gmail.com",  # no number of its own
    ],
)
def test_a_nameless_mailbox_at_one_door_without_another_number_still_links(
    nameless: str,
) -> None:
    assert _linked(
        Features(emails=(nameless,), **_DOOR), _at_door("rob", "le", "robert_le32988@gmail.com")
    )


def test_different_dates_of_birth_on_one_mailbox_go_to_review_not_into_one_profile() -> None:
    parent = Features(
        emails=("lee.family@example.com",), first="ann", last="lee", birth="1979-06-02"
    )
    child = Features(
        emails=("lee.family@example.com",), first="ann", last="lee", birth="2011-06-02"
    )
    assert _outcome(parent, child) == ("birth_date", False, True, True)
    # The same date, a swapped day and month, or one date unknown: the mailbox links as before.
    for other in ("1979-06-02", "1979-02-06", ""):
        same = Features(emails=parent.emails, first="ann", last="lee", birth=other)
        assert _linked(parent, same), other


def test_a_nameless_record_on_a_household_mailbox_is_reviewed_not_linked() -> None:
    """Any member of the Petrovs may have written it: a person decides."""
    named = Features(emails=("thepetrovs951@yahoo.com",), first="robert", last="petrov")
    nameless = Features(emails=("thepetrovs951@yahoo.com",), phones=("+15555550100",))
    assert _outcome(named, nameless) == ("family_mailbox", False, True, False)


def test_a_household_mailbox_still_links_named_records_and_personal_mailboxes_link_nameless() -> (
    None
):
    robert = Features(emails=("thepetrovs951@yahoo.com",), first="robert", last="petrov")
    bob = Features(emails=("thepetrovs951@yahoo.com",), first="bob", last="petrov")
    assert decide(robert, bob, DEFAULT_MODEL, Thresholds()).rule == "email"
    own = Features(emails=("robert.petrov951@yahoo.com",), first="robert", last="petrov")
    nameless = Features(emails=("robert.petrov951@yahoo.com",))
    assert decide(own, nameless, DEFAULT_MODEL, Thresholds()).rule == "email"
