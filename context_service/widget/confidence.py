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
    row = conn.execute(
        "SELECT count(*) FROM review_items r "
        "JOIN profile_members ma ON ma.record_id = r.a "
        "JOIN profile_members mb ON mb.record_id = r.b "
        "WHERE r.status = 'open' AND ma.profile_id != mb.profile_id "
        "AND (ma.profile_id = ? OR mb.profile_id = ?)",
        (profile_id, profile_id),
    ).fetchone()
    return int(row[0]) if row else 0
