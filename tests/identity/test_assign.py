"""Which profile id a cluster keeps: the oldest of the profiles that merge into it, but never
an id whose members mostly went to another cluster."""

from __future__ import annotations

import sqlite3

from context_service.identity.assign import assign_profiles
from context_service.store import Store, profiles

NOW = "2026-11-30T10:00:00Z"


def _records(conn: sqlite3.Connection, count: int) -> list[int]:
    ids = []
    for n in range(count):
        cursor = conn.execute(
            "INSERT INTO records (source, kind, external_id, payload, payload_hash, fetched_at) "
            "VALUES ('crm', 'row', ?, '{}', '', ?)",
            (str(n), NOW),
        )
        ids.append(int(cursor.lastrowid or 0))
    return ids


def _profiles(conn: sqlite3.Connection, *groups: list[int]) -> list[str]:
    """One profile per group of records, created oldest first."""
    made = profiles.create_profiles(conn, len(groups), NOW)
    conn.executemany(
        "INSERT INTO profile_members (record_id, profile_id) VALUES (?, ?)",
        [(rid, pid) for pid, group in zip(made, groups, strict=True) for rid in group],
    )
    return made


def test_the_oldest_profile_survives_a_merge_whatever_the_sizes(store: Store) -> None:
    with store.transaction() as conn:
        r = _records(conn, 4)
        old, new = _profiles(conn, [r[0]], r[1:])
        done = assign_profiles(conn, [r], NOW)
        assert set(done.profile_of.values()) == {old}
        assert profiles.canonical_id(conn, new) == old


def test_an_id_stays_with_the_cluster_holding_most_of_its_members(store: Store) -> None:
    """The old profile's one stray record joins the new profile's five; its other four stay
    together. The old id stays with those four, the new id with the five."""
    with store.transaction() as conn:
        r = _records(conn, 10)
        old, new = _profiles(conn, r[:5], r[5:])
        mostly_new, mostly_old = [r[0], *r[5:]], r[1:5]
        done = assign_profiles(conn, [mostly_new, mostly_old], NOW)
        assert {done.profile_of[rid] for rid in mostly_old} == {old}
        assert {done.profile_of[rid] for rid in mostly_new} == {new}


def test_a_split_leaves_the_id_with_the_larger_part(store: Store) -> None:
    with store.transaction() as conn:
        r = _records(conn, 5)
        (only,) = _profiles(conn, r)
        done = assign_profiles(conn, [r[:2], r[2:]], NOW)
        assert {done.profile_of[rid] for rid in r[2:]} == {only}
        assert done.profile_of[r[0]] != only
