"""A phone held by records of four or more clearly different names with no name in common (an
office's switchboard) is crowded, as a firm's shared inbox is: it says nothing about who is
who. Two records of one name on it (two David Smiths, one in sales and one in the warehouse,
each with a work mailbox of his own) do not link by the phone rule, and the line compares as
shared, not as one person's number; the pair is left to a reviewer. Colleagues on one line
never form one group of records, so the engine works it out from every holder of the phone.
A family on its home phone shares a surname, and a household of three surnames (a couple and a
grandparent) is too few, so those lines are no crowd and still link."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from context_service.identity import pairs
from context_service.identity.features import Features
from context_service.identity.model import DEFAULT_MODEL
from context_service.identity.pairs import Thresholds, crowded_mailbox, crowded_value, decide
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.wiring import default_mappers
from tests.conftest import Ingest
from tests.identity.test_engine_updates_match_rebuild import (
    assert_consistent,
    assert_matches_rebuild,
    clusters,
    open_review_pairs,
    stamp,
)
from tests.memory_store import memory_store
from tests.payloads import hubspot_contact, zendesk_user

LINE = "(212) 555-0100"
E164 = "+12125550100"
FIRM = "Acme Logistics"
STAFF = [("Ann", "Lee"), ("Bo", "Park"), ("Carla", "Diaz"), ("Dev", "Patel"), ("Eve", "Stone")]
SALES = ("ds-sales", "david.smith@acme-logistics.com")
WAREHOUSE = ("ds-wh", "dsmith2@acme-logistics.com")


def _colleague(n: int, first: str, last: str) -> tuple[str, str, dict[str, object]]:
    email = f"{first.lower()}@acme-logistics.com"
    return hubspot_contact(f"staff-{n}", email, first, last, LINE, company=FIRM)


def _david(who: tuple[str, str]) -> tuple[str, str, dict[str, object]]:
    return hubspot_contact(who[0], who[1], "David", "Smith", LINE, company=FIRM)


def _together(store: Store, a: str, b: str) -> bool:
    return any({a, b} <= cluster for cluster in clusters(store))


def test_a_phone_of_three_clearly_different_names_is_crowded() -> None:
    holders = [Features(phones=(E164,), first=f.lower(), last=la.lower()) for f, la in STAFF[:3]]
    assert crowded_mailbox(holders)
    family = [Features(phones=(E164,), first=f, last="smith") for f in ("john", "jane", "jim")]
    assert not crowded_mailbox(family)


def test_a_line_takes_four_clearly_different_names_to_be_crowded() -> None:
    holders = [Features(phones=(E164,), first=f.lower(), last=la.lower()) for f, la in STAFF]
    assert not crowded_value(E164, holders[:3])  # a couple and a grandparent, three surnames
    assert crowded_value(E164, holders[:4])
    assert crowded_value("team@acme-logistics.com", holders[:3])  # an inbox: three


def test_a_household_of_three_surnames_keeps_its_phone_link(store: Store, ingest: Ingest) -> None:
    """John Smith, his wife Maria Garcia, who kept her name, and her mother Rosa Lopez share
    the home line: John's two records, each with its own mailbox, are still one customer."""
    home = "+1 614 555 0199"
    ingest(zendesk_user(1, "John Smith", email="john.smith@example.com", phone=home))
    ingest(zendesk_user(2, "Maria Garcia", email="maria.garcia@example.com", phone=home))
    ingest(zendesk_user(3, "Rosa Lopez", email="rosa.lopez@example.net", phone=home))
    ingest(zendesk_user(4, "John Smith", email="jsmith.work@example.net", phone=home))
    assert _together(store, "zendesk:1", "zendesk:4")
    assert_matches_rebuild(store, "three surnames at home")


def test_two_namesakes_on_a_crowded_phone_do_not_link_by_the_phone_rule() -> None:
    a = Features(emails=(SALES[1],), phones=(E164,), first="david", last="smith", company=FIRM)
    b = Features(emails=(WAREHOUSE[1],), phones=(E164,), first="david", last="smith", company=FIRM)
    plain = decide(a, b, DEFAULT_MODEL, Thresholds())
    assert (plain.rule, plain.link) == ("phone_name", True)
    crowded = decide(a, b, DEFAULT_MODEL, Thresholds(), crowded=frozenset({E164}))
    assert crowded.levels[1] == "shared"
    assert crowded.rule != "phone_name"
    assert not crowded.link
    assert crowded.review


