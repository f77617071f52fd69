"""Source records: every vendor object kept losslessly, keyed by (source, kind, external_id).

The raw payload is stored as received, with its SHA-256, the vendor's ``updated_at``, our
``fetched_at`` and a deleted flag. An older ``updated_at`` never overwrites a newer one, so a late
or repeated webhook cannot roll data back. A payload that could not be mapped is still stored,
with ``mapped`` NULL and the reason in ``error``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Literal

import msgspec

from context_service.models import Mapped, RecordKey
from context_service.store.keys import chunks, grouped, marks

UpsertStatus = Literal["inserted", "updated", "unchanged", "stale"]

_encode = msgspec.json.Encoder().encode
_decode_mapped = msgspec.json.Decoder(Mapped).decode


class StoredRecord(msgspec.Struct):
    """One row of ``records`` with its mapped form decoded."""

    id: int
    key: RecordKey
    payload: str
    updated_at: str | None
    fetched_at: str
    deleted: bool
    mapped: Mapped | None
    error: str | None


class UpsertOutcome(msgspec.Struct):
    """What ``upsert_record`` did, and the mapped form the row had before."""

    record_id: int
    status: UpsertStatus
    previous: Mapped | None = None


def payload_hash(payload: str) -> str:
    """SHA-256 hex digest of the raw payload text."""
    return hashlib.sha256(payload.encode()).hexdigest()


def encode_mapped(mapped: Mapped) -> bytes:
    """Serialize a mapped record for storage."""
    return _encode(mapped)


def decode_mapped(blob: bytes | None) -> Mapped | None:
    """Deserialize a stored mapped record (``None`` stays ``None``)."""
    return None if blob is None else _decode_mapped(blob)


class StoredState(msgspec.Struct, frozen=True, array_like=True):
    """What an upsert compares against: a stored row's id, hash, ``updated_at``, deleted flag
    and mapped blob."""

    record_id: int
    payload_hash: str
    updated_at: str | None
    deleted: int
    mapped: bytes | None


def stored_states(
    conn: sqlite3.Connection, keys: Iterable[RecordKey]
) -> dict[RecordKey, StoredState]:
    """The stored state of each of these keys that exists, a query per source, kind and few
    hundred ids (``upsert_record`` then needs no query of its own)."""
    found: dict[RecordKey, StoredState] = {}
    for source, kind, ids in grouped(keys):
        rows = conn.execute(
            "SELECT external_id, id, payload_hash, updated_at, deleted, mapped FROM records "
            f"WHERE source = ? AND kind = ? AND external_id IN ({marks(ids)})",
            [source, kind, *ids],
        )
        for ext, *state in rows:
            found[RecordKey(source, kind, str(ext))] = StoredState(*state)
    return found


def upsert_record(
    conn: sqlite3.Connection,
    key: RecordKey,
    payload: str,
    mapped: Mapped | None,
    *,
    fetched_at: str,
    error: str | None = None,
    known: dict[RecordKey, StoredState] | None = None,
    observed_at: str | None = None,
) -> UpsertOutcome:
    """Insert or update one record, unless the stored copy is newer (then ``stale``; a stored
    deletion counts as newer than a live copy of the same time).

    ``known`` is a batch's prefetched ``stored_states``: a key absent from it is absent from
    the store, and the dictionary is kept up to date with what this call writes, so a key that
    repeats within the batch compares against its earlier copy. A payload that could not be
    mapped (``mapped`` is ``None``, ``error`` says why) is dated by ``observed_at``; when a
    good version of the record is stored it stays in effect, and the payload is kept in
    ``rejected_payload`` with the reason (``unchanged``), unless it is older (``stale``).
    """
    digest = payload_hash(payload)
    updated_at = mapped.updated_at if mapped else observed_at
    deleted = int(mapped.deleted) if mapped else 0
    blob = encode_mapped(mapped) if mapped else None
    state = (stored_states(conn, [key]) if known is None else known).get(key)
    if state is None:
        cursor = conn.execute(
            "INSERT INTO records (source, kind, external_id, payload, payload_hash, updated_at, "
            "fetched_at, deleted, mapped, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.source,
                key.kind,
                key.external_id,
                payload,
                digest,
                updated_at,
                fetched_at,
                deleted,
                blob,
                error,
            ),
        )
        record_id = int(cursor.lastrowid or 0)
        if known is not None:
            known[key] = StoredState(record_id, digest, updated_at, deleted, blob)
        return UpsertOutcome(record_id=record_id, status="inserted")
    record_id = state.record_id
    if _older(updated_at, bool(deleted), state):
        return UpsertOutcome(record_id=record_id, status="stale")
    if mapped is None and state.mapped is not None:
        conn.execute(
            "UPDATE records SET rejected_payload = ?, error = ?, fetched_at = ? WHERE id = ?",
            (payload, error or "unmapped", fetched_at, record_id),  # error: see records_errors
        )
        return UpsertOutcome(record_id=record_id, status="unchanged")
    maps_now = state.mapped is None and blob is not None  # a mapper fixed since it was rejected
    if state.payload_hash == digest and state.deleted == deleted and not maps_now:
        _confirm(conn, state, updated_at, blob, fetched_at, known, key)
        return UpsertOutcome(record_id=record_id, status="unchanged")
    conn.execute(
        "UPDATE records SET payload = ?, payload_hash = ?, updated_at = ?, fetched_at = ?, "
        "deleted = ?, mapped = ?, error = ?, rejected_payload = NULL WHERE id = ?",
        (payload, digest, updated_at, fetched_at, deleted, blob, error, record_id),
    )
    if known is not None:
        known[key] = StoredState(record_id, digest, updated_at, deleted, blob)
    return UpsertOutcome(
        record_id=record_id, status="updated", previous=decode_mapped(state.mapped)
    )


def _confirm(
    conn: sqlite3.Connection,
    state: StoredState,
    updated_at: str | None,
    blob: bytes | None,
    fetched_at: str,
    known: dict[RecordKey, StoredState] | None,
    key: RecordKey,
) -> None:
    """Record that an identical copy was fetched again. A later date moves the stored one
    forward: a copy dated by when we saw it (Stripe) proves the object was still so then, and
    a delayed copy from in between must stay out. The mapped form is left as it is: the copy
    counts as unchanged, so nothing derived from it (identifiers, snapshot) is made again, and
    a mapped form replaced here could disagree with them after a mapper changed."""
    if not (updated_at and state.updated_at and updated_at > state.updated_at):
        conn.execute(
            "UPDATE records SET fetched_at = ? WHERE id = ?", (fetched_at, state.record_id)
        )
        return
    conn.execute(
        "UPDATE records SET fetched_at = ?, updated_at = ? WHERE id = ?",
        (fetched_at, updated_at, state.record_id),
    )
    if known is not None:
        known[key] = msgspec.structs.replace(state, updated_at=updated_at)


def _older(updated_at: str | None, deleted: bool, state: StoredState) -> bool:
    """Whether a copy dated ``updated_at`` is older than the stored one. A deletion wins a tie:
    vendors that date objects to the second (Stripe) send an update and a deletion of the same
    second in any order, and a deleted object is never updated after its deletion."""
    if not (updated_at and state.updated_at):
        return False
    tie_lost = updated_at == state.updated_at and bool(state.deleted) and not deleted
    return updated_at < state.updated_at or tie_lost


def strip_record(
    conn: sqlite3.Connection, record_id: int, key: RecordKey, deleted_at: str | None = None
) -> None:
    """Replace a record's data with a bare deletion notice (``{"id": ...}``) dated
    ``deleted_at``, keeping the row and what hangs off it. A copy of the record older than the
    deletion is then stale (``upsert_record``), as for any other tombstone; undated, the notice
    stops no later copy: any copy the vendor sends replaces it, as if the row were gone."""
    payload = _encode({"id": key.external_id}).decode()
    mapped = Mapped(key=key, updated_at=deleted_at, deleted=True)
    conn.execute(
        "UPDATE records SET payload = ?, payload_hash = ?, updated_at = ?, deleted = 1, "
        "mapped = ?, error = NULL, rejected_payload = NULL WHERE id = ?",
        (payload, payload_hash(payload), deleted_at, encode_mapped(mapped), record_id),
    )


def store_tombstone(conn: sqlite3.Connection, key: RecordKey, deleted_at: str, now: str) -> None:
    """Store a bare deletion notice dated ``deleted_at`` for a record the store does not hold
    (``strip_record``'s row for one never fetched): a copy of it older than the deletion, still
    on its way (a sync page, a delayed delivery), is then stale instead of stored live."""
    payload = _encode({"id": key.external_id}).decode()
    mapped = Mapped(key=key, updated_at=deleted_at, deleted=True)
    upsert_record(conn, key, payload, mapped, fetched_at=now)


_COLUMNS = "id, source, kind, external_id, payload, updated_at, fetched_at, deleted, mapped, error"


def _row_to_record(row: tuple[object, ...]) -> StoredRecord:
    rid, source, kind, ext, payload, updated, fetched, deleted, blob, error = row
    return StoredRecord(
        id=int(rid),  # type: ignore[call-overload]
        key=RecordKey(str(source), str(kind), str(ext)),
        payload=str(payload),
        updated_at=updated if isinstance(updated, str) else None,
        fetched_at=str(fetched),
        deleted=bool(deleted),
        mapped=decode_mapped(blob if isinstance(blob, bytes) else None),
        error=error if isinstance(error, str) else None,
    )


def get_record(conn: sqlite3.Connection, key: RecordKey) -> StoredRecord | None:
    """The stored record for a key, or ``None``."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM records WHERE source = ? AND kind = ? AND external_id = ?",
        (key.source, key.kind, key.external_id),
    ).fetchone()
    return None if row is None else _row_to_record(row)


