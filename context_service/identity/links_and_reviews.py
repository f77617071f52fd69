"""Writing a resolution's outcome back to the store: the links that justify each profile
(``identity_links``) and the open review items (``review_items``).

Used by ``identity.engine`` after it re-clusters components.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Mapping
from typing import TypeVar

from context_service.identity.cluster import ComponentResult, Pair, Review
from context_service.identity.sql import chunks, placeholders

_T = TypeVar("_T")


def write_links(
    conn: sqlite3.Connection,
    now: str,
    results: list[ComponentResult],
    profile_of: Mapping[int, str],
    members: list[int],
) -> None:
    """Make the members' stored links the ones just decided, touching only those that
    changed: a link that stands as it was keeps its row and the time it was first decided
    (a webhook that adds one record to a profile of four writes one link, not five)."""
    decided = [
        (
            profile_of[link.a],
            link.b,
            link.a,
            link.rule,
            round(link.probability, 6),
            json.dumps(link.evidence, sort_keys=True),
            "person" if link.rule == "manual" else "auto",
        )
        for result in results
        for link in result.links
    ]
    wanted = Counter(decided)
    stale: list[int] = []
    for chunk in chunks(members):
        for row_id, *stored in conn.execute(
            "SELECT id, profile_id, record_id, other_record_id, rule, score, evidence, "
            f"decided_by FROM identity_links WHERE record_id IN ({placeholders(chunk)})",
            chunk,
        ):
            link = tuple(stored)
            if wanted[link] > 0:
                wanted[link] -= 1
            else:
                stale.append(int(row_id))
    for chunk in chunks(stale):
        conn.execute(f"DELETE FROM identity_links WHERE id IN ({placeholders(chunk)})", chunk)
    conn.executemany(
        "INSERT INTO identity_links (profile_id, record_id, other_record_id, rule, score, "
        "evidence, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(*link, now) for link in _take(decided, wanted)],
    )


def write_reviews(
    conn: sqlite3.Connection, now: str, reviews: list[Review], members: list[int]
) -> None:
    """Keep the open review items of these records in step, ids stable for the same pair."""
    produced: dict[Pair, Review] = {}
    for review in reviews:
        produced.setdefault((review.a, review.b), review)
    stale: list[int] = []
    for chunk in chunks(members):
        marks = placeholders(chunk)
        for item_id, a, b in conn.execute(
            f"SELECT id, a, b FROM review_items WHERE +status = 'open' AND (a IN ({marks}) "
            f"OR b IN ({marks}))",
            chunk * 2,
        ):
            if (int(a), int(b)) not in produced:
                stale.append(int(item_id))
    conn.executemany("DELETE FROM review_items WHERE id = ?", [(i,) for i in stale])
    conn.executemany(
        "INSERT INTO review_items (a, b, probability, reason, evidence, status, created_at) "
        "VALUES (?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (a, b) DO UPDATE SET "
        "probability = excluded.probability, reason = excluded.reason, "
        "evidence = excluded.evidence WHERE review_items.status = 'open'",
        [
            (
                r.a,
                r.b,
                round(r.probability, 6),
                r.reason,
                json.dumps(r.evidence, sort_keys=True),
                now,
            )
            for r in produced.values()
        ],
    )


def _take(items: list[_T], counts: Counter[_T]) -> list[_T]:
    """The items, in order, as many times as ``counts`` still allows each (the counts used)."""
    taken = []
    for item in items:
        if counts[item] > 0:
            counts[item] -= 1
            taken.append(item)
    return taken


__all__ = ["write_links", "write_reviews"]
