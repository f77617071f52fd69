"""Erase records on request (vendor redaction webhooks).

A redaction of a person-like record (Shopify ``customers/redact``, HubSpot contact deletion) is
the person's erasure request: their whole profile is erased and suppressed like
``DELETE /v1/profiles/{id}`` (``trust.erasure``). Other records named (orders) are deleted and
their profiles re-resolved.
"""

from __future__ import annotations

import sqlite3

from context_service.identity.engine import Engine, PersonChange
from context_service.models import RecordKey
from context_service.store import activities, profiles
from context_service.store.records import decode_mapped, get_record
from context_service.sync.ingest import profiles_for_owners
from context_service.trust.erasure import erase_profiles


def erase_records(
    conn: sqlite3.Connection, keys: list[RecordKey], region: str, now: str
) -> set[str]:
    """Erase the profiles of the person-like records among these (suppressed from then on),
    then delete the records and everything indexed from them; return the profiles touched."""
    people = _people(conn, keys)
    if people:
        source = keys[0].source
        erase_profiles(
            conn,
            sorted(people),
            requested_by=f"webhook:{source}",
            reason="vendor redaction",
            now=now,
            region=region,
        )
    return remove_records(conn, keys, region, now)


def remove_records(
    conn: sqlite3.Connection, keys: list[RecordKey], region: str, now: str
) -> set[str]:
    """Delete these records and everything indexed from them (their profiles are re-resolved
    without them, nothing is suppressed); return the profiles touched."""
    changed: set[str] = set()
    for key in keys:
        record = get_record(conn, key)
        if record is None:
            continue
        if record.mapped is not None and record.mapped.person is not None:
            change = PersonChange(record.id, key, facet=None)
            changed |= Engine(conn, region, now).resolve([change])
        else:
            changed |= profiles_for_owners(conn, activities.owners_of(conn, record.id))
        conn.execute("DELETE FROM records WHERE id = ?", (record.id,))
    return changed


def remove_source(conn: sqlite3.Connection, source: str, region: str, now: str) -> set[str]:
    """Delete every record of ``source`` and everything indexed from them (a vendor's request
    to delete all its data): its people leave their profiles a few hundred at a time, its
    activities leave their owners' snapshots; nothing is suppressed. Return the live profiles
    that changed (those left without members are gone)."""
    people = [
        PersonChange(int(rid), RecordKey(source, str(kind), str(ext)), facet=None)
        for rid, kind, ext, blob in conn.execute(
            "SELECT id, kind, external_id, mapped FROM records WHERE source = ?", (source,)
        ).fetchall()
        if (mapped := decode_mapped(blob)) is not None and mapped.person is not None
    ]
    owners = [
        RecordKey(str(s), str(k), str(e))
        for s, k, e in conn.execute(
            "SELECT DISTINCT owner_source, owner_kind, owner_external_id FROM activities "
            "WHERE owner_source != ? AND record_id IN (SELECT id FROM records WHERE source = ?)",
            (source, source),
        )
    ]
    changed = profiles_for_owners(conn, owners)
    for start in range(0, len(people), 500):
        changed |= Engine(conn, region, now).resolve(people[start : start + 500])
    conn.execute("DELETE FROM records WHERE source = ?", (source,))
    return {pid for pid in changed if profiles.canonical_id(conn, pid) == pid}


def _people(conn: sqlite3.Connection, keys: list[RecordKey]) -> set[str]:
    """The profiles of the person-like records among ``keys``."""
    found: set[str] = set()
    for key in keys:
        record = get_record(conn, key)
        if record is not None and record.mapped is not None and record.mapped.person is not None:
            profile_id = profiles.profile_of(conn, record.id)
            if profile_id is not None:
                found.add(profile_id)
    return found