def test_two_david_smiths_on_an_office_switchboard_are_not_merged(
    store: Store, ingest: Ingest
) -> None:
    for n, (first, last) in enumerate(STAFF):
        ingest(_colleague(n, first, last))
    ingest(_david(SALES))
    ingest(_david(WAREHOUSE))
    assert not _together(store, "hubspot:ds-sales", "hubspot:ds-wh")
    assert open_review_pairs(store) == {frozenset(("hubspot:ds-sales", "hubspot:ds-wh"))}
    assert len(clusters(store)) == len(STAFF) + 2
    assert_matches_rebuild(store, "switchboard")


def test_the_david_smiths_come_apart_when_their_line_turns_crowded(
    store: Store, ingest: Ingest
) -> None:
    ingest(_david(SALES))
    ingest(_david(WAREHOUSE))
    assert _together(store, "hubspot:ds-sales", "hubspot:ds-wh")  # nothing says otherwise yet
    assert_matches_rebuild(store, "two namesakes on a line")
    ingest(*[_colleague(n, first, last) for n, (first, last) in enumerate(STAFF[:3])])
    assert not _together(store, "hubspot:ds-sales", "hubspot:ds-wh")
    assert_matches_rebuild(store, "the line turned crowded")


def test_a_family_on_its_home_phone_still_links(store: Store, ingest: Ingest) -> None:
    home = "+1 614 555 0147"
    ingest(zendesk_user(1, "John Smith", email="john.smith@example.com", phone=home))
    ingest(zendesk_user(2, "Jane Smith", email="jane.smith@example.com", phone=home))
    ingest(zendesk_user(3, "Jim Smith", email="jim.smith@example.com", phone=home))
    ingest(zendesk_user(4, "Lucy Smith", email="lucy.s@example.com", phone=home))
    ingest(zendesk_user(5, "John Smith", email="jsmith.work@example.net", phone=home))
    assert _together(store, "zendesk:1", "zendesk:5")
    assert len(clusters(store)) == 4
    assert_matches_rebuild(store, "family phone")


# --- incremental and resolve --all agree as lines turn crowded and back -------------------

NAMES = [
    ("Ann", "Lee"),
    ("Bo", "Park"),
    ("Cy", "Diaz"),
    ("David", "Smith"),
    ("Dave", "Smith"),
    ("Ann", "Zed"),
    ("Maya", None),
    (None, None),
]
PHONES = [None, "+1 212 555 0100", "+1 415 555 0199"]


def _payload(step: tuple[int, int | None, int, int], number: int) -> RawPayload:
    slot, name, phone, email = step
    if name is None:
        return RawPayload(
            "zendesk", "user", {"id": slot + 1}, observed_at=stamp(number), deleted=True
        )
    first, last = NAMES[name]
    full = " ".join(part for part in (first, last) if part) or None
    mailbox = f"person{slot}.{email}@acme.example" if email else None
    _, _, body = zendesk_user(slot + 1, full or "", mailbox, PHONES[phone], stamp(number))
    body["name"] = full
    return RawPayload("zendesk", "user", body)


_steps = st.lists(
    st.tuples(
        st.integers(0, 6),
        st.one_of(st.none(), st.integers(0, len(NAMES) - 1)),
        st.sampled_from([1, 1, 1, 0, 2]),  # mostly the office's line
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=14,
)


def _run(steps: Sequence[tuple[int, int | None, int, int]], batch: int) -> None:
    store = memory_store()
    ctx = IngestContext(mappers=default_mappers())
    payloads = [_payload(step, n) for n, step in enumerate(steps)]
    for start in range(0, len(payloads), batch):
        ingest_batch(store, payloads[start : start + batch], ctx)
        assert_consistent(store)
        assert_matches_rebuild(store, (list(steps), batch, start))
    store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=_steps, batch=st.sampled_from([1, 2, 3, 14]))
@example(steps=[(0, 3, 1, 0), (1, 4, 1, 1), (2, 0, 1, 0), (3, 1, 1, 0), (4, 2, 1, 0)], batch=2)
def test_phone_holders_arriving_changing_and_leaving_match_a_full_rebuild(
    steps: list[tuple[int, int | None, int, int]], batch: int
) -> None:
    _run(steps, batch)


def test_three_families_on_a_line_are_told_no_crowd_without_comparing_their_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four clearly different names need four surnames: a line of three families (hundreds of
    records) is no crowd, told without comparing each triple of their names (seconds each)."""
    compared: list[tuple[object, object]] = []
    real = pairs._clearly_different

    def counting(x: Any, y: Any) -> bool:
        compared.append((x, y))
        return real(x, y)

    monkeypatch.setattr(pairs, "_clearly_different", counting)
    holders = [
        Features(
            phones=(E164,), first=f"p{i:03d}x", last=family, emails=(f"p{i}@{family}.example",)
        )
        for family in ("smith", "garcia", "lopez")
        for i in range(60)
    ]
    assert not crowded_value(E164, holders)
    assert compared == []
