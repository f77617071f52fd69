"""Access requests: everything held about one person, as one JSON document.

``GET /v1/profiles/{id}/export`` answers it: the profile and its aliases, the materialized
snapshot, every member record (and those their source deleted while they belonged to it) and
every activity record they own (and the disputes of their charges), with its raw payload (and
the latest one that could not be read, kept beside it), the identifiers and identity links,
cached LLM summaries and the reads of the profile (also those recorded under the ids merged
into it).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from context_service.errors import ProfileNotFound
from context_service.models import RecordKey
from context_service.snapshot.lookup import current_snapshot
from context_service.store import profiles
from context_service.trust.audit import reads_of
from context_service.trust.erasure import owned_records

_decode = msgspec.json.decode
_MAX_READS = 10_000


def _rows(conn: sqlite3.Connection, sql: str, args: list[Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def subject_export(conn: sqlite3.Connection, profile_id: str) -> dict[str, Any]:
    """Everything stored about the person ``profile_id`` (an id or an alias) names: the same
    records an erasure would remove (``trust.erasure``), and what was recorded under the ids
    that were merged into this one."""
    live = profiles.canonical_id(conn, profile_id)
    if live is None:
        raise ProfileNotFound(f"no profile {profile_id}")
    aliases = [
        r["alias"]
        for r in _rows(conn, "SELECT alias FROM profile_aliases WHERE profile_id = ?", [live])
    ]
    ids = [live, *aliases]
    members = profiles.members(conn, live)
    # Records their source deleted while they belonged here (bare tombstones) are hers too.
    held = members + profiles.departed_from(conn, ids)
    held_keys = _rows(
        conn, f"SELECT source, kind, external_id FROM records WHERE id IN ({_marks(held)})", held
    )
    owned = owned_records(conn, [RecordKey(**k) for k in held_keys])
    record_ids = sorted(set(held) | set(owned))
    return {
        "profile_id": live,
        "aliases": aliases,
        # Old ids that remember some of these records but name no one now (``store.aliases``).
        "sleeping_aliases": [
            r["alias"]
            for r in _rows(
                conn,
                "SELECT DISTINCT alias FROM dormant_alias_members "
                f"WHERE record_id IN ({_marks(members)}) ORDER BY alias",
                members,
            )
        ],
        "snapshot": _snapshot(conn, live),
        "records": [
            _record(r)
            for r in _rows(
                conn,
                "SELECT id, source, kind, external_id, payload, updated_at, fetched_at, deleted, "
                "error, rejected_payload "
                f"FROM records WHERE id IN ({_marks(record_ids)}) ORDER BY id",
                record_ids,
            )
        ],
        "identifiers": _rows(
            conn,
            "SELECT kind, value, record_id FROM identifiers "
            f"WHERE record_id IN ({_marks(members)})",
            members,
        ),
        "identity_links": _rows(
            conn,
            "SELECT record_id, other_record_id, rule, score, evidence, decided_by, decided_at "
            "FROM identity_links WHERE profile_id = ?",
            [live],
        ),
        "llm_summaries": _rows(
            conn,
            "SELECT version, audience, model, text, created_at FROM llm_summaries "
            f"WHERE profile_id IN ({_marks(ids)})",
            ids,
        ),
        "reads": _reads(conn, live),
    }


def _reads(conn: sqlite3.Connection, profile_id: str) -> list[Any]:
    """The reads recorded under the live id and the ids merged into it, newest first, each
    once (``reads_of`` answers for the customer and all its ids at once)."""
    return [msgspec.to_builtins(read) for read in reads_of(conn, profile_id, limit=_MAX_READS)]


def _snapshot(conn: sqlite3.Connection, profile_id: str) -> Any:
    stored = current_snapshot(conn, profile_id)  # built first when queued for a rebuild
    return None if stored is None else _decode(stored.json)


def _record(row: dict[str, Any]) -> dict[str, Any]:
    """A record as exported: its payload decoded, and the latest payload that could not be
    read, kept beside it (``rejected_payload``, with its ``error``), also the person's."""
    out = dict(row)
    out["payload"] = _decode(row["payload"])
    out["deleted"] = bool(row["deleted"])
    out["rejected_payload"] = _json_or_text(row["rejected_payload"])
    return out


def _json_or_text(raw: str | None) -> Any:
    """A stored payload as its JSON value, or as the text it is when it is no JSON."""
    if raw is None:
        return None
    try:
        return _decode(raw)
    except msgspec.DecodeError:
        return raw
