"""What indexing a batch of person records writes: identifier and blocking-key rows, encoded
features, and each record's blocking keys.

Working these out is pure: it needs the records and the region, never the store. The engine
does it in-process for every batch it resolves (``Engine._index``); ``resolve --all`` has a
worker process do it for the next chunk of records while the engine writes and links the
current one (``sync.index_worker``), so the two cores share the rebuild.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

import msgspec

from context_service.identity.features import Features, blocking_and_name_keys, features_of
from context_service.identity.match import person_identifiers
from context_service.identity.sql import chunks, placeholders
from context_service.models import PersonFacet, RecordKey
from context_service.store.records import decode_mapped

encode_features = msgspec.msgpack.Encoder().encode
decode_features = msgspec.msgpack.Decoder(Features).decode


class IndexRows(msgspec.Struct):
    """The index rows of a batch of records, ready to write.

    ``identifiers`` are ``(kind, value, record_id, strong)`` rows, sorted so that neighbouring
    keys land on the same index pages; ``features`` are ``(record_id, encoded features)``;
    ``keys`` are each record's blocking keys, for finding its candidates."""

    identifiers: list[tuple[str, str, int, int]]
    features: list[tuple[int, bytes]]
    keys: dict[int, set[str]]


def index_rows(
    people: Iterable[tuple[int, RecordKey, PersonFacet, Features]], region: str
) -> IndexRows:
    """The index rows of these records, each given with its key, facet and features."""
    rows: list[tuple[str, str, int, int]] = []
    feature_rows: list[tuple[int, bytes]] = []
    keys: dict[int, set[str]] = {}
    for record_id, key, facet, features in people:
        for ident in person_identifiers(key, facet, region):
            rows.append((ident.kind, ident.value, record_id, int(ident.strong)))
        blocks, names = blocking_and_name_keys(features)
        keys[record_id] = blocks
        rows.extend(("block", block, record_id, 0) for block in blocks)
        # For lookups by name, never for blocking: each form of the name (an ambiguous
        # nickname stands for several formal names), so "Sam" finds Samuel and back.
        rows.extend(("pname", pair, record_id, 0) for pair in names)
        feature_rows.append((record_id, encode_features(features)))
    rows.sort()
    return IndexRows(rows, feature_rows, keys)


def stored_people(
    conn: sqlite3.Connection, record_ids: list[int] | None = None
) -> Iterable[tuple[int, RecordKey, PersonFacet]]:
    """Every live person-like record in the store (or of ``record_ids``, in id order within
    each chunk of them): id, key and person facet."""
    rows: Iterable[tuple[int, bytes]]
    if record_ids is None:
        rows = conn.execute(
            "SELECT id, mapped FROM records WHERE mapped IS NOT NULL AND deleted = 0 ORDER BY id"
        )
    else:
        rows = []
        for part in chunks(record_ids):
            rows += conn.execute(
                "SELECT id, mapped FROM records WHERE mapped IS NOT NULL AND deleted = 0 "
                f"AND id IN ({placeholders(part)}) ORDER BY id",
                part,
            ).fetchall()
    for rid, blob in rows:
        mapped = decode_mapped(blob)
        if mapped is not None and mapped.person is not None:
            yield int(rid), mapped.key, mapped.person


def index_rows_of_stored(conn: sqlite3.Connection, record_ids: list[int], region: str) -> IndexRows:
    """The index rows of these stored records (the live person-like ones among them)."""
    return index_rows(
        (
            (rid, key, facet, features_of(key, facet, region))
            for rid, key, facet in stored_people(conn, record_ids)
        ),
        region,
    )


def decoded_features(rows: IndexRows) -> Mapping[int, Features]:
    """The features ``rows`` carry, decoded, by record id."""
    return {record_id: decode_features(blob) for record_id, blob in rows.features}