def get_records(
    conn: sqlite3.Connection, record_ids: Iterable[int], with_payload: bool = True
) -> list[StoredRecord]:
    """The stored records with these ids, in id order.

    ``with_payload=False`` leaves the raw payload out (``""``): snapshot assembly reads only
    the mapped form, and raw payloads are the bulk of a row.
    """
    ids = sorted(set(record_ids))
    columns = _COLUMNS if with_payload else _COLUMNS.replace("payload", "''", 1)
    out: list[StoredRecord] = []
    for chunk in chunks(ids, 500):
        rows = conn.execute(
            f"SELECT {columns} FROM records WHERE id IN ({marks(chunk)}) ORDER BY id", chunk
        ).fetchall()
        out.extend(_row_to_record(row) for row in rows)
    return out


def record_ids_for_keys(
    conn: sqlite3.Connection, keys: Iterable[RecordKey]
) -> dict[RecordKey, int]:
    """Map each key that exists in the store to its record id."""
    found: dict[RecordKey, int] = {}
    for key in keys:
        row = conn.execute(
            "SELECT id FROM records WHERE source = ? AND kind = ? AND external_id = ?",
            (key.source, key.kind, key.external_id),
        ).fetchone()
        if row is not None:
            found[key] = int(row[0])
    return found


def rejected_payload(conn: sqlite3.Connection, key: RecordKey) -> str | None:
    """The raw payload last rejected for a record whose good version stays in effect."""
    row = conn.execute(
        "SELECT rejected_payload FROM records WHERE source = ? AND kind = ? AND external_id = ?",
        (key.source, key.kind, key.external_id),
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def rejected(conn: sqlite3.Connection, source: str | None = None) -> Iterator[StoredRecord]:
    """Records kept raw because their mapping failed, and records whose latest payload could
    not be mapped while their good version stays in effect (``rejected_payload``)."""
    where = "error IS NOT NULL" + (" AND source = ?" if source else "")
    params: tuple[str, ...] = (source,) if source else ()
    for row in conn.execute(f"SELECT {_COLUMNS} FROM records WHERE {where}", params):
        yield _row_to_record(row)


def clear_rejected(conn: sqlite3.Connection, source: str | None = None) -> tuple[int, int]:
    """Forget what was rejected (once the source's data has been fixed and loaded again):
    delete the records that were only ever kept raw (never mapped, so nothing indexes or
    resolves them), and drop the last rejected payload of records whose good version stays in
    effect. Return (records deleted, rejected payloads dropped)."""
    where = "error IS NOT NULL" + (" AND source = ?" if source else "")
    params: tuple[str, ...] = (source,) if source else ()
    deleted = conn.execute(f"DELETE FROM records WHERE {where} AND mapped IS NULL", params)
    dropped = conn.execute(
        f"UPDATE records SET error = NULL, rejected_payload = NULL WHERE {where}", params
    )
    return deleted.rowcount, dropped.rowcount


def unindexed_people(conn: sqlite3.Connection) -> int:
    """How many live person records the identity index lacks (``identity_features``): each
    is a customer that no new record can match (a store written before the identity engine,
    migration 0033). Reads every record without features once, so for ``doctor``, not for a
    request."""
    row = conn.execute(
        "SELECT count(*) FROM records r WHERE r.deleted = 0 AND r.mapped IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM identity_features f WHERE f.record_id = r.id) "
        "AND json_valid(CAST(r.mapped AS TEXT)) "
        "AND json_type(CAST(r.mapped AS TEXT), '$.person') = 'object'"
    ).fetchone()
    return int(row[0])
