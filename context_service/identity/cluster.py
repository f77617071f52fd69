"""Cluster one connected component of records into people (pure and order-independent).

A component is a set of records connected by link-strength pairs. Within it:

1. Shared identifiers are found: an email or phone held by two records whose names conflict is
   used by several people (a family mailbox, a switchboard), so matching on it counts for little.
2. Every pair is decided again with that knowledge (``pairs.decide``).
3. Link pairs are taken strongest first (people's decisions, then explicit ids, then by
   probability) and each joins two clusters only if **no** pair across them conflicts or was
   kept apart by a person. A record therefore joins a cluster only if it is consistent with
   every member, never through one weak link. A name conflict people's decisions answer (they
   put the two names together: ``_Excused``) keeps nothing apart.
4. Among links equally strong (same rule priority, same probability), a cluster that could join
   either of two clusters which can never be one (their records conflict, or a person kept them
   apart) joins neither: it is as close to one person as to the other, so a person picks. Both
   pairs become review items and are held apart from then on, so that no weaker link decides
   what the equal ones could not. People's decisions are never held back that way.
5. Link pairs refused or held back that way, and review-level pairs left in different clusters,
   become review items.

The result depends only on the records and decisions in the component, never on the order in
which they arrived: resolving records one at a time and rebuilding everything at once agree.
"""

from __future__ import annotations

from collections import deque
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


def shared_values(
    features: Mapping[int, Features], excused: _Excused | None = None
) -> frozenset[str]:
    """Emails and phones held by records whose names conflict: used by more than one person.
    A conflict a person's decision answers (``_Excused``) is no second person."""
    holders: dict[str, list[int]] = {}
    for record_id, feats in features.items():
        for value in (*feats.emails, *feats.phones):
            holders.setdefault(value, []).append(record_id)
    shared = set()
    encoded: dict[int, bytes] = {}
    for value, ids in holders.items():
        if excused is not None and excused.touches(ids):
            if excused.any_conflict(ids):
                shared.add(value)
        elif len(ids) >= _MEMO_FROM:  # a value many hold: its pairs were likely asked before
            if not encoded:
                encoded = {rid: _encode(f) for rid, f in features.items()}
            if _any_conflict_remembered([(features[i], encoded[i]) for i in ids]):
                shared.add(value)
        elif len(ids) > 1 and _any_conflict([features[i] for i in ids]):
            shared.add(value)
    return frozenset(shared)


_conflicts: dict[tuple[bytes, bytes], bool] = {}  # names_conflict of two encoded features


def _any_conflict_remembered(group: list[tuple[Features, bytes]]) -> bool:
    """``_any_conflict``, each pair's answer remembered (bounded as ``_memo`` is)."""
    memo = _conflicts
    for i, (a, ea) in enumerate(group):
        for b, eb in group[i + 1 :]:
            found = memo.get((ea, eb))
            if found is None:
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()
                found = memo[(ea, eb)] = names_conflict(a, b)
            if found:
                return True
    return False


def _any_conflict(group: list[Features]) -> bool:
    return any(
        names_conflict(group[i], group[j])
        for i in range(len(group))
        for j in range(i + 1, len(group))
    )


class _Excused:
    """The name conflicts people's decisions answer, within one component.

    A person who put Pat Doe and Patricia Stone together (a merge, an accepted review item) has
    said that the two names are one customer's. Records carrying those names are then no two
    people: a name conflict between two records is excused when a person put them together,
    or when each carries exactly a full name (``_carry_one_name``; or is itself a record) of
    one group that people's decisions tie together between records with full names
    (``_vouched``). So
    Pat Doe's Zendesk record stays with her when she is accepted as Patricia Stone, and a new
    Patricia Stone record joins her. Only a name conflict is excused: different dates of birth
    or generational suffixes still keep a record out. A record without a full name vouches
    for no name: a nameless record accepted as Chris's and then as Robert's ties no names
    together, and the two decisions stay a contradiction for a person (``decisions.py``).
    """

    def __init__(self, features: Mapping[int, Features], decisions: Decisions) -> None:
        self.together = decisions.together
        groups = _vouched(decisions.together, features)
        self.carried: dict[int, frozenset[int]] = {}
        for record_id, feats in features.items() if groups else ():
            carried = frozenset(
                index
                for index, members in enumerate(groups)
                if record_id in members or any(_carry_one_name(feats, features[z]) for z in members)
            )
            if carried:
                self.carried[record_id] = carried
        self.features = features

    def touches(self, ids: Iterable[int]) -> bool:
        """Whether any of ``ids`` carries a name people's decisions vouch for."""
        return any(i in self.carried for i in ids)

    def excuses(self, a: int, b: int) -> bool:
        """Whether the name conflict of ``a`` and ``b`` is answered by people's decisions."""
        if pair_of(a, b) in self.together:
            return True
        return not self.carried.get(a, frozenset()).isdisjoint(self.carried.get(b, frozenset()))

    def any_conflict(self, ids: list[int]) -> bool:
        """``_any_conflict`` of these records, leaving out the conflicts excused."""
        return any(
            names_conflict(self.features[a], self.features[b]) and not self.excuses(a, b)
            for i, a in enumerate(ids)
            for b in ids[i + 1 :]
        )


