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
    if not links:
        return MatchConfidence(score=None, rule=None, links=0)
    weakest = min(links, key=lambda link: link.score)
    return MatchConfidence(score=weakest.score, rule=weakest.rule, links=len(links))
