"""Map stored records again with this release's mappers, where a migration asks for it.

A mapper fix reaches only the records fetched after it: an identical copy fetched again counts
as unchanged and keeps the mapped form stored with it (``records._confirm``), and
``resolve --all`` resolves the stored mapped forms again, not the raw payloads. So a migration
that follows a fix whose old output must not stay (migration 0034: Zendesk staff mapped with a
customer's email merged into that customer's profile) queues the source and kind in
``remap_queue``. ``remap_queued`` then maps the raw payload of each live record of theirs
again, a chunk per transaction: where the mapped form differs it is stored, and what derives
from it follows as for an updated record (identity, the activity and account-owner indexes,
new profile versions and queued snapshots). The queue remembers the last record done, so an
interrupted pass resumes there, and a source's entry goes once all of it is done.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import msgspec

from context_service.errors import MappingError
from context_service.identity.engine import Engine, PersonChange
from context_service.models import Mapped, RecordKey
from context_service.store import Store, profiles, snapshots
from context_service.store.records import decode_mapped, encode_mapped
from context_service.sync.account_owners import (
    index_account_owner,
    is_reference,
    owner_ref,
    profiles_owned_by,
)
from context_service.sync.activity_index import index_activity, profiles_for_owners
from context_service.sync.ingest import IngestContext, Mapper, utc_now
from context_service.sync.unbuilt_index import build_unbuilt_index

CHUNK = 500  # records mapped again per transaction: other writers wait at most one chunk


def queued(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """The (source, kind) pairs whose stored records wait to be mapped again."""
    rows = conn.execute("SELECT source, kind FROM remap_queue ORDER BY source, kind")
    return [(str(source), str(kind)) for source, kind in rows]


def remap_after_upgrade(store: Store, ctx: IngestContext, say: Callable[[str], None]) -> None:
    """Map again what a migration queued, if anything, saying so first through ``say`` (a
    line for stderr or the log): on a large store it takes a while, once. What every command
    that opens the store for work, and the app at start-up, runs first."""
    waiting = queued(store.conn)
    if waiting:
        what = ", ".join(f"{source} {kind}" for source, kind in waiting)
        say(
            f"mapping the stored records of {what} again with this release's mappers "
            "(once, after an upgrade)"
        )
        remap_queued(store, ctx)


def remap_queued(store: Store, ctx: IngestContext, chunk: int = CHUNK) -> int:
    """Map the records of every queued source and kind again; return how many changed.

    A source without a mapper in ``ctx`` stays queued."""
    changed = 0
    for source, kind in queued(store.conn):
        if source in ctx.mappers:
            changed += _remap_kind(store, ctx, source, kind, chunk)
    return changed


def _remap_kind(store: Store, ctx: IngestContext, source: str, kind: str, chunk: int) -> int:
    """Map one source and kind again, a chunk of records per transaction."""
    changed = 0
    while True:
        with store.transaction() as conn:
            row = conn.execute(
                "SELECT after_id FROM remap_queue WHERE source = ? AND kind = ?", (source, kind)
            ).fetchone()
            if row is None:
                return changed  # another process finished it meanwhile
            rows = conn.execute(
                "SELECT id, payload, updated_at, mapped FROM records WHERE source = ? AND "
                "kind = ? AND id > ? AND deleted = 0 AND mapped IS NOT NULL ORDER BY id LIMIT ?",
                (source, kind, int(row[0]), chunk),
            ).fetchall()
            if not rows:
                conn.execute(
                    "DELETE FROM remap_queue WHERE source = ? AND kind = ?", (source, kind)
                )
                return changed
            changed += _remap_rows(conn, ctx, ctx.mappers[source], kind, rows)
            conn.execute(
                "UPDATE remap_queue SET after_id = ? WHERE source = ? AND kind = ?",
                (int(rows[-1][0]), source, kind),
            )


class _Changes:
    """What a chunk's new mapped forms change, to resolve and rebuild together."""

    def __init__(self) -> None:
        self.records = 0
        self.people: list[PersonChange] = []
        self.owners: list[RecordKey] = []
        self.account_owners: list[str] = []


def _remap_rows(
    conn: sqlite3.Connection, ctx: IngestContext, mapper: Mapper, kind: str, rows: list[Any]
) -> int:
    """Store the chunk's mapped forms that differ and update what derives from them."""
    now = utc_now()
    build_unbuilt_index(conn, ctx.region, now, ctx.thresholds)  # resolve against every record
    changes = _Changes()
    for record_id, payload, updated_at, blob in rows:
        previous = decode_mapped(bytes(blob))
        mapped = _mapped_again(mapper, kind, payload, updated_at)
        if previous is None or mapped is None or not _same_record(mapped, previous):
            continue
        encoded = encode_mapped(mapped)
        if encoded == bytes(blob):
            continue
        conn.execute("UPDATE records SET mapped = ? WHERE id = ?", (encoded, record_id))
        _derive(conn, int(record_id), mapped, previous, changes)
    dirty = Engine(conn, ctx.region, now, ctx.thresholds).resolve(changes.people)
    dirty |= profiles_for_owners(conn, changes.owners)
    dirty |= profiles_owned_by(conn, changes.account_owners)
    for profile_id in sorted(dirty):
        profiles.bump_version(conn, profile_id, now)
    snapshots.enqueue(conn, dirty, now)  # built by the next drain or read, as after a sync
    return changes.records


def _mapped_again(mapper: Mapper, kind: str, payload: str, updated_at: str | None) -> Mapped | None:
    """The stored payload mapped by this release, dated as when it was stored when the
    mapper finds no date in it (as ``ingest`` dates it); ``None`` when it no longer maps (the
    stored form stays: a rejected copy never replaces a good one).

    A mapper that fails on an old payload's shape (``ValueError``, ``KeyError`` ...) keeps
    that record's form too: this pass runs before every read command until it is done, so
    one payload it cannot map must not stop them all."""
    try:
        mapped = mapper(kind, msgspec.json.decode(payload))
    except (MappingError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if mapped.updated_at is None and updated_at is not None:
        mapped = msgspec.structs.replace(mapped, updated_at=updated_at)
    return mapped


def _same_record(mapped: Mapped, previous: Mapped) -> bool:
    """Whether the new form is of the same live record: a key, a deletion or a kind of facet
    that changed is for a sync to bring (the row would no longer match its columns)."""
    return (
        mapped.key == previous.key
        and not mapped.deleted
        and (mapped.person is None) == (previous.person is None)
    )


def _derive(
    conn: sqlite3.Connection, record_id: int, mapped: Mapped, previous: Mapped, into: _Changes
) -> None:
    """Update the indexes of one record whose mapped form changed, as ``ingest`` does for an
    updated record; its person change is resolved with the chunk's."""
    into.records += 1
    if mapped.person is not None:
        into.people.append(PersonChange(record_id, mapped.key, mapped.person))
        index_account_owner(conn, record_id, mapped, previous)
    else:
        into.owners.extend(index_activity(conn, record_id, mapped, is_new=False))
    if is_reference(mapped, previous):
        into.account_owners.append(owner_ref(mapped.key.source, mapped.key.external_id))