def _vouched(together: Iterable[Pair], features: Mapping[int, Features]) -> list[set[int]]:
    """The groups of records that people's ``together`` decisions tie to each other, taking
    only decisions between two records with full names (through others too)."""
    named = [
        (a, b)
        for a, b in together
        if a in features and b in features and _full_name(features[a]) and _full_name(features[b])
    ]
    groups = _Clusters(sorted({x for pair in named for x in pair}))
    for a, b in named:
        if groups.find(a) != groups.find(b):
            groups.union(a, b)
    return [set(members) for members in groups.members.values()]


def _full_name(feats: Features) -> bool:
    return bool(feats.first and feats.last)


def _carry_one_name(a: Features, b: Features) -> bool:
    """Whether two records carry one full name, exactly: the same first name and surname (as
    folded), either way round. Not a nickname or a typo: a person who put Pat Doe together
    with Patricia Stone said who Pat Doe is, not who every Pat is (Patrick Doe on the family
    mailbox carries a Pat too), and Chris Lee put with Christopher Lee says nothing of
    Christine Lee."""
    if not (_full_name(a) and _full_name(b)):
        return False
    return (a.first, a.last) in {(b.first, b.last), (b.last, b.first)}


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
    excused = _Excused(features, decisions) if decisions.together else None
    shared = shared_values(features, excused)
    ids = sorted(features)
    if len(ids) < _MEMO_FROM:
        results = {
            (a, b): decide(features[a], features[b], model, thresholds, shared)
            for i, a in enumerate(ids)
            for b in ids[i + 1 :]
        }
    else:
        results = _decide_remembered(ids, features, model, thresholds, shared)
    bound = set(decisions.together)
    if excused is not None:
        bound.update(
            pair
            for pair, result in results.items()
            if result.rule == "conflict" and excused.excuses(*pair)
        )
    joining = _Joining(ids, results, decisions, model, frozenset(bound))
    candidates = _link_candidates(results, decisions, _stable_keys(features))
    for tier in _tiers(candidates):
        joining.take(tier)
    clusters, reviews = joining.clusters, joining.reviews
    links = joining.links
    if any(link.rule == "manual" for link in links):
        links = _evidence_first(joining, candidates)
    for (a, b), result in sorted(results.items()):
        if result.review and clusters.find(a) != clusters.find(b) and (a, b) not in decisions.apart:
            reason = review_reason(result.rule)
            reviews.append(Review(a, b, result.probability, reason, _ev(model, result)))
    return ComponentResult(clusters=clusters.groups(), links=links, reviews=_unique(reviews))


def _evidence_first(joining: _Joining, candidates: list[Candidate]) -> list[Link]:
    """The links of the clusters people's decisions joined, told by the evidence wherever it
    holds them together. People's decisions join first (``_Joining``), so a merge of a third
    profile into one whose two records share an email would otherwise show both as held by
    the merge alone, hiding the email link that was their reason. The clusters stay as they
    are: only which of their pairs explain them changes, automatic links first (strongest
    first, as they were taken; none a record was held back on), then people's decisions for
    what the evidence does not join."""
    clusters = joining.clusters
    decided = {clusters.find(link.a) for link in joining.links if link.rule == "manual"}
    links = [link for link in joining.links if clusters.find(link.a) not in decided]
    tree = _Clusters(x for root in decided for x in clusters.members[root])
    ordered = [c for c in candidates if c[1] != "manual"] + [
        c for c in candidates if c[1] == "manual"
    ]
    for (a, b), rule, result in ordered:
        if (a, b) in joining.held or clusters.find(a) not in decided:
            continue
        if clusters.find(a) == clusters.find(b) and tree.find(a) != tree.find(b):
            tree.union(a, b)
            links.append(Link(a, b, rule, result.probability, _ev(joining.model, result)))
    return links


