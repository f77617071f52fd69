"""Generate labeled multi-source customer records, lazily, the same for the same seed.

    .venv/bin/python -m bench.identity.generate --records 20 --seed 1   # JSON lines

Each ``GeneratedRecord`` is one vendor payload (Shopify GraphQL customer node, Stripe customer,
HubSpot contact, Zendesk user) plus its ``Label``, kept apart from the payload: the true person,
their household, the phenomena on the record (``tags``) and the exact identifiers it carries
(``keys``; see ``views``). People are recomputed from (seed, index) whenever needed, so a
million records never sit in memory; only a byte per person (its record count) is kept.

Order ``by_source`` is a backfill's (every Shopify customer, then Stripe, HubSpot, Zendesk);
``interleaved`` gives each person's records together, as webhooks about new people would.
"""

from __future__ import annotations

import argparse
import json
import sys
from array import array
from collections.abc import Iterator
from typing import Any, NamedTuple

from bench.identity.payloads import KINDS, external_id, payload_of
from bench.identity.population import Human, make_human, person_stream
from bench.identity.views import SOURCES, View, views_of
from context_service.demo._util import StripeIds

ORDERS = ("by_source", "interleaved")
_interned: dict[frozenset[str], frozenset[str]] = {}


class Label(NamedTuple):
    """The truth about one record; never part of the payload."""

    person: int
    household: int  # 0 when the person lives alone
    household_kind: str  # what the household shares besides the address ("" when alone)
    tags: frozenset[str]
    keys: frozenset[str]


class GeneratedRecord(NamedTuple):
    """One vendor payload and its label."""

    source: str
    kind: str
    external_id: str
    payload: dict[str, Any]
    label: Label

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.kind, self.external_id)


class Plan(NamedTuple):
    """Which people make up ``records`` records: ``counts[i]`` records of person ``i``."""

    records: int
    counts: array  # type: ignore[type-arg]

    @property
    def persons(self) -> int:
        return len(self.counts)


def _intern(values: set[str]) -> frozenset[str]:
    """One shared frozenset per distinct tag set (there are few), to keep labels small."""
    frozen = frozenset(values)
    return _interned.setdefault(frozen, frozen)


def person_views(seed: int, index: int) -> tuple[Human, list[View]]:
    """Person ``index`` and every source record the sources hold about them."""
    human = make_human(seed, index)
    return human, views_of(person_stream(seed, index), human)


def _record(ids: StripeIds, seed: int, h: Human, v: View) -> GeneratedRecord:
    label = Label(h.index, h.household, h.household_kind, _intern(v.tags), _intern(v.keys))
    return GeneratedRecord(
        v.source,
        KINDS[v.source],
        external_id(ids, h.index, v.source, v.dup),
        payload_of(ids, seed, h, v),
        label,
    )


def person_records(seed: int, index: int, source: str | None = None) -> list[GeneratedRecord]:
    """The records of person ``index`` (only ``source``'s when given)."""
    human, views = person_views(seed, index)
    ids = StripeIds(seed)
    return [_record(ids, seed, human, v) for v in views if source in (None, v.source)]


def plan(records: int, seed: int) -> Plan:
    """Enough people for ``records`` records; the last one may be cut short."""
    if records < 0:
        raise ValueError(f"records must be >= 0, got {records}")
    counts, total = array("B"), 0
    while total < records:
        n = min(len(person_views(seed, len(counts))[1]), records - total)
        counts.append(n)
        total += n
    return Plan(records, counts)


def stream(
    seed: int, the_plan: Plan, start: int = 0, stop: int | None = None, order: str = "by_source"
) -> Iterator[GeneratedRecord]:
    """The records of people ``start`` to ``stop`` (exclusive) of ``the_plan``, in ``order``."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    stop = the_plan.persons if stop is None else stop
    ids = StripeIds(seed)
    sources: tuple[str | None, ...] = (None,) if order == "interleaved" else SOURCES
    for source in sources:
        for index in range(start, stop):
            human, views = person_views(seed, index)
            for v in views[: the_plan.counts[index]]:
                if source in (None, v.source):
                    yield _record(ids, seed, human, v)


def generate(records: int, seed: int = 1, order: str = "by_source") -> Iterator[GeneratedRecord]:
    """Exactly ``records`` labeled records drawn with ``seed``, in ``order``."""
    return stream(seed, plan(records, seed), order=order)


def tail_start(the_plan: Plan, tail_records: int) -> int:
    """The first person of the shortest run of last people holding ``tail_records`` records."""
    index, total = the_plan.persons, 0
    while index > 0 and total < tail_records:
        index -= 1
        total += the_plan.counts[index]
    return index


def _as_json(record: GeneratedRecord) -> str:
    label = record.label._asdict()
    label["tags"], label["keys"] = sorted(label["tags"]), sorted(label["keys"])
    body = {"source": record.source, "kind": record.kind, "external_id": record.external_id}
    return json.dumps({**body, "label": label, "payload": record.payload}, ensure_ascii=False)


def main(argv: list[str] | None = None) -> None:
    """Print the generated records as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--order", choices=ORDERS, default="by_source")
    args = parser.parse_args(argv)
    for record in generate(args.records, args.seed, args.order):
        sys.stdout.write(_as_json(record) + "\n")


if __name__ == "__main__":
    main()
