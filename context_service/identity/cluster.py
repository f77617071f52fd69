"""Cluster one connected component of records into people (pure and order-independent).

A component is a set of records connected by link-strength pairs. Within it:

1. Shared identifiers are found: an email or phone held by two records whose names conflict is
   used by several people (a family mailbox, a switchboard), so matching on it counts for little.
2. Every pair is decided again with that knowledge (``pairs.decide``).
3. Link pairs are taken strongest first (people's decisions, then explicit ids, then by
   probability, ties broken by record id) and each joins two clusters only if **no** pair across
   them conflicts or was kept apart by a person. A record therefore joins a cluster only if it is
   consistent with every member, never through one weak link.
4. Link pairs refused that way, and review-level pairs left in different clusters, become review
   items.

The result depends only on the records and decisions in the component, never on the order in
which they arrived: resolving records one at a time and rebuilding everything at once agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from context_service.identity.compare import names_conflict
from context_service.identity.features import Features
from context_service.identity.model import MatchModel
from context_service.identity.pairs import PairResult, Thresholds, decide

Pair = tuple[int, int]  # (smaller record id, larger record id)
_PRIORITY = {"manual": 3, "explicit_id": 2}


class Link(msgspec.Struct, frozen=True):
    """A pair that holds a cluster together, with its evidence."""

    a: int
    b: int
    rule: str
    probability: float
    evidence: dict[str, dict[str, float | str]]


class Review(msgspec.Struct, frozen=True):
    """A pair a person should look at."""

    a: int
    b: int
    probability: float
    reason: str
    evidence: dict[str, dict[str, float | str]]


class ComponentResult(msgspec.Struct):
    """The clusters of one component, the links that justify them and the open questions."""

    clusters: list[list[int]]
    links: list[Link]
    reviews: list[Review]


class Decisions(msgspec.Struct, frozen=True):
    """People's decisions that bind the engine: pairs to keep together or apart."""

    together: frozenset[Pair] = frozenset()
    apart: frozenset[Pair] = frozenset()


NO_DECISIONS = Decisions()


def pair_of(a: int, b: int) -> Pair:
    """The canonical (ordered) form of a pair."""
    return (a, b) if a < b else (b, a)


def shared_values(features: Mapping[int, Features]) -> frozenset[str]:
    """Emails and phones held by records whose names conflict: used by more than one person."""
    holders: dict[str, list[int]] = {}
    for record_id, feats in features.items():
        for value in (*feats.emails, *feats.phones):
            holders.setdefault(value, []).append(record_id)
    shared = set()
    for value, ids in holders.items():
        if len(ids) > 1 and _any_conflict([features[i] for i in ids]):
            shared.add(value)
    return frozenset(shared)


def _any_conflict(group: list[Features]) -> bool:
    return any(
        names_conflict(group[i], group[j])
        for i in range(len(group))
        for j in range(i + 1, len(group))
    )


class _Clusters:
    """Union-find over record ids that remembers each cluster's members."""

    def __init__(self, ids: Iterable[int]) -> None:
        self.parent = {i: i for i in ids}
        self.members = {i: [i] for i in self.parent}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))

    def groups(self) -> list[list[int]]:
        return sorted(sorted(members) for members in self.members.values())


def cluster_component(
    features: Mapping[int, Features],
    model: MatchModel,
    thresholds: Thresholds,
    decisions: Decisions = NO_DECISIONS,
) -> ComponentResult:
    """Cluster the records of one component (``features`` keyed by record id)."""
    shared = shared_values(features)
    ids = sorted(features)
    results = {
        (a, b): decide(features[a], features[b], model, thresholds, shared)
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    }
    clusters = _Clusters(ids)
    links: list[Link] = []
    reviews: list[Review] = []
    for pair, rule, result in _link_candidates(results, decisions, _stable_keys(features)):
        a, b = pair
        if clusters.find(a) == clusters.find(b):
            continue
        if _may_join(clusters, a, b, results, decisions):
            clusters.union(a, b)
            links.append(Link(a, b, rule, result.probability, model.evidence(result.levels)))
        elif rule != "manual":
            reviews.append(
                Review(a, b, result.probability, "conflicts with the cluster", _ev(model, result))
            )
    for (a, b), result in sorted(results.items()):
        if result.review and clusters.find(a) != clusters.find(b) and (a, b) not in decisions.apart:
            reason = review_reason(result.rule)
            reviews.append(Review(a, b, result.probability, reason, _ev(model, result)))
    return ComponentResult(clusters=clusters.groups(), links=links, reviews=_unique(reviews))


_REVIEW_REASONS = {
    "conflict": "names conflict on a shared identifier",
    "birth_date": "dates of birth differ",
    "generation": "generational suffixes differ (Sr/Jr)",
    "namesakes": "one name at one door or phone, each with their own numbered mailbox",
    "family_mailbox": "a record without a name on a household's mailbox",
}


def review_reason(rule: str) -> str:
    """What a reviewer is told about a pair decided by ``rule`` (``pairs.decide``)."""
    return _REVIEW_REASONS.get(rule, "uncertain")


def _ev(model: MatchModel, result: PairResult) -> dict[str, dict[str, float | str]]:
    return model.evidence(result.levels)


def _link_candidates(
    results: Mapping[Pair, PairResult], decisions: Decisions, stable: Mapping[int, bytes]
) -> list[tuple[Pair, str, PairResult]]:
    """The pairs that may join two clusters, strongest first. Links equally strong are taken in
    the order of what the records are (``_stable_keys``), not of their record ids, which
    follow the order the records arrived in: a record as close to Ann as to Bob, who cannot
    be one person, would otherwise join whichever of them arrived first."""
    found = []
    for pair, result in results.items():
        if pair in decisions.apart:
            continue
        if pair in decisions.together:
            found.append((pair, "manual", result))
        elif result.link:
            found.append((pair, result.rule, result))

    def order(item: tuple[Pair, str, PairResult]) -> tuple[int, float, list[bytes], Pair]:
        (a, b), rule, result = item
        # People's decisions keep their own order: one that contradicts an earlier one is
        # refused by ``decisions.py``, which finds the earlier one by it.
        what = [] if rule == "manual" else sorted((stable[a], stable[b]))
        return (-_PRIORITY.get(rule, 1), -result.probability, what, (a, b))

    found.sort(key=order)
    return found


_encode = msgspec.msgpack.Encoder().encode


def _stable_keys(features: Mapping[int, Features]) -> dict[int, bytes]:
    """For each record, a key that depends on what it is, not on when it arrived: its own
    reference in its source (``shopify:customer:8``), or its features for a record that has
    none (a spreadsheet row keyed by its content)."""
    return {rid: (f.own.encode() if f.own else b"\xff" + _encode(f)) for rid, f in features.items()}


def _may_join(
    clusters: _Clusters,
    a: int,
    b: int,
    results: Mapping[Pair, PairResult],
    decisions: Decisions,
) -> bool:
    left, right = clusters.members[clusters.find(a)], clusters.members[clusters.find(b)]
    for x in left:
        for y in right:
            pair = pair_of(x, y)
            if pair in decisions.apart:
                return False
            if pair in decisions.together:
                continue
            result = results[pair]
            if result.conflict and result.rule != "explicit_id":
                return False
    return True


def _unique(reviews: list[Review]) -> list[Review]:
    seen: set[Pair] = set()
    out = []
    for review in reviews:
        if (review.a, review.b) not in seen:
            seen.add((review.a, review.b))
            out.append(review)
    return out