# Components of this many records or more have their pairs' results remembered between calls:
# one record joining or leaving a large component re-clusters it whole, and every other pair
# would be decided again exactly as before. Smaller components are cheap to decide afresh.
_MEMO_FROM = 24
# At most this many pairs' results are kept (about 20 MB); when full, the memo is emptied and
# fills again. ``decide`` is pure, so what a component gets never depends on what was kept.
_MEMO_SIZE = 1 << 16
_MemoKey = tuple[bytes, bytes, bytes, tuple[str, ...]]
_memo: dict[_MemoKey, PairResult] = {}
_encode_json = msgspec.json.Encoder().encode


def _decide_remembered(
    ids: list[int],
    features: Mapping[int, Features],
    model: MatchModel,
    thresholds: Thresholds,
    shared: frozenset[str],
) -> dict[Pair, PairResult]:
    """``decide`` for every pair of the component, taken from the memo where the same pair was
    decided before under the same model and thresholds. ``decide`` is pure and reads of
    ``shared`` only whether the values both records hold are in it, so the key is the model
    and thresholds, both records' features (encoded: bytes keep their hash) and the shared
    values the two hold."""
    memo = _memo
    setting = _encode_json(model) + b"|" + _encode_json(thresholds)
    encoded = {rid: _encode(f) for rid, f in features.items()}
    values = {
        rid: frozenset((*f.emails, *f.phones)) & shared if shared else frozenset()
        for rid, f in features.items()
    }
    results: dict[Pair, PairResult] = {}
    for i, a in enumerate(ids):
        fa, ea, va = features[a], encoded[a], values[a]
        for b in ids[i + 1 :]:
            vb = values[b]
            key = (setting, ea, encoded[b], tuple(sorted(va & vb)) if va and vb else ())
            result = memo.get(key)
            if result is None:
                result = decide(fa, features[b], model, thresholds, shared)
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()
                memo[key] = result
            results[(a, b)] = result
    return results


Candidate = tuple[Pair, str, PairResult]  # a pair that may join two clusters, by which rule

AMBIGUOUS = "as close to two people who cannot be one"


class _Joining:
    """Joins clusters one tier of equally strong link pairs at a time (step 3 and 4 of the
    module docstring), collecting the links that hold and the pairs a person should see."""

    def __init__(
        self,
        ids: list[int],
        results: Mapping[Pair, PairResult],
        decisions: Decisions,
        model: MatchModel,
        bound: frozenset[Pair],
    ) -> None:
        self.clusters = _Clusters(ids)
        self.results = results
        self.decisions = decisions
        self.model = model
        # Pairs no conflict keeps apart: people's ``together`` and the conflicts they answer.
        self.bound = bound
        self.links: list[Link] = []
        self.reviews: list[Review] = []
        # Pairs whose clusters may never join: what ``_may_join`` refuses on, plus the pairs
        # held back because their record was as close to someone else (``held``).
        self.never = _never_together(results, decisions, bound)
        self.held: set[Pair] = set()

    def take(self, tier: list[Candidate]) -> None:
        """Join what the tier's pairs join; hold back the pairs of any cluster that is as
        close to two clusters which can never be one. People's decisions are taken as they
        come (``decisions.py`` refuses one that contradicts an earlier one)."""
        if tier[0][1] == "manual":
            for candidate in tier:
                self._join(candidate)
            return
        pending, settled = deque(tier), False  # taken from the left: a deque, not a list
        while pending:
            if not settled:
                contested = self._contested(pending) if self.never or self.held else set()
                if contested:
                    pending = deque(self._hold(pending, contested))
                    continue  # holding may leave another cluster between two: look again
                settled = True
            settled = not self._join(pending.popleft())

    def _join(self, candidate: Candidate) -> bool:
        """Join the pair's clusters if they may be one; return whether two clusters joined."""
        (a, b), rule, result = candidate
        if self.clusters.find(a) == self.clusters.find(b):
            return False
        if _may_join(self.clusters, a, b, self.results, self, self.held):
            self.clusters.union(a, b)
            self.links.append(Link(a, b, rule, result.probability, _ev(self.model, result)))
            return True
        if rule != "manual":
            self._review(candidate, "conflicts with the cluster")
        return False

    def _contested(self, pending: Iterable[Candidate]) -> set[Pair]:
        """The pending pairs that would join a cluster to one of two clusters that can never
        be one, when the pending pairs would join it to the other as well."""
        find = self.clusters.find
        apart = {
            pair_of(find(x), find(y)) for x, y in (*self.never, *self.held) if find(x) != find(y)
        }
        near: dict[int, set[int]] = {}  # cluster -> clusters a pending pair may join it to
        for (a, b), _, _ in pending:
            ra, rb = find(a), find(b)
            if ra != rb and pair_of(ra, rb) not in apart:
                near.setdefault(ra, set()).add(rb)
                near.setdefault(rb, set()).add(ra)
        torn: set[Pair] = set()  # cluster pairs not to join automatically
        for one, other in apart:
            for between in near.get(one, set()) & near.get(other, set()):
                torn |= {pair_of(between, one), pair_of(between, other)}
        return {pair for pair, _, _ in pending if pair_of(find(pair[0]), find(pair[1])) in torn}

    def _hold(self, pending: Iterable[Candidate], contested: set[Pair]) -> list[Candidate]:
        """Hold the contested pairs apart for a person to decide; return the rest."""
        for candidate in pending:
            if candidate[0] in contested:
                self.held.add(candidate[0])
                self._review(candidate, AMBIGUOUS)
        return [candidate for candidate in pending if candidate[0] not in contested]

    def _review(self, candidate: Candidate, reason: str) -> None:
        (a, b), _, result = candidate
        self.reviews.append(Review(a, b, result.probability, reason, _ev(self.model, result)))


