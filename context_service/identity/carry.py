"""Carry a merged-away record's identity state over to the record the vendor merged it into.

A vendor merge (HubSpot ``contact.merge``, Shopify ``customers/merge``) says two records are one
person and retires one of them. What people decided about the retired record (``apart`` or
``together`` with some other record) is about that person, so it moves to the survivor;
otherwise it would die with the record and the engine could join what a person kept apart.

Several records merged into one survivor in one batch may carry contradicting decisions about
the same other record (one ``together``, one ``apart``). ``apart`` wins, whatever order the
merges came in: a false merge shows one customer's data to another person, a missed one only
costs a review. So ``carry_all`` takes the batch's merges at once: carried one merge at a time,
the first would win.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import NamedTuple

from context_service.identity.cluster import Pair, pair_of
from context_service.identity.decision_log import log_decisions


class _Decision(NamedTuple):
    decision: str
    decided_by: str
    decided_at: str
    note: str | None


def carry_all(conn: sqlite3.Connection, merges: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Move every person's decision about each merged-away record to its survivor; return how
    many decisions each survivor took over (a survivor that took none is absent).

    ``merges`` holds one batch's (merged, survivor) record ids, in any order; a survivor
    merged on in the same batch passes what it took over to its own survivor. Of the decisions
    carried to one survivor about one other record, ``apart`` wins over ``together``. Where the
    survivor already has its own decision about that record, the survivor's is kept and the
    carried one dropped. A decision between two records that end in the same survivor is
    dropped: the vendor has made them one.
    """
    into = _final_survivors(merges)
    carried: dict[Pair, _Decision] = {}
    takers: dict[Pair, set[int]] = {}
    for merged, survivor in sorted(into.items()):
        for about, decision in _decisions_about(conn, merged):
            other = into.get(about, about)
            if other == survivor:
                continue
            pair = pair_of(survivor, other)
            if pair not in carried or _safer(decision, carried[pair]):
                carried[pair] = decision
            takers.setdefault(pair, set()).add(survivor)
    conn.executemany(
        "DELETE FROM identity_decisions WHERE a = ? OR b = ?", [(m, m) for m in sorted(into)]
    )
    taken: dict[int, int] = {}
    for (a, b), decision in sorted(carried.items()):
        inserted = conn.execute(
            "INSERT INTO identity_decisions (a, b, decision, decided_by, decided_at, note) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (a, b) DO NOTHING",
            (a, b, *decision),
        ).rowcount
        for survivor in takers[a, b] if inserted else ():
            taken[survivor] = taken.get(survivor, 0) + 1
        if inserted:  # the audit's history shows the decision where it now binds
            note = _carried_note(decision.note)
            log_decisions(
                conn, [(a, b, decision.decision, decision.decided_by, decision.decided_at, note)]
            )
    return taken


def _carried_note(note: str | None) -> str:
    """The note of a decision carried to a vendor merge's survivor: the person's own, and
    why it names another record now."""
    carried = "carried to the survivor of a merge at the source"
    return f"{note} ({carried})" if note else carried


def _safer(new: _Decision, old: _Decision) -> bool:
    """Whether ``new`` should replace ``old`` about the same pair: only ``apart`` over
    ``together`` (otherwise the first, in record id order, stays)."""
    return new.decision == "apart" and old.decision == "together"


def _final_survivors(merges: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Each merged-away record and the record it ends in, following chains (a merged into b,
    b into c: both end in c). A cycle, which no vendor should send, stops where it closes."""
    step = {merged: survivor for merged, survivor in merges if merged != survivor}
    final: dict[int, int] = {}
    for merged, first in step.items():
        seen, at = {merged}, first
        while at in step and step[at] not in seen:
            seen.add(at)
            at = step[at]
        final[merged] = at
    return {merged: end for merged, end in final.items() if end != merged}


def _decisions_about(conn: sqlite3.Connection, record_id: int) -> list[tuple[int, _Decision]]:
    """Every person's decision about a pair with this record: the other record and the
    decision."""
    rows = conn.execute(
        "SELECT a, b, decision, decided_by, decided_at, note FROM identity_decisions "
        "WHERE a = ? OR b = ?",
        (record_id, record_id),
    )
    return [
        (int(b) if int(a) == record_id else int(a), _Decision(str(d), str(by), str(at), note))
        for a, b, d, by, at, note in rows
    ]


__all__ = ["carry_all"]
