"""How sure a scored match is, in the words every surface uses: ``exact``, ``high``,
``medium`` or ``low`` (``schemas.CONFIDENCE_MEANING`` says what each promises).

One grading for ``find_customer`` (``tools.service``) and for the lookups of ``/v1/context``
and ``/v1/escalations`` (``api.identify``), so that the same details about the same customer
read the same however they are asked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Literal

import msgspec

from context_service.identity.pairs import Thresholds
from context_service.identity.search import (
    PARTIAL_NAME,
    SHARED_CONTACT,
    Candidate,
    PartialIdentity,
)
from context_service.snapshot import lookup
from context_service.store.snapshots import StoredSnapshot

Confidence = Literal["exact", "high", "medium", "low"]

# Evidence that speaks against a candidate: a detail of someone else, or a contact it shares.
DISAGREEING = frozenset({"different", "someone else's", SHARED_CONTACT})


# The evidence words that say a detail given matched the customer (``identity.compare`` levels;
# an order, ticket or invoice number that is ``theirs``; a contact held by several).
AGREEING = frozenset(
    {"exact", "shared", "local", "handle", "fuzzy", "related", "initial", "theirs"}
    | {SHARED_CONTACT, PARTIAL_NAME}
)


def agrees(candidate: Candidate) -> bool:
    """Whether no detail given speaks against this candidate."""
    return not DISAGREEING.intersection(candidate.evidence.values())


def contradicted(candidate: Candidate) -> bool:
    """Whether the name given is not this customer's: a first name or surname that none of
    their records agrees with. A customer knows their own name, so however strongly the rest
    agrees (their order number, which others can read off a parcel), such a candidate is never
    the answer: someone who gives another name may be another person."""
    names = (candidate.evidence.get("first_name"), candidate.evidence.get("last_name"))
    return "different" in names


def rival_of(found: list[Candidate], thresholds: Thresholds) -> Candidate | None:
    """The likeliest candidate after the first (``found`` is best first) that competes with
    it: one at least as likely as the review threshold whose name the details do not
    contradict (``contradicted``: Michelle is no rival of Michael for "Michael Brown" on their
    household's phone). With a rival the details name several customers, and none of them is
    the answer."""
    rivals = (c for c in found[1:] if c.probability >= thresholds.review and not contradicted(c))
    return next(rivals, None)


def names_an_account(matches: Iterable[object], review: float) -> bool:
    """Whether any of the ``matches`` (``find_customer`` matches, or a 409's candidates, as
    dicts) says an account exists, for a caller who may learn only that: one graded ``exact``,
    one found without a probability (a contact several customers hold), or one at least as
    likely as the ``review`` threshold. A name that faintly fits someone (0.02) says nothing."""
    return any(
        isinstance(m, Mapping)
        and (
            m.get("confidence") == "exact"
            or m.get("probability") is None
            or float(m["probability"]) >= review
        )
        for m in matches
    )


def confidence_of(probability: float, thresholds: Thresholds) -> Confidence:
    """The word for a match probability: ``high`` from the link threshold, ``medium`` from
    the review threshold, ``low`` below it."""
    if probability >= thresholds.link:
        return "high"
    return "medium" if probability >= thresholds.review else "low"


class Grading(msgspec.Struct, frozen=True):
    """What the confidence of a scored candidate depends on besides its probability."""

    thresholds: Thresholds
    sole_holder: str | None  # the one profile every email and phone given names on its own
    shared: dict[str, set[str]]  # email or phone given -> the several profiles that hold it
    # email or phone given -> every profile that holds it (one alone, or several)
    held: dict[str, set[str]] = msgspec.field(default_factory=dict)

    def confidence(self, candidate: Candidate) -> Confidence:
        """``exact`` for the sole holder of the contacts given when nothing disagrees; ``low``
        when the name given is not theirs (``contradicted``); else the probability's word, at
        most ``medium`` when a contact given is shared (several profiles hold it, or the search
        found it held by several customers)."""
        if candidate.profile_id == self.sole_holder and agrees(candidate):
            return "exact"
        if contradicted(candidate):
            return "low"
        word = confidence_of(candidate.probability, self.thresholds)
        if word == "high" and self.rests_on_a_shared_contact(candidate):
            return "medium"
        return word

    def rests_on_a_shared_contact(self, candidate: Candidate) -> bool:
        """Whether an email or phone given that this candidate holds is held by others too."""
        return bool(self.shares(candidate.profile_id)) or (
            SHARED_CONTACT in candidate.evidence.values()
        )

    def held_by_others(self, profile_id: str) -> list[str]:
        """The contacts given (``email``, ``phone``) that other customers hold and this profile
        does not: whoever gave them holds someone else's contact, so this profile is not the
        answer however well the rest agrees (precision first)."""
        return [field for field, ids in self.held.items() if profile_id not in ids]

    def holders_for(self, fields: list[str]) -> dict[str, list[str]]:
        """Each profile that holds one of the contacts ``fields`` names (``held_by_others``),
        with the fields it holds, in order."""
        holding: dict[str, list[str]] = {}
        for field in fields:
            for profile_id in sorted(self.held[field]):
                holding.setdefault(profile_id, []).append(field)
        return holding

    def shares(self, profile_id: str) -> list[str]:
        """The contacts given that this profile holds with other profiles."""
        return [field for field, ids in self.shared.items() if profile_id in ids]

    def note(self, profile_id: str) -> str:
        """What to say of the shared contacts this profile holds (empty when none)."""
        return "; ".join(
            f"the {field} given is held by {len(self.shared[field])} customers"
            for field in self.shares(profile_id)
        )


def sole_holder(partial: PartialIdentity, holders: dict[str, StoredSnapshot]) -> str | None:
    """The one profile that the email and phone given (either or both) name on their own;
    ``None`` when neither was given, one is shared or unknown, or they name two profiles."""
    given = [field for field in ("email", "phone") if getattr(partial, field)]
    if not given or any(field not in holders for field in given):
        return None
    named = {holders[field].profile_id for field in given}
    return named.pop() if len(named) == 1 else None


def grading_for(
    conn: sqlite3.Connection,
    partial: PartialIdentity,
    holders: dict[str, StoredSnapshot],
    region: str,
    thresholds: Thresholds,
) -> Grading:
    """The grading of a search for ``partial``, whose email and phone ``holders`` name
    (``lookup.sole_holders``)."""
    shared = lookup.shared_holders(conn, partial.email, partial.phone, region)
    held = {field: {stored.profile_id} for field, stored in holders.items()} | shared
    return Grading(thresholds, sole_holder(partial, holders), shared, held)
