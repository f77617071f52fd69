"""The generator: deterministic, labeled, vendor-shaped, with real hard negatives."""

from __future__ import annotations

from collections import defaultdict

import pytest

from bench.identity.generate import GeneratedRecord, generate, plan, stream, tail_start
from bench.identity.population import make_human
from bench.identity.run import to_raw
from bench.identity.views import email_typo, typo
from context_service.identity.normalize import normalize_email, normalize_phone
from context_service.wiring import default_mappers

N = 600


@pytest.fixture(scope="module")
def records() -> list[GeneratedRecord]:
    return list(generate(N, seed=5))


def test_same_seed_same_output(records: list[GeneratedRecord]) -> None:
    assert list(generate(N, seed=5)) == records
    assert list(generate(N, seed=6)) != records


def test_exact_size_unique_keys_and_a_label_for_every_record(
    records: list[GeneratedRecord],
) -> None:
    labels = {record.key: record.label for record in records}
    assert len(records) == N
    assert len(labels) == N
    assert all(isinstance(label.person, int) for label in labels.values())
    assert {record.source for record in records} == {"shopify", "stripe", "hubspot", "zendesk"}


def test_people_appear_in_one_to_four_sources(records: list[GeneratedRecord]) -> None:
    sources: dict[int, set[str]] = defaultdict(set)
    for record in records:
        sources[record.label.person].add(record.source)
    spread = {len(found) for found in sources.values()}
    assert min(spread) == 1
    assert max(spread) >= 3


def test_every_payload_maps_to_its_own_key(records: list[GeneratedRecord]) -> None:
    mappers = default_mappers()
    for record in records:
        raw = to_raw(record)
        mapped = mappers[raw.source](raw.kind, raw.payload)
        assert (mapped.key.source, mapped.key.kind, mapped.key.external_id) == record.key
        assert mapped.person is not None


def test_orders_hold_the_same_records() -> None:
    the_plan = plan(200, seed=2)
    by_source = list(stream(2, the_plan, order="by_source"))
    interleaved = list(stream(2, the_plan, order="interleaved"))
    assert sorted(r.key for r in by_source) == sorted(r.key for r in interleaved)
    assert [r.source for r in by_source] == sorted(
        (r.source for r in by_source), key=("shopify", "stripe", "hubspot", "zendesk").index
    )


def test_tail_start_takes_whole_people_from_the_end() -> None:
    the_plan = plan(200, seed=2)
    start = tail_start(the_plan, 30)
    assert sum(the_plan.counts[start:]) >= 30
    assert sum(the_plan.counts[start + 1 :]) < 30
    assert tail_start(the_plan, 0) == the_plan.persons


def _identifiers(record: GeneratedRecord) -> tuple[str | None, set[str]]:
    raw = to_raw(record)
    person = default_mappers()[raw.source](raw.kind, raw.payload).person
    assert person is not None
    found = {normalize_email(e) for e in person.emails} | {
        normalize_phone(p) for p in person.phones
    }
    return person.name or f"{person.first_name} {person.last_name}", {v for v in found if v}


def test_households_share_an_identifier_between_different_people() -> None:
    records = list(generate(4000, seed=1))
    members: dict[int, list[GeneratedRecord]] = defaultdict(list)
    for record in records:
        if record.label.household_kind in ("phone", "email"):
            members[record.label.household].append(record)
    shared = 0
    for household in members.values():
        for a in household:
            for b in household:
                if a.label.person < b.label.person:
                    name_a, ids_a = _identifiers(a)
                    name_b, ids_b = _identifiers(b)
                    if ids_a & ids_b:
                        assert name_a != name_b
                        shared += 1
    assert shared > 0


def test_household_members_are_different_people_at_one_address() -> None:
    index = next(i for i in range(0, 4000, 2) if make_human(1, i).household)
    first, second = make_human(1, index), make_human(1, index + 1)
    assert first.household == second.household
    assert first.address == second.address
    assert first.emails != second.emails
    if first.household_kind != "same_name":
        assert first.first != second.first


def test_typos_change_the_text() -> None:
    import random

    rng = random.Random(0)
    for word in ("Elizabeth", "Smith", "Li"):
        assert typo(rng, word) != word
    slipped = email_typo(rng, "john.smith7@gmail.com")
    assert slipped != "john.smith7@gmail.com"
    assert slipped.count("@") == 1
