"""Profiles: clusters of person-like records with stable ``prof_`` + ULID ids.

When two profiles merge, the older id survives and the other becomes an alias that keeps
resolving. Every change bumps the profile's version; snapshots are keyed by (profile, version).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable

import msgspec
from ulid import ULID

from context_service.models import RecordKey
from context_service.store.aliases import counted_for, follow_aliases, remember, remembered_for
from context_service.store.keys import chunks, grouped, marks


class LinkRow(msgspec.Struct):
    """Why a record belongs to its profile (one row of ``identity_links``)."""

    profile_id: str
    record_id: int
    other_record_id: int | None
    rule: str
    score: float
    evidence: str
    decided_by: str
    decided_at: str


_RANDOM_BITS = 80  # a ULID's bits after its 48-bit millisecond timestamp
_FIRST_BELOW = 1 << 79  # a millisecond's first id leaves room above it for the steps
_STEP_BELOW = 1 << 64  # each next id of the millisecond is this much higher at most


class _Minted:
    """The last id this process minted: its millisecond and random part."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.millisecond = -1
        self.random = 0


_minted = _Minted()


def new_profile_id() -> str:
    """A fresh profile id: ``prof_`` followed by a ULID, time-ordered by its millisecond and,
    within one, by creation in this process (candidates sorted by id list the older first),
    yet no id tells another.

    Not ``ULID()``: python-ulid makes the ids of one millisecond each the previous one plus 1,
    so a customer who learns their own id (``find_customer`` hands it to a model) could count
    their way to the ids minted beside it. Here a millisecond's first id has a random part below
    2**79 and each next one steps up by a random amount below 2**64: finding a neighbour means
    trying some 2**63 ids. (Past 2**80, which takes some 30,000 ids in one millisecond, the id
    takes a fresh random part, unordered; ``oldest`` reads creation order from the table.)"""
    with _minted.lock:
        millisecond = time.time_ns() // 1_000_000
        if millisecond != _minted.millisecond:
            random = secrets.randbelow(_FIRST_BELOW)
        else:
            random = _minted.random + 1 + secrets.randbelow(_STEP_BELOW)
            if random >> _RANDOM_BITS:
                random = secrets.randbelow(_FIRST_BELOW)
        _minted.millisecond, _minted.random = millisecond, random
    value = (millisecond << _RANDOM_BITS) | random
    return f"prof_{ULID.from_bytes(value.to_bytes(16, 'big'))}"


def create_profile(conn: sqlite3.Connection, now: str) -> str:
    """Create an empty profile at version 1 and return its id."""
    profile_id = new_profile_id()
    conn.execute(
        "INSERT INTO profiles (id, version, created_at, updated_at) VALUES (?, 1, ?, ?)",
        (profile_id, now, now),
    )
    return profile_id


def create_profiles(conn: sqlite3.Connection, count: int, now: str) -> list[str]:
    """Create ``count`` empty profiles at version 1, in one statement; return their ids in
    creation order."""
    ids = [new_profile_id() for _ in range(count)]
    conn.executemany(
        "INSERT INTO profiles (id, version, created_at, updated_at) VALUES (?, 1, ?, ?)",
        [(profile_id, now, now) for profile_id in ids],
    )
    return ids


def oldest(conn: sqlite3.Connection, profile_ids: set[str]) -> str:
    """The profile created first among these (insertion order: ids minted in one millisecond
    sort in no particular order)."""
    ids = sorted(profile_ids)
    if len(ids) == 1:
        return ids[0]
    row = conn.execute(
        f"SELECT id FROM profiles WHERE id IN ({marks(ids)}) ORDER BY rowid LIMIT 1", ids
    ).fetchone()
    return str(row[0]) if row else ids[0]


def profile_of(conn: sqlite3.Connection, record_id: int) -> str | None:
    """The profile a record belongs to, if any."""
    row = conn.execute(
        "SELECT profile_id FROM profile_members WHERE record_id = ?", (record_id,)
    ).fetchone()
    return None if row is None else str(row[0])