def _never_together(
    results: Mapping[Pair, PairResult], decisions: Decisions, bound: frozenset[Pair]
) -> list[Pair]:
    """The pairs whose records can never share a cluster (as ``_may_join`` decides)."""
    conflicting = {
        pair
        for pair, result in results.items()
        if result.conflict and result.rule != "explicit_id" and pair not in bound
    }
    return sorted(conflicting | set(decisions.apart))


def _tiers(candidates: list[Candidate]) -> list[list[Candidate]]:
    """The candidates (strongest first) grouped into runs of equal strength: the same rule
    priority and the same probability."""
    tiers: list[list[Candidate]] = []
    last: tuple[int, float] | None = None
    for candidate in candidates:
        _, rule, result = candidate
        strength = (_PRIORITY.get(rule, 1), result.probability)
        if strength != last:
            tiers.append([])
            last = strength
        tiers[-1].append(candidate)
    return tiers


_REVIEW_REASONS = {
    "conflict": "names conflict on a shared identifier",
    "birth_date": "dates of birth differ",
    "generation": "generational suffixes differ (Sr/Jr)",
    "second_given_names": "second given names differ",
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
) -> list[Candidate]:
    """The pairs that may join two clusters, strongest first. Links equally strong are taken in
    the order of what the records are (``_stable_keys``), not of their record ids, which
    follow the order the records arrived in, so the result does not depend on that order. (A
    record as close to Ann as to Bob, who cannot be one person, joins neither: ``_Joining``.)"""
    found = []
    for pair, result in results.items():
        if pair in decisions.apart:
            continue
        if pair in decisions.together:
            found.append((pair, "manual", result))
        elif result.link:
            found.append((pair, result.rule, result))

    def order(item: Candidate) -> tuple[int, float, tuple[bytes, ...], Pair]:
        (a, b), rule, result = item
        # People's decisions keep their own order: one that contradicts an earlier one is
        # refused by ``decisions.py``, which finds the earlier one by it.
        if rule == "manual":
            return (-3, -result.probability, (), (a, b))
        sa, sb = stable[a], stable[b]
        what = (sa, sb) if sa <= sb else (sb, sa)
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
    joining: _Joining,
    held: set[Pair],
) -> bool:
    left, right = clusters.members[clusters.find(a)], clusters.members[clusters.find(b)]
    apart, bound = joining.decisions.apart, joining.bound
    for x in left:
        for y in right:
            pair = pair_of(x, y)
            if pair in apart or pair in held:
                return False
            if pair in bound:
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
