"""The read path: an identifier in, one materialized snapshot out (or a clear error).

Two indexed lookups: identifier -> profile ids, then profile id -> snapshot row. For an email or
a phone both run as one statement (one read transaction, a few microseconds less on the hot
path); several profiles, or one without a snapshot yet, take the long way for their 409 or 404.

An email no record carries as written is looked up once more by the mailbox it reaches
(``normalize.mailbox_key``: ``+tag`` dropped, and dots where the provider documents them as
the same mailbox, Gmail), under the blocking key that resolution links records by, so that a
lookup finds whoever the engine holds that mailbox for (409 when several profiles do). A
generic or placeholder address (``info@``, ``test@test.com``) links nothing and is looked up
only as written.

A profile in ``snapshot_queue`` is never served from its stored row: a migration queued it
because that row may hold other people's contacts (0024), ``resolve --all`` because its members
changed, a run because it deferred it. Each read statement says whether the profile is queued
(an index probe in the same statement: no query added), and a queued one is built first, alone,
by the rebuilder registered for the read connection (``build_queued_on_read``: ``serve`` and
the read commands register one), whichever process queued it. A row whose time-dependent
signals have changed since it was built (its ``refresh_at`` has passed: an invoice fell
overdue, ``snapshot.moments``) is treated the same: the same statements return that moment,
and the rebuilder builds it again with a new version.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import msgspec

from context_service.errors import (
    AmbiguousIdentifier,
    InvalidIdentifier,
    ProfileNotFound,
    StoreBusy,
)
from context_service.identity.normalize import (
    is_merge_email,
    is_placeholder_email,
    is_placeholder_phone,
    mailbox_key,
    normalize_email,
    normalize_phone,
)
from context_service.models import BUILTIN_SOURCES
from context_service.store import activities, profiles
from context_service.store.db import is_busy
from context_service.store.records import decode_mapped
from context_service.store.snapshots import SNAPSHOT_FORMAT, StoredSnapshot


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
# ``identifiers.profiles_with`` and ``read_snapshot`` in one statement (unordered: one row is the
# rule; several are sorted before ``_one`` names them), with whether the profile is queued and
# when its time-dependent signals change.
# A row an older release wrote (``snapshots.SNAPSHOT_FORMAT``: an old server still running on
# the file rebuilt it after an upgrade queued it) counts as queued: the next write transaction
# queues it for good (``Store._catch_up``), and the read builds it first, with a new version.
_OLDER = f"(s.format >= 0 AND s.format < {SNAPSHOT_FORMAT})"
_SNAPSHOTS_WITH = (
    "SELECT p.profile_id, s.version, s.generated_at, s.json, s.text, "
    f"COALESCE(q.profile_id, CASE WHEN {_OLDER} THEN s.profile_id END), "
    "s.refresh_at FROM ("
    "SELECT DISTINCT m.profile_id FROM identifiers i "
    "JOIN profile_members m ON m.record_id = i.record_id "
    "WHERE i.kind = ? AND i.value = ?) p "
    "LEFT JOIN snapshots s ON s.profile_id = p.profile_id "
    "LEFT JOIN snapshot_queue q ON q.profile_id = p.profile_id"
)
# One profile's snapshot row (if any) and whether it is queued: always one row.
_SNAPSHOT_OF = (
    "SELECT EXISTS (SELECT 1 FROM snapshot_queue WHERE profile_id = ?1) "
    f"OR COALESCE({_OLDER}, 0), "
    "s.profile_id, s.version, s.generated_at, s.json, s.text, s.refresh_at "
    "FROM (SELECT 1) LEFT JOIN snapshots s ON s.profile_id = ?1"
)
Rebuild = Callable[[Any, str, str, float | None], StoredSnapshot | None]
# How long a read waits for the write lock to refresh a row that is only out of date (its
# ``refresh_at`` passed, not queued): past it, the stored row is served as it is.
DUE_WAIT_S = 0.2
# How long a read on an event loop (the async context routes, the widget) waits for the write
# lock to build a queued profile first: every other request of that server worker waits with
# it, so past this the read is a 503 to retry (``SnapshotBusy``), not a worker frozen for as long
# as an import or a ``resolve --all`` holds the lock. A read on a worker thread waits as writers
# do.
ON_LOOP_WAIT_S = 0.5
RETRY_QUEUED_AFTER_S = 1  # the 503's ``Retry-After``: a queued row is built in milliseconds
# The time reads compare a row's ``refresh_at`` with (POSIX seconds; tests set their own).
clock: Callable[[], float] = time.time
# Read connection (by id) -> (its owner, what builds one queued profile given the owner). The
# owner (a ``Store``) is held weakly: its entry goes with it.
_rebuilders: dict[int, tuple[weakref.ref[Any], Rebuild]] = {}


def build_queued_on_read(conn: sqlite3.Connection, owner: Any, rebuild: Rebuild) -> None:
    """Have reads through ``conn`` build a queued profile's snapshot before serving it, and one
    whose ``refresh_at`` has passed: ``rebuild(owner, profile_id, now, wait_s)`` builds it as
    of ``now`` (the read's time, ISO-8601 UTC), with a new version when its moment has passed,
    takes it off the queue and returns the row as stored (``owner`` is held weakly, and is
    typically the ``Store`` whose read connection ``conn`` is). A due row that is not queued
    is only out of date: its rebuild waits ``DUE_WAIT_S`` for the write lock at most (a long
    import holds it), then the stored row is served. Without a rebuilder, a queued or due
    profile's stored row is served as it is."""
    key = id(conn)

    def forget(gone: weakref.ref[Any]) -> None:
        entry = _rebuilders.get(key)
        if entry is not None and entry[0] is gone:
            del _rebuilders[key]

    _rebuilders[key] = (weakref.ref(owner, forget), rebuild)


def by_email(conn: sqlite3.Connection, raw: str) -> StoredSnapshot:
    """The snapshot of the one profile that uses this email, or else this mailbox."""
    email = normalize_email(raw)
    if email is None:
        raise InvalidIdentifier(f"'{raw}' is not a valid email address")
    if is_placeholder_email(email):
        raise InvalidIdentifier(_PLACEHOLDER.format(value=email, what="address"))
    rows = _rows_with(conn, "email", email)
    if rows or not is_merge_email(email):
        return _only(conn, rows, f"email {email}")
    mailbox = mailbox_key(email)
    # The key ``features.blocking_keys`` indexes each merge-eligible mailbox under.
    rows = _rows_with(conn, "block", f"e:{mailbox}")
    what = f"email {email}" if mailbox == email else f"email {email} (mailbox {mailbox})"
    return _only(conn, rows, what)


def sole_holders(
    conn: sqlite3.Connection, email: str | None, phone: str | None, region: str
) -> dict[str, StoredSnapshot]:
    """For the email and the phone given (``"email"``, ``"phone"``), the snapshot of the one
    profile each names on its own, as ``by_email`` and ``by_phone`` find it; one held by
    several profiles, unknown or invalid names no one and is left out."""
    held: dict[str, StoredSnapshot] = {}
    for field, value in _contacts(email, phone):
        try:
            held[field] = _by_contact(conn, field, value, region)
        except (AmbiguousIdentifier, ProfileNotFound, InvalidIdentifier):
            continue
    return held


def shared_holders(
    conn: sqlite3.Connection, email: str | None, phone: str | None, region: str
) -> dict[str, set[str]]:
    """For the email and the phone given, the profiles that hold each one several profiles
    hold (a household's line, a shared mailbox), as ``by_email`` and ``by_phone`` find them
    (their 409); one held by a single profile, unknown or invalid is left out."""
    shared: dict[str, set[str]] = {}
    for field, value in _contacts(email, phone):
        try:
            _by_contact(conn, field, value, region)
        except AmbiguousIdentifier as exc:
            shared[field] = {str(c["profile_id"]) for c in exc.extra.get("candidates", [])}
        except (ProfileNotFound, InvalidIdentifier):
            continue
    return shared


def _contacts(email: str | None, phone: str | None) -> list[tuple[str, str]]:
    return [(field, value) for field, value in (("email", email), ("phone", phone)) if value]


def _by_contact(conn: sqlite3.Connection, field: str, value: str, region: str) -> StoredSnapshot:
    return by_email(conn, value) if field == "email" else by_phone(conn, value, region)


def by_phone(conn: sqlite3.Connection, raw: str, region: str) -> StoredSnapshot:
    """The snapshot of the one profile that uses this phone number (any common format)."""
    phone = normalize_phone(raw, region)
    if phone is None:
        raise InvalidIdentifier(f"'{raw}' is not a valid phone number")
    if is_placeholder_phone(phone):
        raise InvalidIdentifier(_PLACEHOLDER.format(value=raw, what="number"))
    return _with(conn, "phone", phone)


# A placeholder names no one: whoever's record holds it, a caller who types it is not them.
_PLACEHOLDER = "'{value}' is a placeholder, not one person's {what}: ask for the one they use"


def by_profile_id(conn: sqlite3.Connection, profile_id: str) -> StoredSnapshot:
    """The snapshot of a profile by its id or by an alias left by a merge."""
    if not profile_id.startswith("prof_") or len(profile_id) != 31:
        raise InvalidIdentifier(f"'{profile_id}' is not a profile id (prof_ + 26 characters)")
    live = profiles.canonical_id(conn, profile_id)
    if live is None:
        raise ProfileNotFound(f"no profile {profile_id}")
    return _read(conn, live)


_MERGE_HOPS = 8  # vendor merges followed from one id, at most (a cycle is not followed forever)


def by_source_id(conn: sqlite3.Connection, source: str, external_id: str) -> StoredSnapshot:
    """The snapshot of the profile that holds a vendor record (customer, order, ticket...). A
    record a vendor merge folded into another (Shopify ``customers/merge``, HubSpot
    ``contact.merge``) is found through the one it was merged into."""
    rows = live_records(conn, source, external_id)
    if not rows:
        check_source(conn, source)  # a misspelt source is no proof that nobody matches
    return _holder_of(conn, rows, f"{source} id {external_id}")


def check_source(conn: sqlite3.Connection, source: str) -> None:
    """``InvalidIdentifier`` (400) for a ``source`` that names no source: neither a built-in
    vendor nor one a stored record comes from (a spreadsheet source), so that ``Shopify`` is
    not answered "no customer with Shopify id ..." (and a bot does not say "no account")."""
    if _is_source(conn, source):
        return
    plain = source.strip().lower()
    hint = f" (did you mean {plain!r}?)" if plain != source and _is_source(conn, plain) else ""
    builtin = ", ".join(sorted(BUILTIN_SOURCES))
    raise InvalidIdentifier(
        f"unknown source {source[:64]!r}{hint}; a source is one of {builtin}"
        " or the name of a spreadsheet source, in lower case"
    )


def _is_source(conn: sqlite3.Connection, source: str) -> bool:
    if source in BUILTIN_SOURCES:
        return True
    row = conn.execute("SELECT 1 FROM records WHERE source = ? LIMIT 1", (source,)).fetchone()
    return row is not None


PERSON_KINDS = frozenset({"customer", "contact", "user", "row"})  # records of one person


def names_an_activity(conn: sqlite3.Connection, source: str, external_id: str) -> bool:
    """Whether ``source`` id ``external_id`` is an order, ticket, invoice, subscription,
    charge, deal or company (a live record of one, even beside a person's with the same id): a
    number a customer reads off a parcel or an email, not who they are."""
    kinds = {kind for _, kind in live_records(conn, source, external_id)}
    return bool(kinds - PERSON_KINDS)


def live_records(conn: sqlite3.Connection, source: str, external_id: str) -> list[Any]:
    """The live records (id, kind) with this vendor id, or, when a vendor merge folded it into
    another, those of the one it was merged into (a few hops at most); none if neither."""
    wanted = external_id
    for _ in range(_MERGE_HOPS):
        rows = conn.execute(
            # ``+source``: found through the id's own index, not a scan of the source's records
            "SELECT id, kind FROM records WHERE +source = ? AND external_id = ? AND deleted = 0",
            (source, wanted),
        ).fetchall()
        survivor = None if rows else _merged_into(conn, source, wanted)
        if survivor is None:
            return rows
        wanted = survivor
    return []


def _merged_into(conn: sqlite3.Connection, source: str, external_id: str) -> str | None:
    """The vendor id a merged-away record of ``source`` was merged into, if it was."""
    for (blob,) in conn.execute(
        "SELECT mapped FROM records WHERE +source = ? AND external_id = ? AND deleted = 1",
        (source, external_id),
    ):
        mapped = decode_mapped(blob)
        if mapped is not None and mapped.merged_into:
            return mapped.merged_into
    return None


def _holder_of(conn: sqlite3.Connection, rows: list[Any], what: str) -> StoredSnapshot:
    """The snapshot of the one profile holding the records ``rows`` (or owning them)."""
    found: set[str] = set()
    for record_id, _kind in rows:
        owner = profiles.profile_of(conn, record_id)
        if owner:
            found.add(owner)
        for owner_key in activities.owners_of(conn, record_id):
            found.update(_set(profiles.profile_of_key(conn, owner_key)))
    return _one(conn, sorted(found), what)


def _with(conn: sqlite3.Connection, kind: str, value: str) -> StoredSnapshot:
    """The snapshot of the one profile whose records carry this identifier."""
    return _only(conn, _rows_with(conn, kind, value), f"{kind} {value}")


def _rows_with(conn: sqlite3.Connection, kind: str, value: str) -> list[Any]:
    """Each profile whose records carry this identifier, with its snapshot's columns."""
    return conn.execute(_SNAPSHOTS_WITH, (kind, value)).fetchall()


def _only(conn: sqlite3.Connection, rows: list[Any], what: str) -> StoredSnapshot:
    """The snapshot of the one profile among ``rows`` (``_rows_with``); 404 or 409 else."""
    if len(rows) == 1 and rows[0][1] is not None and rows[0][5] is None:
        profile_id, version, generated_at, json, text, _, refresh_at = rows[0]
        if refresh_at is None or refresh_at > now_iso():  # else built again, with a new version
            return StoredSnapshot(profile_id, version, generated_at, json, text, refresh_at)
    return _one(conn, sorted(row[0] for row in rows), what)


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
    stored = current_snapshot(conn, profile_id)
    name = _decode_identity(stored.json).identity.name if stored else None
    return Candidate(profile_id=profile_id, name=name, why=f"shares {what}")


def _read(conn: sqlite3.Connection, profile_id: str) -> StoredSnapshot:
    stored = current_snapshot(conn, profile_id)
    if stored is None:
        raise ProfileNotFound(f"profile {profile_id} has no snapshot yet")
    return stored


def current_snapshot(conn: sqlite3.Connection, profile_id: str) -> StoredSnapshot | None:
    """A profile's snapshot, built first when the profile is queued or its time-dependent
    signals changed (``refresh_at`` passed) and a rebuilder is registered for ``conn``
    (``build_queued_on_read``); ``None`` when it has none."""
    queued, *row = conn.execute(_SNAPSHOT_OF, (profile_id,)).fetchone()
    refresh_at = row[-1]
    now = now_iso() if queued or refresh_at is not None else ""
    stale = queued or (refresh_at is not None and refresh_at <= now)
    entry = _rebuilders.get(id(conn)) if stale else None
    owner = None if entry is None else entry[0]()
    if entry is not None and owner is not None and queued:
        return _rebuilt(entry[1], owner, profile_id, now)
    stored = None if row[0] is None else StoredSnapshot(*row)
    if entry is not None and owner is not None:  # only out of date: never kept waiting for it
        try:
            return entry[1](owner, profile_id, now, DUE_WAIT_S)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
    return stored


def _on_event_loop() -> bool:
    """Whether this thread runs an asyncio event loop (an async route handler's thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def now_iso() -> str:
    """The read's time (``clock``) as ISO-8601 UTC to the second, as ``refresh_at`` is."""
    return _format_second(int(clock()))


@lru_cache(maxsize=1)  # formatted once per second: every read of a due row asks for it
def _format_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


class SnapshotBusy(StoreBusy):
    """A queued snapshot could not be built now: another process holds the write lock."""


def _rebuilt(rebuild: Rebuild, owner: Any, profile_id: str, now: str) -> StoredSnapshot | None:
    """``rebuild(owner, profile_id, now)``, waiting as long as writers do (on an event loop
    ``ON_LOOP_WAIT_S`` only); ``SnapshotBusy`` (503) when the store stays locked by another
    writer past that (a sync or an import): the read may be tried again, and the queued row is
    still not served."""
    try:
        return rebuild(owner, profile_id, now, ON_LOOP_WAIT_S if _on_event_loop() else None)
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise
        raise SnapshotBusy(
            "this customer's snapshot is being rebuilt and the store is busy with another "
            "writer; try again shortly",
            retry_after_s=RETRY_QUEUED_AFTER_S,
        ) from exc
