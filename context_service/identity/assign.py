"""Map clusters to profiles so that ids stay stable: a profile id stays with the cluster that
holds most of its own members, and when several profiles merge into one cluster the oldest of
them survives; profiles that lose every member to another cluster become aliases of it, and
only a cluster with no profile of its own gets a new id.

A profile's own members are those it did not take over in a merge: the records a merged-away
id (an alias pointing at it) remembers are that alias's, not the survivor's. So when Ann's
older profile survives a merge with Cal's two records and Ann is split out again, Ann's id
stays with Ann (and Cal's id, the alias, follows Cal's records), not with the larger part."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

import msgspec

from context_service.identity.sql import chunks, placeholders
from context_service.store import aliases, profiles


class Assignment(msgspec.Struct):
    """Which profile each record of a component belongs to, and the profiles that changed."""

    profile_of: dict[int, str]
    changed: set[str]


def assign_profiles(conn: sqlite3.Connection, clusters: list[list[int]], now: str) -> Assignment:
    """Give each cluster a profile id, keeping ids stable (see the module docstring)."""
    members = [rid for cluster in clusters for rid in cluster]
    current = profiles.profiles_of(conn, members)
    age = _profile_age(conn, set(current.values()))
    claimed: dict[str, int] = {}  # profile id -> index of the cluster that keeps it
    chosen: dict[int, str] = {}
    counts = [_held(cluster, current) for cluster in clusters]
    home = _homes(clusters, counts, _own_counts(conn, clusters, current))
    order = sorted(range(len(clusters)), key=lambda i: (-len(clusters[i]), clusters[i][0]))
    for index in order:  # first every cluster takes the oldest id whose home it is
        own = sorted((p for p in counts[index] if home[p] == index), key=lambda p: _age(age, p))
        keep = next((pid for pid in own if pid not in claimed), None)
        if keep is not None:
            claimed[keep], chosen[index] = index, keep
    homeless: list[int] = []  # clusters that get a new profile, in creation order
    for index in order:  # then a cluster without one takes an id no cluster kept
        if index in chosen:
            continue
        holding = counts[index]
        others = sorted(holding, key=lambda p: (-holding[p], *_age(age, p)))
        keep = next((pid for pid in others if pid not in claimed), None)
        if keep is None:
            homeless.append(index)
            continue
        claimed[keep], chosen[index] = index, keep
    for index, new_id in zip(
        homeless, profiles.create_profiles(conn, len(homeless), now), strict=True
    ):
        claimed[new_id] = index
        chosen[index] = new_id
    profile_of = {rid: chosen[i] for i, cluster in enumerate(clusters) for rid in cluster}
    changed = _move_members(conn, current, profile_of)
    for old in sorted(set(current.values()) - set(claimed)):
        heirs = [profile_of[rid] for rid, pid in current.items() if pid == old]
        survivor = max(sorted(set(heirs)), key=heirs.count)
        held = [rid for rid, pid in current.items() if pid == old]
        profiles.merge_into(conn, survivor, old, now, held)
        changed |= {old, survivor}
    return Assignment(profile_of=profile_of, changed=changed)


def _held(cluster: list[int], current: Mapping[int, str]) -> dict[str, int]:
    """How many of the cluster's records each profile holds now."""
    held: dict[str, int] = {}
    for rid in cluster:
        if rid in current:
            held[current[rid]] = held.get(current[rid], 0) + 1
    return held


def _homes(
    clusters: list[list[int]], counts: list[dict[str, int]], own: list[dict[str, int]]
) -> dict[str, int]:
    """For each profile, the cluster holding most of its own members (the larger one on a
    tie); for a profile none of whose own members is here, most of its members."""
    home = _most(clusters, counts)
    home.update(_most(clusters, own))
    return home


def _most(clusters: list[list[int]], counts: list[dict[str, int]]) -> dict[str, int]:
    best: dict[str, tuple[int, int, int]] = {}
    home: dict[str, int] = {}
    for index, held in enumerate(counts):
        rank = (len(clusters[index]), -clusters[index][0]) if clusters[index] else (0, 0)
        for pid, count in held.items():
            score = (count, *rank)
            if count and (pid not in best or score > best[pid]):
                best[pid], home[pid] = score, index
    return home


def _own_counts(
    conn: sqlite3.Connection, clusters: list[list[int]], current: Mapping[int, str]
) -> list[dict[str, int]]:
    """Per cluster, how many of its records each profile holds as its own: not remembered by
    an alias that points at that profile (a profile it took over in a merge)."""
    borrowed = aliases.remembered_for(conn, set(current.values()))

    def own(rid: int) -> bool:
        return rid not in borrowed.get(current.get(rid, ""), ())

    return [_held([rid for rid in cluster if own(rid)], current) for cluster in clusters]


def _age(age: Mapping[str, int], pid: str) -> tuple[int, str]:
    return age.get(pid, 0), pid


def _move_members(
    conn: sqlite3.Connection, current: Mapping[int, str], wanted: Mapping[int, str]
) -> set[str]:
    moves = [(rid, pid) for rid, pid in wanted.items() if current.get(rid) != pid]
    conn.executemany(
        "INSERT INTO profile_members (record_id, profile_id) VALUES (?, ?) "
        "ON CONFLICT (record_id) DO UPDATE SET profile_id = excluded.profile_id",
        moves,
    )
    changed = {pid for _, pid in moves}
    changed |= {current[rid] for rid, _ in moves if rid in current}
    return changed


def _profile_age(conn: sqlite3.Connection, profile_ids: set[str]) -> dict[str, int]:
    ids = sorted(profile_ids)
    found: dict[str, int] = {}
    for chunk in chunks(ids):
        rows = conn.execute(
            f"SELECT id, rowid FROM profiles WHERE id IN ({placeholders(chunk)})", chunk
        )
        found.update((str(pid), int(rowid)) for pid, rowid in rows)
    return found