def profile_of_key(conn: sqlite3.Connection, key: RecordKey) -> str | None:
    """The profile the record with this key belongs to, if any."""
    row = conn.execute(
        "SELECT m.profile_id FROM records r JOIN profile_members m ON m.record_id = r.id "
        "WHERE r.source = ? AND r.kind = ? AND r.external_id = ?",
        (key.source, key.kind, key.external_id),
    ).fetchone()
    return None if row is None else str(row[0])


def profiles_of_keys(conn: sqlite3.Connection, keys: Iterable[RecordKey]) -> dict[RecordKey, str]:
    """The profile of each record key that has one (keys without a profile are absent)."""
    found: dict[RecordKey, str] = {}
    for source, kind, ids in grouped(keys):
        rows = conn.execute(
            "SELECT r.external_id, m.profile_id FROM records r "
            "JOIN profile_members m ON m.record_id = r.id "
            f"WHERE r.source = ? AND r.kind = ? AND r.external_id IN ({marks(ids)})",
            [source, kind, *ids],
        )
        for external_id, profile_id in rows:
            found[RecordKey(source, kind, str(external_id))] = str(profile_id)
    return found


def profiles_of(conn: sqlite3.Connection, record_ids: list[int]) -> dict[int, str]:
    """Map record ids to their profile ids (records without a profile are absent)."""
    found: dict[int, str] = {}
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        rows = conn.execute(
            "SELECT record_id, profile_id FROM profile_members "
            f"WHERE record_id IN ({marks(chunk)})",
            chunk,
        )
        found.update({int(rid): str(pid) for rid, pid in rows})
    return found


def set_member(conn: sqlite3.Connection, record_id: int, profile_id: str) -> None:
    """Put a record into a profile (moving it out of any other)."""
    conn.execute(
        "INSERT INTO profile_members (record_id, profile_id) VALUES (?, ?) "
        "ON CONFLICT (record_id) DO UPDATE SET profile_id = excluded.profile_id",
        (record_id, profile_id),
    )


def remove_member(conn: sqlite3.Connection, record_id: int) -> None:
    """Take a record out of its profile, remembering the id it counted for there
    (``left_profiles``): through it, a vendor's erasure request that comes after the deletion
    (Shopify ``customers/redact``, HubSpot ``privacyDeletion``) still reaches the person
    (``sync.erase``).

    That id is the profile's own, or, for a record the profile took over when another id
    merged into it, that other id (``aliases.counted_for``): a later split moves that alias
    with the person's other records, and the departed record's person with it. (Were the
    record to remember the profile, splitting a wrong merge apart afterwards would leave it,
    and the erasure request for it, with the other person.)"""
    profile_id = profile_of(conn, record_id)
    if profile_id is None:
        return
    conn.execute(
        "INSERT OR REPLACE INTO departed_members (record_id, profile_id) VALUES (?, ?)",
        (record_id, counted_for(conn, profile_id, record_id)),
    )
    conn.execute("DELETE FROM profile_members WHERE record_id = ?", (record_id,))


def left_profiles(conn: sqlite3.Connection, record_ids: Iterable[int]) -> dict[int, str]:
    """The id each of these records counted for in the profile it last left
    (``remove_member``), while no member of any; records that are members, or never were, are
    absent. The id may be, or since have become, an alias, or be gone: ``canonical_id`` tells
    whom it names now."""
    return dict(_departed(conn, "record_id", sorted(set(record_ids))))


def departed_from(conn: sqlite3.Connection, profile_ids: list[str]) -> list[int]:
    """The records that left a profile counting for one of these ids (``remove_member``: a
    profile id, or an alias it had taken the record over from) and joined no other since."""
    return sorted(record_id for record_id, _ in _departed(conn, "profile_id", profile_ids))


def _departed(
    conn: sqlite3.Connection, column: str, values: list[int] | list[str]
) -> list[tuple[int, str]]:
    """(record, profile left) of the departed records whose ``column`` is among ``values``
    and that are members of no profile now."""
    found: list[tuple[int, str]] = []
    for chunk in chunks(sorted(set(values))):  # type: ignore[type-var]
        rows = conn.execute(
            "SELECT d.record_id, d.profile_id FROM departed_members d "
            "LEFT JOIN profile_members m ON m.record_id = d.record_id "
            f"WHERE d.{column} IN ({marks(chunk)}) AND m.record_id IS NULL",
            chunk,
        )
        found += [(int(record_id), str(profile_id)) for record_id, profile_id in rows]
    return found


