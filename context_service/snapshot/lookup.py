"""The read path: an identifier in, one materialized snapshot out (or a clear error).

Two indexed queries: identifier -> profile ids, then profile id -> snapshot row.
"""

from __future__ import annotations

import sqlite3

import msgspec

from context_service.errors import (
    AmbiguousIdentifier,
    InvalidIdentifier,
    ProfileNotFound,
)
from context_service.identity.normalize import normalize_email, normalize_phone
from context_service.store import activities, identifiers, profiles
from context_service.store.snapshots import StoredSnapshot, read_snapshot


class Candidate(msgspec.Struct):
    """One of several profiles an identifier points at, so a caller can ask for more."""

    profile_id: str
    name: str | None
    why: str


class _NameOnly(msgspec.Struct):
    name: str | None = None


class _IdentityOnly(msgspec.Struct):
    identity: _NameOnly


_decode_identity = msgspec.json.Decoder(_IdentityOnly).decode


def by_email(conn: sqlite3.Connection, raw: str) -> StoredSnapshot:
    """The snapshot of the one profile that uses this email."""
    email = normalize_email(raw)
    if email is None:
        raise InvalidIdentifier(f"'{raw}' is not a valid email address")
    return _one(conn, identifiers.profiles_with(conn, "email", email), f"email {email}")


def by_phone(conn: sqlite3.Connection, raw: str, region: str) -> StoredSnapshot:
    """The snapshot of the one profile that uses this phone number (any common format)."""
    phone = normalize_phone(raw, region)
    if phone is None:
        raise InvalidIdentifier(f"'{raw}' is not a valid phone number")
    return _one(conn, identifiers.profiles_with(conn, "phone", phone), f"phone {phone}")


def by_profile_id(conn: sqlite3.Connection, profile_id: str) -> StoredSnapshot:
    """The snapshot of a profile by its id or by an alias left by a merge."""
    if not profile_id.startswith("prof_") or len(profile_id) != 31:
        raise InvalidIdentifier(f"'{profile_id}' is not a profile id (prof_ + 26 characters)")
    live = profiles.canonical_id(conn, profile_id)
    if live is None:
        raise ProfileNotFound(f"no profile {profile_id}")
    return _read(conn, live)


def by_source_id(conn: sqlite3.Connection, source: str, external_id: str) -> StoredSnapshot:
    """The snapshot of the profile that holds a vendor record (customer, order, ticket...)."""
    rows = conn.execute(
        "SELECT id, source, kind, external_id FROM records "
        "WHERE source = ? AND external_id = ? AND deleted = 0",
        (source, external_id),
    ).fetchall()
    found: set[str] = set()
    for record_id, *_key in rows:
        owner = profiles.profile_of(conn, record_id)
        if owner:
            found.add(owner)
        for owner_key in activities.owners_of(conn, record_id):
            found.update(_set(profiles.profile_of_key(conn, owner_key)))
    return _one(conn, sorted(found), f"{source} id {external_id}")


def _set(profile_id: str | None) -> set[str]:
    return {profile_id} if profile_id else set()


def _one(conn: sqlite3.Connection, profile_ids: list[str], what: str) -> StoredSnapshot:
    if not profile_ids:
        raise ProfileNotFound(f"no customer with {what}")
    if len(profile_ids) > 1:
        candidates = [_candidate(conn, pid, what) for pid in profile_ids]
        raise AmbiguousIdentifier(
            f"{what} is used by {len(profile_ids)} different customers; ask for another detail",
            candidates=[msgspec.to_builtins(c) for c in candidates],
        )
    return _read(conn, profile_ids[0])


def _candidate(conn: sqlite3.Connection, profile_id: str, what: str) -> Candidate:
    stored = read_snapshot(conn, profile_id)
    name = _decode_identity(stored.json).identity.name if stored else None
    return Candidate(profile_id=profile_id, name=name, why=f"shares {what}")


def _read(conn: sqlite3.Connection, profile_id: str) -> StoredSnapshot:
    stored = read_snapshot(conn, profile_id)
    if stored is None:
        raise ProfileNotFound(f"profile {profile_id} has no snapshot yet")
    return stored
