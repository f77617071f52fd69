"""Whether people's decisions bind: after a person's decision is applied, every pair decision it
wrote must be honoured by the profiles, and no decision that was honoured before may stop being
honoured.

The clustering honours ``together`` pairs first and refuses a join across which any pair is kept
``apart`` or conflicts (``cluster._may_join``). Two people's decisions can therefore contradict
each other: a nameless record on a family mailbox accepted as Christopher's, then as Robert's,
whose name conflicts with Christopher's. Re-clustering would silently keep one and drop the
other; ``Watch`` finds that, so the caller can refuse the decision instead (its transaction is
rolled back).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec

from context_service.identity.cluster import Pair
from context_service.identity.sql import chunks, placeholders
from context_service.store import profiles


class PairDecision(msgspec.Struct, frozen=True):
    """A person's decision about one pair of records."""

    decision: str
    decided_by: str
    decided_at: str


def decisions_touching(
    conn: sqlite3.Connection, record_ids: Iterable[int]
) -> dict[Pair, PairDecision]:
    """Every person's decision about a pair with at least one of these records."""
    found: dict[Pair, PairDecision] = {}
    for chunk in chunks(sorted(set(record_ids))):
        marks = placeholders(chunk)
        rows = conn.execute(
            "SELECT a, b, decision, decided_by, decided_at FROM identity_decisions "
            f"WHERE a IN ({marks}) OR b IN ({marks})",
            chunk * 2,
        )
        for a, b, decision, by, at in rows:
            found[(int(a), int(b))] = PairDecision(str(decision), str(by), str(at))
    return found


def unheld(conn: sqlite3.Connection, record_ids: Iterable[int]) -> dict[Pair, PairDecision]:
    """The decisions about these records that the profiles do not honour now: a ``together``
    pair in two profiles, an ``apart`` pair in one. Pairs with a record outside every profile
    (deleted by its vendor) honour nothing and are left out."""
    decided = decisions_touching(conn, record_ids)
    owner = profiles.profiles_of(conn, sorted({x for pair in decided for x in pair}))
    return {
        (a, b): d
        for (a, b), d in decided.items()
        if a in owner and b in owner and (owner[a] == owner[b]) != (d.decision == "together")
    }


class Watch:
    """What was unheld before a re-clustering, to tell what it broke afterwards."""

    def __init__(self, conn: sqlite3.Connection, scope: Iterable[int]) -> None:
        self.conn = conn
        self.scope = sorted(set(scope))
        self.before = unheld(conn, self.scope)

    def broken(self, own: Iterable[Pair]) -> list[tuple[Pair, PairDecision]]:
        """Decisions not honoured now: this decision's own pairs (``own``), and earlier ones
        that were honoured before. Own pairs come first."""
        mine = set(own)
        after = unheld(self.conn, self.scope)
        found = [(pair, d) for pair, d in after.items() if pair in mine or pair not in self.before]
        return sorted(found, key=lambda item: (item[0] not in mine, item[0]))


__all__ = ["PairDecision", "Watch", "decisions_touching", "unheld"]