def members(conn: sqlite3.Connection, profile_id: str) -> list[int]:
    """Record ids of a profile's members, oldest first."""
    rows = conn.execute(
        "SELECT record_id FROM profile_members WHERE profile_id = ? ORDER BY record_id",
        (profile_id,),
    )
    return [int(row[0]) for row in rows]


def aliases_of(conn: sqlite3.Connection, profile_id: str) -> list[str]:
    """The ids that resolve to this profile as aliases."""
    rows = conn.execute(
        "SELECT alias FROM profile_aliases WHERE profile_id = ? ORDER BY alias", (profile_id,)
    )
    return [str(row[0]) for row in rows]


def add_alias(conn: sqlite3.Connection, alias: str, profile_id: str, now: str) -> None:
    """Make ``alias`` (a profile id that no longer exists) resolve to ``profile_id``."""
    conn.execute(
        "INSERT OR REPLACE INTO profile_aliases (alias, profile_id, created_at) VALUES (?, ?, ?)",
        (alias, profile_id, now),
    )


def merge_into(
    conn: sqlite3.Connection, survivor: str, absorbed: str, now: str, held: Iterable[int] = ()
) -> None:
    """Move every member of ``absorbed`` into ``survivor``; ``absorbed`` becomes an alias that
    remembers the records it held as its own (``follow_aliases``): its members now, and
    ``held``, the records it had before a caller moved them on already (the engine moves members
    first), less those it had taken over from ids merged into it earlier (which those ids, now
    aliases of ``survivor`` too, remember and follow themselves). Only when every record it held
    was taken over does it remember them all (it names no one else)."""
    had = set(members(conn, absorbed)) | set(held)
    own = had - remembered_for(conn, [absorbed]).get(absorbed, set())
    remembered = sorted(own or had)
    conn.execute(
        "UPDATE profile_members SET profile_id = ? WHERE profile_id = ?", (survivor, absorbed)
    )
    conn.execute(
        "UPDATE identity_links SET profile_id = ? WHERE profile_id = ?", (survivor, absorbed)
    )
    conn.execute(
        "UPDATE profile_aliases SET profile_id = ? WHERE profile_id = ?", (survivor, absorbed)
    )
    conn.execute(
        "INSERT OR REPLACE INTO profile_aliases (alias, profile_id, created_at) VALUES (?, ?, ?)",
        (absorbed, survivor, now),
    )
    remember(conn, absorbed, remembered, taken_over=True)
    conn.execute("DELETE FROM snapshots WHERE profile_id = ?", (absorbed,))
    conn.execute("DELETE FROM profiles WHERE id = ?", (absorbed,))
    follow_aliases(conn, [survivor])  # records together again may wake a sleeping alias


def bump_version(conn: sqlite3.Connection, profile_id: str, now: str) -> int:
    """Increment a profile's version and return the new one."""
    row = conn.execute(
        "UPDATE profiles SET version = version + 1, updated_at = ? WHERE id = ? RETURNING version",
        (now, profile_id),
    ).fetchone()
    return 0 if row is None else int(row[0])


def versions_of(conn: sqlite3.Connection, profile_ids: Iterable[str]) -> dict[str, int]:
    """The current version of each listed profile that exists."""
    ids = sorted(set(profile_ids))
    found: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(f"SELECT id, version FROM profiles WHERE id IN ({marks(chunk)})", chunk)
        found.update((str(pid), int(version)) for pid, version in rows)
    return found


def member_keys(conn: sqlite3.Connection, profile_id: str) -> list[RecordKey]:
    """The record keys of a profile's members."""
    rows = conn.execute(
        "SELECT r.source, r.kind, r.external_id FROM profile_members m "
        "JOIN records r ON r.id = m.record_id WHERE m.profile_id = ? ORDER BY r.id",
        (profile_id,),
    )
    return [RecordKey(str(source), str(kind), str(ext)) for source, kind, ext in rows]


