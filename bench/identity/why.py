"""Why same-person pairs were missed, read back from the store the benchmark filled.

For every pair of one person's records that ended in different profiles, the features the engine
stored (``identity_features``) are compared and decided again, and the pair is counted under the
first reason that applies:

* ``name only``: apart from the names nothing compares (no email, phone, address or company on
  both sides, or only different ones): by design two such records never link;
* ``not a candidate``: no blocking key in common, so the engine never compared the two;
* ``kept apart``: compared, below the review threshold;
* ``review``: uncertain, queued for a person (names that conflict on one mailbox included);
* ``refused by the cluster``: strong enough on its own, but one of the two conflicts with a
  member of the other's profile (no chaining), or the link was outranked there.

It also counts the split people that every link on more than a name would make whole: the
ceiling on recall for an engine that never links two records on a name alone (``Missed``).

Only direct evidence is judged: a pair may also be missed because the records that would have
bridged it (a third record of the person) were missed.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from itertools import combinations

import msgspec

from bench.identity.generate import Label
from context_service.identity.compare import NULL
from context_service.identity.features import Features, blocking_keys
from context_service.identity.pairs import Thresholds, decide
from context_service.identity.state import load_model

Key = tuple[str, str, str]
REASONS = ("name only", "not a candidate", "kept apart", "review", "refused by the cluster")
_decode = msgspec.msgpack.Decoder(Features).decode


def _features(conn: sqlite3.Connection, wanted: set[Key]) -> dict[Key, Features]:
    """The stored features of the ``wanted`` records (only those: a few per missed pair)."""
    rows = conn.execute(
        "SELECT r.source, r.kind, r.external_id, f.features FROM identity_features f "
        "JOIN records r ON r.id = f.record_id"
    )
    return {(s, k, e): _decode(blob) for s, k, e, blob in rows if (s, k, e) in wanted}


def _reason(a: Features, b: Features, decided: tuple[bool, bool, tuple[str, ...]]) -> str:
    link, review, levels = decided
    email, phone, _first, _last, address, company = levels
    if all(level in (NULL, "different") for level in (email, phone, address, company)) and not (
        set(a.xrefs) & {b.own} or set(b.xrefs) & {a.own}
    ):
        return "name only"
    if not blocking_keys(a) & blocking_keys(b):
        return "not a candidate"
    if link:
        return "refused by the cluster"
    return "review" if review else "kept apart"


class Missed(msgspec.Struct):
    """Missed same-person pairs by reason, and how far recall could go without name-only links.

    ``completable`` counts the split people who would be whole if every missed pair of theirs
    with more than a name in common were linked (whatever the engine's reason for not linking
    it); ``split`` counts every split person. So ``(people - split + completable) / people``
    is a ceiling on cluster (complete) recall for an engine that never links on a name alone.
    """

    reasons: dict[str, int]
    split: int
    completable: int


def why_missed(
    conn: sqlite3.Connection,
    labels: Mapping[Key, Label],
    predicted: Mapping[Key, Hashable],
    thresholds: Thresholds,
) -> Missed:
    """Missed same-person pairs counted by reason (see the module docstring), and the split
    people that links on more than a name could make whole."""
    people: dict[int, list[Key]] = defaultdict(list)
    for key, label in labels.items():
        people[label.person].append(key)
    split = {
        person: keys for person, keys in people.items() if len({predicted[key] for key in keys}) > 1
    }
    missed = [
        (person, x, y)
        for person, keys in split.items()
        for x, y in combinations(keys, 2)
        if predicted[x] != predicted[y]
    ]
    features = _features(conn, {key for _, x, y in missed for key in (x, y)})
    model = load_model(conn)
    counts: Counter[str] = Counter()
    bridges: dict[int, list[tuple[Key, Key]]] = defaultdict(list)
    for person, x, y in missed:
        a, b = features.get(x), features.get(y)
        if a is None or b is None:
            counts["no features"] += 1
            continue
        result = decide(a, b, model, thresholds)
        reason = _reason(a, b, (result.link, result.review, result.levels))
        counts[reason] += 1
        if reason != "name only":
            bridges[person].append((x, y))
    whole = sum(
        _one_group(keys, predicted, bridges.get(person, [])) for person, keys in split.items()
    )
    reasons = {reason: counts[reason] for reason in (*REASONS, "no features") if counts[reason]}
    return Missed(reasons=reasons, split=len(split), completable=whole)


def _one_group(
    keys: list[Key], predicted: Mapping[Key, Hashable], bridges: list[tuple[Key, Key]]
) -> bool:
    """Whether these records form one group when the ``bridges`` join their profiles."""
    parent = {predicted[key]: predicted[key] for key in keys}

    def root(node: Hashable) -> Hashable:
        while parent[node] != node:
            node = parent[node]
        return node

    for x, y in bridges:
        parent[root(predicted[x])] = root(predicted[y])
    return len({root(predicted[key]) for key in keys}) == 1
