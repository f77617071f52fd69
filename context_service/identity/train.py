"""Estimate the match model from the store itself, the way Splink does.

* ``u`` (how often different people agree at a level) for exact matches of emails, phones,
  names and addresses comes from how often two random records share a value: the sum over
  values of ``c (c - 1)`` divided by ``n (n - 1)``, so common first names and shared mailboxes
  weigh less as they grow common. For the other levels (and company, whose ``exact`` takes
  near-identical names too), ``u`` is the level's frequency among random record pairs, the
  email field's from a larger sample of its own. A level the sample never shows (two
  strangers' mailboxes one slip apart are rarer than one in the sample's size) keeps its
  starting ``u``, as Splink keeps a level's starting value when its sample holds none, capped
  at one in the sample's size: smoothing the zero up instead would put a floor of about one in
  the sample's size under rare levels, far above what they are, and cut their weight by half.
* ``m`` (how often the same person's records agree at a level) and the share of matches among
  blocked pairs come from expectation-maximisation over the blocked candidate pairs, with ``u``
  held fixed.
* The prior is the expected number of matching pairs (share of matches times blocked pairs)
  over all pairs: it shrinks as the store grows, so a larger store asks for more evidence.

Training works on the comparison *patterns* (one level per field), not on individual pairs, so
it costs one comparison per sampled pair and then runs in milliseconds.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping

import msgspec

from context_service.identity.compare import FIELD_NAMES, FIELDS, NULL, Levels, compare, email_level
from context_service.identity.features import Features, blocking_keys, door_of
from context_service.identity.model import DEFAULT_MODEL, FieldLevel, MatchModel

_FLOOR = 1e-7
_RANDOM_PAIRS = 20_000
_EMAIL_PAIRS = 500_000  # the email field alone, whose rarest levels need a larger sample
_BLOCKED_PAIRS = 200_000
_MAX_BLOCK = 60  # larger blocks (a very common name) are sampled, not enumerated
_ITERATIONS = 25


class TrainingReport(msgspec.Struct):
    """What training saw and concluded."""

    records: int
    random_pairs: int
    blocked_pairs: int
    match_share: float  # estimated share of true matches among blocked pairs
    prior: float
    model: MatchModel


def train(features: Mapping[int, Features], now: str, seed: int = 7) -> TrainingReport:
    """Estimate a model from the features of every person record in a store.

    With fewer than 50 records there is nothing to learn from and ``DEFAULT_MODEL`` is kept.
    """
    rng = random.Random(seed)
    ids = sorted(features)
    if len(ids) < 50:
        model = msgspec.structs.replace(DEFAULT_MODEL, trained_at=now, trained_on=len(ids))
        return TrainingReport(len(ids), 0, 0, 0.0, model.prior, model)
    u = _u_from_random_pairs(features, ids, rng)
    u.update(_u_of_email_levels(features, rng))
    u.update(_u_exact_from_collisions(features))
    patterns, blocked = _blocked_patterns(features, rng)
    m, share = _expectation_maximisation(patterns, u)
    total_pairs = len(ids) * (len(ids) - 1) / 2
    prior = min(0.5, max(share * blocked / total_pairs, 1.0 / total_pairs))
    model = MatchModel(levels=_levels(m, u), prior=prior, trained_at=now, trained_on=len(ids))
    return TrainingReport(len(ids), _RANDOM_PAIRS, blocked, share, prior, model)


def _u_from_random_pairs(
    features: Mapping[int, Features], ids: list[int], rng: random.Random
) -> dict[tuple[str, str], float]:
    counts: dict[str, Counter[str]] = {field: Counter() for field in FIELD_NAMES}
    for _ in range(_RANDOM_PAIRS):
        a, b = rng.sample(ids, 2)
        for field, level in zip(FIELD_NAMES, compare(features[a], features[b]), strict=True):
            counts[field][level] += 1
    u: dict[tuple[str, str], float] = {}
    for field, levels in FIELDS.items():
        seen = sum(n for level, n in counts[field].items() if level != NULL)
        for level in levels[1:]:
            u[(field, level)] = _u_of_level(counts[field][level], seen, field, level)
    return u


def _u_of_email_levels(
    features: Mapping[int, Features], rng: random.Random
) -> dict[tuple[str, str], float]:
    """``u`` of the email field's levels from a larger sample of random pairs of records that
    hold a mailbox, compared on that field alone (a seventh of a whole comparison's cost); no
    more pairs than a small store has."""
    holders = sorted(rid for rid, f in features.items() if f.emails)
    if len(holders) < 2:
        return {}
    counts: Counter[str] = Counter()
    for _ in range(min(_EMAIL_PAIRS, len(holders) * (len(holders) - 1) // 2)):
        a, b = rng.sample(holders, 2)
        counts[email_level(features[a], features[b])] += 1
    seen = sum(counts.values())
    return {
        ("email", level): _u_of_level(counts[level], seen, "email", level)
        for level in FIELDS["email"][1:]
    }


def _u_of_level(count: int, seen: int, field: str, level: str) -> float:
    """The share of the sampled pairs at the level; for a level the sample never shows, its
    starting value, but no more than one in the sample's size, which the sample would have
    shown about once (a level the data rules out as common is not kept common)."""
    if count:
        return count / seen
    starting = DEFAULT_MODEL.levels[field][level].u
    return min(starting, 1 / seen) if seen else starting


def _u_exact_from_collisions(features: Mapping[int, Features]) -> dict[tuple[str, str], float]:
    """``u`` of exact matches: the chance that two random records share a value."""
    values: dict[str, Counter[str]] = {
        "email": Counter(),
        "phone": Counter(),
        "first_name": Counter(),
        "last_name": Counter(),
        "address": Counter(),
    }
    present = dict.fromkeys(values, 0)
    for f in features.values():
        _count(values, present, "email", f.emails)
        _count(values, present, "phone", f.phones)
        _count(values, present, "first_name", (f.first,) if f.first else ())
        _count(values, present, "last_name", (f.last,) if f.last else ())
        at = door_of(f.street)[0]
        house = f"{f.postcode}|{at}" if f.postcode and at else ""
        _count(values, present, "address", (house,) if house else ())
    u: dict[tuple[str, str], float] = {}
    for field, counter in values.items():
        n = present[field]
        if n > 1:
            same = sum(c * (c - 1) for c in counter.values())
            u[(field, "exact")] = max(same / (n * (n - 1)), _FLOOR)
    return u


def _count(
    values: dict[str, Counter[str]], present: dict[str, int], field: str, found: Iterable[str]
) -> None:
    items = list(found)
    if items:
        present[field] += 1
        values[field].update(items)


def _blocked_patterns(
    features: Mapping[int, Features], rng: random.Random
) -> tuple[Counter[Levels], int]:
    """Comparison patterns of (a sample of) the pairs that share a blocking key."""
    groups: dict[str, list[int]] = {}
    for rid, feats in features.items():
        for key in blocking_keys(feats):
            groups.setdefault(key, []).append(rid)
    pairs: set[tuple[int, int]] = set()
    for members in groups.values():
        if len(members) < 2:
            continue
        sample = rng.sample(members, _MAX_BLOCK) if len(members) > _MAX_BLOCK else members
        ordered = sorted(sample)
        pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    blocked = len(pairs)
    chosen = sorted(pairs)
    if len(chosen) > _BLOCKED_PAIRS:
        chosen = rng.sample(chosen, _BLOCKED_PAIRS)
    patterns: Counter[Levels] = Counter()
    for a, b in chosen:
        if a in features and b in features:
            patterns[compare(features[a], features[b])] += 1
    return patterns, blocked


def _expectation_maximisation(
    patterns: Counter[Levels], u: Mapping[tuple[str, str], float]
) -> tuple[dict[tuple[str, str], float], float]:
    m = {
        (field, level): DEFAULT_MODEL.levels[field][level].m
        for field, levels in FIELDS.items()
        for level in levels[1:]
    }
    share = 0.3
    total = sum(patterns.values())
    if not total:
        return m, share
    for _ in range(_ITERATIONS):
        weights = {p: _posterior(p, m, u, share) for p in patterns}
        matched = sum(weights[p] * n for p, n in patterns.items())
        share = min(max(matched / total, 1e-6), 1 - 1e-6)
        m = _m_step(patterns, weights)
    return m, share


def _posterior(
    pattern: Levels,
    m: Mapping[tuple[str, str], float],
    u: Mapping[tuple[str, str], float],
    share: float,
) -> float:
    pm, pu = share, 1 - share
    for field, level in zip(FIELD_NAMES, pattern, strict=True):
        if level != NULL:
            pm *= max(m[(field, level)], _FLOOR)
            pu *= max(u[(field, level)], _FLOOR)
    return pm / (pm + pu) if pm + pu > 0 else 0.0


def _m_step(
    patterns: Counter[Levels], weights: Mapping[Levels, float]
) -> dict[tuple[str, str], float]:
    m: dict[tuple[str, str], float] = {}
    for index, (field, levels) in enumerate(FIELDS.items()):
        totals: dict[str, float] = {}
        for pattern, n in patterns.items():
            if pattern[index] != NULL:
                level = pattern[index]
                totals[level] = totals.get(level, 0.0) + weights[pattern] * n
        seen = sum(totals.values())
        for level in levels[1:]:
            m[(field, level)] = (
                (totals.get(level, 0.0) + 0.01) / (seen + 0.01 * len(levels))
                if seen
                else (DEFAULT_MODEL.levels[field][level].m)
            )
    return m


def _levels(
    m: Mapping[tuple[str, str], float], u: Mapping[tuple[str, str], float]
) -> dict[str, dict[str, FieldLevel]]:
    out: dict[str, dict[str, FieldLevel]] = {}
    for field, levels in FIELDS.items():
        out[field] = {NULL: FieldLevel(1.0, 1.0)}
        for level in levels[1:]:
            if level == "shared":  # never seen in training (it needs a component): keep as is
                out[field][level] = DEFAULT_MODEL.levels[field][level]
                continue
            out[field][level] = FieldLevel(
                round(max(m[(field, level)], _FLOOR), 8), round(max(u[(field, level)], _FLOOR), 10)
            )
    return out