def members_of(conn: sqlite3.Connection, profile_ids: Iterable[str]) -> dict[str, list[int]]:
    """Record ids of each listed profile's members, oldest first."""
    ids = sorted(set(profile_ids))
    found: dict[str, list[int]] = {pid: [] for pid in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(
            "SELECT profile_id, record_id FROM profile_members "
            f"WHERE profile_id IN ({marks(chunk)}) "
            "ORDER BY record_id",
            chunk,
        )
        for pid, record_id in rows:
            found[str(pid)].append(int(record_id))
    return found


def version_of(conn: sqlite3.Connection, profile_id: str) -> int | None:
    """A profile's current version, or ``None`` if it does not exist."""
    row = conn.execute("SELECT version FROM profiles WHERE id = ?", (profile_id,)).fetchone()
    return None if row is None else int(row[0])


def canonical_id(conn: sqlite3.Connection, profile_id: str) -> str | None:
    """Resolve an id or an alias to the live profile id (``None`` if unknown)."""
    row = conn.execute("SELECT 1 FROM profiles WHERE id = ?", (profile_id,)).fetchone()
    if row is not None:
        return profile_id
    alias = conn.execute(
        "SELECT profile_id FROM profile_aliases WHERE alias = ?", (profile_id,)
    ).fetchone()
    return None if alias is None else str(alias[0])


def delete_empty(conn: sqlite3.Connection, profile_ids: Iterable[str]) -> set[str]:
    """Delete every listed profile that has no members left; return the deleted ids."""
    wanted = sorted(set(profile_ids))
    occupied: set[str] = set()
    for start in range(0, len(wanted), 400):
        chunk = wanted[start : start + 400]
        occupied.update(
            str(row[0])
            for row in conn.execute(
                "SELECT DISTINCT profile_id FROM profile_members "
                f"WHERE profile_id IN ({marks(chunk)})",
                chunk,
            )
        )
    empty = [pid for pid in wanted if pid not in occupied]
    for profile_id in empty:
        delete_if_empty(conn, profile_id)
    return set(empty)


def delete_if_empty(conn: sqlite3.Connection, profile_id: str) -> bool:
    """Delete a profile that has no members left; return whether it was deleted."""
    if conn.execute(
        "SELECT 1 FROM profile_members WHERE profile_id = ? LIMIT 1", (profile_id,)
    ).fetchone():
        return False
    conn.execute("DELETE FROM snapshots WHERE profile_id = ?", (profile_id,))
    conn.execute("DELETE FROM identity_links WHERE profile_id = ?", (profile_id,))
    conn.execute("DELETE FROM profile_aliases WHERE profile_id = ?", (profile_id,))
    conn.execute("DELETE FROM profiles WHERE id = ?", (profile_id,))
    return True


def add_link(conn: sqlite3.Connection, link: LinkRow) -> None:
    """Record why a record joined a profile."""
    conn.execute(
        "INSERT INTO identity_links (profile_id, record_id, other_record_id, rule, score, "
        "evidence, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            link.profile_id,
            link.record_id,
            link.other_record_id,
            link.rule,
            link.score,
            link.evidence,
            link.decided_by,
            link.decided_at,
        ),
    )


def clear_links(conn: sqlite3.Connection, record_id: int) -> None:
    """Forget the automatic links of a record (before it is resolved again)."""
    conn.execute(
        "DELETE FROM identity_links WHERE record_id = ? AND decided_by = 'auto'", (record_id,)
    )


def links_of(conn: sqlite3.Connection, profile_id: str) -> list[LinkRow]:
    """Every link recorded for a profile, oldest first."""
    rows = conn.execute(
        "SELECT profile_id, record_id, other_record_id, rule, score, evidence, decided_by, "
        "decided_at FROM identity_links WHERE profile_id = ? ORDER BY id",
        (profile_id,),
    )
    return [LinkRow(*row) for row in rows]


def count_profiles(conn: sqlite3.Connection) -> int:
    """How many live profiles the store holds."""
    return int(conn.execute("SELECT count(*) FROM profiles").fetchone()[0])
