"""Match confidence of a profile: its weakest identity link, or "single source"."""

from __future__ import annotations

import sqlite3
from decimal import ROUND_FLOOR, Decimal

import msgspec

from context_service.store import profiles

# The first record of a profile is linked by this rule at score 1.0; it proves nothing.
_SEED_RULE = "new_profile"


class MatchConfidence(msgspec.Struct, frozen=True):
    """The lowest score among the links that joined the profile's records, and its rule."""

    score: float | None
    rule: str | None
    links: int
    # Open review items asking whether one of its records is someone else's customer: the
    # service itself is not sure the card is one person (a name conflict on a shared email).
    under_review: int = 0

    def label(self) -> str:
        """A short label for a badge: "match 0.95 (phone_name)" or "single source"."""
        if self.score is None:
            return "single source"
        return f"match {self.shown_score()} ({self.rule})"

    def shown_score(self) -> str:
        """The score to two places, rounded down so it never reads more certain than it is
        (0.899 is "0.89", under a 0.9 threshold, and 0.9999 is not "1.00")."""
        if self.score is None:
            return ""
        return str(Decimal(str(self.score)).quantize(Decimal("0.01"), rounding=ROUND_FLOOR))


def match_confidence(conn: sqlite3.Connection, profile_id: str) -> MatchConfidence:
    """The profile's weakest identity link (``identity_links``), ignoring the seed link."""
    links = [link for link in profiles.links_of(conn, profile_id) if link.rule != _SEED_RULE]
    reviews = _open_reviews(conn, profile_id)
    if not links:
        return MatchConfidence(score=None, rule=None, links=0, under_review=reviews)
    weakest = min(links, key=lambda link: link.score)
    return MatchConfidence(weakest.score, weakest.rule, len(links), under_review=reviews)


def _open_reviews(conn: sqlite3.Connection, profile_id: str) -> int:
    """How many open review items pair one of the profile's records with another profile's."""
    return sum(
        int(conn.execute(sql, (profile_id, profile_id)).fetchone()[0]) for sql in _OPEN_REVIEWS
    )


# From the profile's own records to the items naming them (CROSS JOIN keeps that order, and
# ``+r.status`` keeps SQLite off the index of every open item): a card costs a few index
# searches, not a read of the whole review queue. One query for each side of an item.
_OPEN_REVIEWS = tuple(
    "SELECT count(*) FROM profile_members m "
    f"CROSS JOIN review_items r ON r.{mine} = m.record_id "
    f"CROSS JOIN profile_members o ON o.record_id = r.{other} "
    "WHERE m.profile_id = ? AND +r.status = 'open' AND o.profile_id != ?"
    for mine, other in (("a", "b"), ("b", "a"))
)
