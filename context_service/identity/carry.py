"""Carry a merged-away record's identity state over to the record the vendor merged it into.

A vendor merge (HubSpot ``contact.merge``, Shopify ``customers/merge``) says two records are one
person and retires one of them. What people decided about the retired record (``apart`` or
``together`` with some other record) is about that person, so it moves to the survivor;
otherwise it would die with the record and the engine could join what a person kept apart.
"""

from __future__ import annotations

import sqlite3

from context_service.identity.cluster import pair_of


def carry_decisions(conn: sqlite3.Connection, merged: int, survivor: int) -> int:
    """Move every person's decision about ``merged`` to ``survivor`` (pairs in ``pair_of``
    order); return how many moved.

    Where the survivor already has a decision about the same other record, the survivor's is
    kept and the merged record's dropped. A decision between the two records themselves is
    dropped: the vendor has made them one.
    """
    rows = conn.execute(
        "SELECT a, b, decision, decided_by, decided_at, note FROM identity_decisions "
        "WHERE a = ? OR b = ?",
        (merged, merged),
    ).fetchall()
    moved = []
    for a, b, decision, decided_by, decided_at, note in rows:
        other = int(b) if int(a) == merged else int(a)
        if other in (merged, survivor):
            continue
        moved.append((*pair_of(survivor, other), decision, decided_by, decided_at, note))
    conn.execute("DELETE FROM identity_decisions WHERE a = ? OR b = ?", (merged, merged))
    before = conn.total_changes
    conn.executemany(
        "INSERT INTO identity_decisions (a, b, decision, decided_by, decided_at, note) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (a, b) DO NOTHING",
        sorted(moved),
    )
    return conn.total_changes - before


__all__ = ["carry_decisions"]
