"""Finding candidate pairs through the blocking-key index (``identifiers``, kind ``block``).

Used by ``identity.engine``: each query reads the records that hold a batch's blocking keys,
one chunk of keys at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from context_service.identity.cluster import Pair
from context_service.identity.sql import chunks, placeholders


def candidate_pairs(
    conn: sqlite3.Connection, keys: Mapping[int, set[str]]
) -> tuple[set[Pair], dict[str, list[int]]]:
    """Every pair of a record of the batch and another record (of the batch or not) that
    holds one of its blocking keys, found in one query per chunk of keys; and the holders
    of each mailbox (``e:`` key) among them, which ``Engine._crowded`` needs.

    The batch's records are mapped by key (most keys are one record's, kept as a plain
    int) and each stored holder is paired as it is read, so no list of holders per key is
    built: thousands of small lists a batch would only feed the garbage collector."""
    owner: dict[str, int] = {}  # a key held by one record of the batch: that record
    owners: dict[str, list[int]] = {}  # a key held by several: all of them
    for rid, ks in keys.items():
        for key in ks:
            if key in owners:
                owners[key].append(rid)
            elif key in owner:
                owners[key] = [owner.pop(key), rid]
            else:
                owner[key] = rid
    pairs: set[Pair] = set()
    mailboxes: dict[str, list[int]] = {}
    for chunk in chunks(sorted(owner.keys() | owners.keys())):
        rows = conn.execute(
            "SELECT value, record_id FROM identifiers WHERE kind = 'block' "
            f"AND value IN ({placeholders(chunk)})",
            chunk,
        )
        for value, record_id in rows:
            key, other = str(value), int(record_id)
            if key.startswith("e:"):
                mailboxes.setdefault(key[2:], []).append(other)
            one = owner.get(key)
            for rid in owners.get(key, ()) if one is None else (one,):
                if other != rid:
                    pairs.add((rid, other) if rid < other else (other, rid))  # pair_of
    return pairs, mailboxes


def value_holders(conn: sqlite3.Connection, values: Iterable[str]) -> dict[str, list[int]]:
    """The records that hold each mailbox or phone (its ``e:`` or ``p:`` blocking key), by
    value."""
    holders: dict[str, list[int]] = {}
    keys = sorted(f"e:{value}" if "@" in value else f"p:{value}" for value in values)
    for chunk in chunks(keys):
        rows = conn.execute(
            "SELECT value, record_id FROM identifiers WHERE kind = 'block' "
            f"AND value IN ({placeholders(chunk)})",
            chunk,
        )
        for value, record_id in rows:
            holders.setdefault(str(value)[2:], []).append(int(record_id))
    return holders


__all__ = ["candidate_pairs", "value_holders"]
