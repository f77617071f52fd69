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
from context_service.store.records import get_record
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
