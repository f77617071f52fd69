"""What the resolver got wrong, by phenomenon: missed pairs and false merges.

Missed pairs: every pair of records of one true person is tagged with the union of the two
records' phenomena (``nickname``, ``email_typo``, ``old_address``...) and with what exact
identifier they share (``shared:link``, ``shared:email``, ``shared:phone``, ``shared:nothing``);
per tag we count the pairs and how many ended in different profiles. Pairs are enumerated per
person, so the cost is the sum of squared records per person (a few per person).

False merges: every pair of different people put into one profile, classified as household
members (by what the household shares: ``household:phone``, ``household:email``,
``household:address``, ``household:same_name``), two people with a common colliding name
(``common_name``) or ``other``; counted as people pairs and as record pairs, with a few
examples kept for inspection.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

from bench.identity.generate import Label

Key = tuple[str, str, str]
EXAMPLES = 5


@dataclass
class Breakdown:
    """Error counts by phenomenon."""

    pairs: Counter[str] = field(default_factory=Counter)  # same-person pairs per tag
    missed: Counter[str] = field(default_factory=Counter)  # of which split apart
    merged_people: Counter[str] = field(default_factory=Counter)  # wrongly merged person pairs
    merged_records: Counter[str] = field(default_factory=Counter)  # their record pairs
    households: Counter[str] = field(default_factory=Counter)  # households present, by kind
    split_people: int = 0  # people whose records ended in more than one profile
    examples: dict[str, list[tuple[Key, Key]]] = field(default_factory=dict)


def shared(a: Key, la: Label, b: Key, lb: Label) -> str:
    """The strongest exact identifier two records of one person share."""
    if (f"x:{b[0]}" in la.keys and "duplicate" not in lb.tags) or (
        f"x:{a[0]}" in lb.keys and "duplicate" not in la.tags
    ):
        return "shared:link"
    common = la.keys & lb.keys
    if any(k.startswith("e") for k in common):
        return "shared:email"
    if any(k.startswith("p") for k in common):
        return "shared:phone"
    return "shared:nothing"


def _by_person(labels: Mapping[Key, Label]) -> dict[int, list[Key]]:
    groups: dict[int, list[Key]] = defaultdict(list)
    for key, label in labels.items():
        groups[label.person].append(key)
    return groups


def _by_cluster(predicted: Mapping[Key, Hashable]) -> dict[Hashable, list[Key]]:
    groups: dict[Hashable, list[Key]] = defaultdict(list)
    for key, cluster in predicted.items():
        groups[cluster].append(key)
    return groups


def _missed(out: Breakdown, labels: Mapping[Key, Label], predicted: Mapping[Key, Hashable]) -> None:
    for keys in _by_person(labels).values():
        if len({predicted[k] for k in keys}) > 1:
            out.split_people += 1
        for a, b in combinations(keys, 2):
            la, lb = labels[a], labels[b]
            tags = {"all", shared(a, la, b, lb), *la.tags, *lb.tags}
            out.pairs.update(tags)
            if predicted[a] != predicted[b]:
                out.missed.update(tags)
                _example(out, f"missed {shared(a, la, b, lb)}", a, b)


def merge_class(la: Label, lb: Label) -> str:
    """Why two different people may look alike: a household, a common name, or nothing known."""
    if la.household and la.household == lb.household:
        return f"household:{la.household_kind}"
    if "common_name" in la.tags and "common_name" in lb.tags:
        return "common_name"
    return "other"


def _example(out: Breakdown, what: str, a: Key, b: Key) -> None:
    kept = out.examples.setdefault(what, [])
    if len(kept) < EXAMPLES:
        kept.append((a, b))


def _merged(out: Breakdown, labels: Mapping[Key, Label], predicted: Mapping[Key, Hashable]) -> None:
    for keys in _by_cluster(predicted).values():
        people: dict[int, list[Key]] = defaultdict(list)
        for key in keys:
            people[labels[key].person].append(key)
        for p, q in combinations(sorted(people), 2):
            a, b = people[p][0], people[q][0]
            what = merge_class(labels[a], labels[b])
            out.merged_people[what] += 1
            out.merged_records[what] += len(people[p]) * len(people[q])
            _example(out, f"merged {what}", a, b)


def _households(out: Breakdown, labels: Mapping[Key, Label]) -> None:
    members: dict[int, set[int]] = defaultdict(set)
    kinds: dict[int, str] = {}
    for label in labels.values():
        if label.household:
            members[label.household].add(label.person)
            kinds[label.household] = label.household_kind
    for household, people in members.items():
        if len(people) > 1:
            out.households[f"household:{kinds[household]}"] += 1


def breakdown(labels: Mapping[Key, Label], predicted: Mapping[Key, Hashable]) -> Breakdown:
    """Missed pairs and false merges of ``predicted`` by phenomenon (see the module docstring)."""
    out = Breakdown()
    _missed(out, labels, predicted)
    _merged(out, labels, predicted)
    _households(out, labels)
    return out
