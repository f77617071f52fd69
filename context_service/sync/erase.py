"""Erase records on request (vendor redaction webhooks).

A redaction of a person-like record (Shopify ``customers/redact``, HubSpot contact deletion) is
the person's erasure request: their whole profile is erased and suppressed like
``DELETE /v1/profiles/{id}`` (``trust.erasure``). Other records named (orders) are deleted and
their profiles re-resolved.
"""

from __future__ import annotations

import sqlite3

from context_service.identity.engine import Engine, PersonChange
from context_service.identity.pairs import Thresholds
from context_service.models import RecordKey
from context_service.store import activities, profiles
from context_service.store.keys import chunks, marks
from context_service.store.records import decode_mapped, get_record, stored_states
from context_service.sync.ingest import profiles_for_owners
from context_service.trust.erasure import erase_profiles


def erase_records(
    conn: sqlite3.Connection,
    keys: list[RecordKey],
    region: str,
    now: str,
    thresholds: Thresholds | None = None,
) -> set[str]:
    """Erase the profiles of the person-like records among these (suppressed from then on),
    then delete the records and everything indexed from them; return the profiles touched.
    ``thresholds`` are the configured ones (``IngestContext.thresholds``)."""
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
    return remove_records(conn, keys, region, now, thresholds)


def remove_records(
    conn: sqlite3.Connection,
    keys: list[RecordKey],
    region: str,
    now: str,
    thresholds: Thresholds | None = None,
) -> set[str]:
    """Delete these records and everything indexed from them: the people among them leave their
    profiles (resolved a few hundred at a time, the remaining members re-clustered under
    ``thresholds``, the configured ones: the defaults only when none are given), the activities
    leave their owners' snapshots, nothing is suppressed. Return the live profiles touched
    (those left without members are gone)."""
    stored = stored_states(conn, keys)
    people = [
        PersonChange(state.record_id, key, facet=None)
        for key, state in stored.items()
        if (mapped := decode_mapped(state.mapped)) is not None and mapped.person is not None
    ]
    owned = activities.owners_of_keys(conn, list(stored))
    changed = profiles_for_owners(conn, [owner for group in owned.values() for owner in group])
    for people_batch in chunks(people, 500):
        changed |= Engine(conn, region, now, thresholds).resolve(people_batch)
    for ids in chunks(sorted(state.record_id for state in stored.values())):
        conn.execute(f"DELETE FROM records WHERE id IN ({marks(ids)})", ids)
    return {pid for pid in changed if profiles.canonical_id(conn, pid) == pid}


def remove_source(
    conn: sqlite3.Connection,
    source: str,
    region: str,
    now: str,
    thresholds: Thresholds | None = None,
) -> set[str]:
    """``remove_records`` for every record of ``source`` (a vendor's request to delete all its
    data, Shopify ``shop/redact``)."""
    keys = [
        RecordKey(source, str(kind), str(external_id))
        for kind, external_id in conn.execute(
            "SELECT kind, external_id FROM records WHERE source = ?", (source,)
        )
    ]
    return remove_records(conn, keys, region, now, thresholds)


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
