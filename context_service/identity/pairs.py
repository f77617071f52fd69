"""The decision for one pair of records: link, review or keep apart, and why.

Deterministic rules come first (DESIGN, "Identity resolution: principles"):

* ``explicit_id``: one record names the other (Stripe ``metadata``, a Zendesk ``external_id``);
* ``email``: the same mailbox, not shared by differently named people, and names that do not
  conflict;
* ``phone_name``: the same phone, not shared, and names present on both sides that agree.

Otherwise the Fellegi-Sunter probability decides: at or above ``thresholds.link`` the pair links,
at or above ``thresholds.review`` it goes to a person to decide. A pair whose names clearly
conflict never links through a shared email or phone: it goes to review. Nor does a pair
whose dates of birth differ, whatever else agrees (``birth_date``: two people sharing a
mailbox, a parent and child), nor two records that share only a name and an address while
each holds its own numbered mailbox under that name (a Sr and a Jr): they go to review.
"""

from __future__ import annotations

import msgspec

from context_service.identity.compare import Levels, compare, names_conflict, own_handles
from context_service.identity.features import Features
from context_service.identity.model import MatchModel
from context_service.identity.normalize import births_conflict


class Thresholds(msgspec.Struct, frozen=True):
    """Match probabilities at which a pair links, or goes to review."""

    link: float = 0.99
    review: float = 0.5


class PairResult(msgspec.Struct, frozen=True):
    """What the engine concluded about two records."""

    rule: str  # explicit_id | email | phone_name | probabilistic | conflict | birth_date
    probability: float
    levels: Levels
    link: bool  # strong enough to join the two records' clusters
    review: bool  # a person should decide
    conflict: bool  # the two can never be one cluster (unless a person says so)


def decide(
    a: Features,
    b: Features,
    model: MatchModel,
    thresholds: Thresholds,
    shared: frozenset[str] = frozenset(),
) -> PairResult:
    """Compare two records and decide (pure; symmetric in ``a`` and ``b``)."""
    levels = compare(a, b, shared)
    probability = model.probability(levels)
    explicit = (a.own and a.own in b.xrefs) or (b.own and b.own in a.xrefs)
    if explicit:
        return PairResult("explicit_id", 1.0, levels, link=True, review=False, conflict=False)
    email, phone, first, last = levels[0], levels[1], levels[2], levels[3]
    strong = email in {"exact", "shared"} or phone in {"exact", "shared"}
    if names_conflict(a, b):
        return PairResult("conflict", probability, levels, False, review=strong, conflict=True)
    if births_conflict(a.birth, b.birth):
        review = strong or probability >= thresholds.review
        return PairResult("birth_date", probability, levels, False, review=review, conflict=True)
    if email == "exact":
        return PairResult("email", max(probability, thresholds.link), levels, True, False, False)
    names_agree = first in {"exact", "fuzzy"} and last in {"exact", "fuzzy"}
    if phone == "exact" and names_agree:
        return PairResult(
            "phone_name", max(probability, thresholds.link), levels, True, False, False
        )
    link = probability >= thresholds.link and not _namesakes_at_one_door(a, b, levels)
    review = not link and probability >= thresholds.review
    return PairResult("probabilistic", probability, levels, link, review, conflict=False)


def _namesakes_at_one_door(a: Features, b: Features, levels: Levels) -> bool:
    """One name at one address, but each record with its own numbered mailbox under that name
    and no contact in common: a Sr and a Jr, or a parent and child named alike. The name and
    the door then say nothing about which of the two a record is, so the pair is reviewed,
    not linked."""
    email, phone, address = levels[0], levels[1], levels[4]
    return email == "different" and phone != "exact" and address == "exact" and own_handles(a, b)
