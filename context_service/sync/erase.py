"""Erase records on request (vendor redaction webhooks).

A redaction of a person-like record (Shopify ``customers/redact``, HubSpot
``contact.privacyDeletion``) is the erasure request of the person that record is: it erases
the record and the records of its profile that hold one of its emails, suppressed from then on,
and the whole profile like ``DELETE /v1/profiles/{id}`` when that is all of it
(``trust.vendor_erasure``: a phone or a name another record shares proves no one). Other
records named (orders) are deleted and their profiles re-resolved.

The request may come after the vendor deleted the record (Shopify sends ``customers/redact``
days after ``customers/delete``; HubSpot a ``privacyDeletion`` after a ``deletion``): the record
then belongs to no profile, but remembers the id it counted for in the one it left
(``profiles.left_profiles``: that profile's, or the merged-away id it had been taken over
from, which a later split moves with the person's other records), and the profile that id
names now is erased and the record's key suppressed, as if it had not been deleted first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

from context_service.identity.engine import Engine, PersonChange
from context_service.identity.normalize import normalize_email
from context_service.identity.pairs import Thresholds
from context_service.models import RecordKey
from context_service.snapshot.links import DashboardLinks
from context_service.store import activities, profiles
from context_service.store.keys import chunks, marks
from context_service.store.records import (
    decode_mapped,
    store_tombstone,
    stored_states,
    strip_record,
)
from context_service.sync.ingest import profiles_for_owners
from context_service.trust.erasure import needles_of_keys, scrub_text
from context_service.trust.suppression import record_value, suppress
from context_service.trust.vendor_erasure import erase_named


def erase_records(
    conn: sqlite3.Connection,
    keys: list[RecordKey],
    region: str,
    now: str,
    thresholds: Thresholds | None = None,
    *,
    links: DashboardLinks | None = None,
    emails: Iterable[str] = (),
) -> set[str]:
    """Erase the person-like records among these and their person's other records (those
    holding one of their emails; the whole profile when that is all of it: ``erase_named``),
    suppressed from then on, then delete the records and everything indexed from them; return
    the profiles touched.
    A person record deleted at its source earlier has its last profile erased, and the
    webhook deliveries that named one of these records are blanked, held or not. Every key asked
    for goes on the suppression list, also one the store does not hold yet (a backfill still
    listing it when the vendor's redaction arrives), so no later page re-creates the record.
    ``thresholds`` and ``links`` are the configured ones (``IngestContext``): the erasure
    re-resolves the records around the person and rebuilds the profiles it changes with them.
    ``emails`` are those the request names for the person (Shopify's ``customers/redact``):
    of a profile a record deleted earlier left, they pick the person's records
    (``erase_named``); without them that profile is erased whole."""
    if not keys:
        return set()
    rows = {state.record_id: key for key, state in stored_states(conn, keys).items()}
    asked = {e for e in map(normalize_email, emails) if e is not None}
    report = erase_named(
        conn,
        profiles.profiles_of(conn, sorted(rows)),
        {profile_id: set(asked) for profile_id in _left_live(conn, rows).values()},
        requested_by=f"webhook:{keys[0].source}",
        reason="vendor redaction",
        now=now,
        region=region,
        links=links,
        thresholds=thresholds,
    )
    _suppress_keys(conn, keys, report.erasure_id, now)
    # The records asked for may be held no more (deleted at the vendor earlier, with a profile
    # that went with them): what the inbox kept about them goes by their own ids.
    scrub_text(conn, needles_of_keys(keys))
    return _remove(conn, keys, region, now, thresholds, keep_departed=False)


def remove_records(
    conn: sqlite3.Connection,
    removals: Mapping[RecordKey, str | None],
    region: str,
    now: str,
    thresholds: Thresholds | None = None,
) -> set[str]:
    """Delete these records' data and everything indexed from them: the people among them
    leave their profiles (resolved a few hundred at a time, the remaining members re-clustered
    under ``thresholds``, the configured ones: the defaults only when none are given), the
    activities leave their owners' snapshots, nothing is suppressed.

    Each record stays as a bare tombstone (``strip_record``: the key, no data) dated by its
    deletion (the value ``removals`` maps it to), also one the store does not hold yet: a copy
    from before the deletion that arrives later (a sync page fetched before it, a delayed
    delivery) is stale, and a restore, which the vendor dates later, replaces it. A tombstone
    remembers the profile its person left (the id it counted for there, which follows the
    person through a later split), so an erasure request for the record that comes later still
    reaches the person. An undated removal keeps a tombstone only for a person
    whose profile lives on (others' records hold it). Return the live profiles touched (those
    left without members are gone)."""
    keys = list(removals)
    changed = _remove(conn, keys, region, now, thresholds, keep_departed=True, dated=removals)
    held = stored_states(conn, keys)
    for key in keys:
        if key not in held and (deleted_at := removals[key]) is not None:
            store_tombstone(conn, key, deleted_at, now)
    return changed


def remove_source(
    conn: sqlite3.Connection,
    source: str,
    region: str,
    now: str,
    thresholds: Thresholds | None = None,
) -> set[str]:
    """Delete every record of ``source`` and everything indexed from them, as
    ``remove_records`` does but keeping no tombstone (a vendor's request to delete all its
    data, Shopify ``shop/redact``)."""
    keys = [
        RecordKey(source, str(kind), str(external_id))
        for kind, external_id in conn.execute(
            "SELECT kind, external_id FROM records WHERE source = ?", (source,)
        )
    ]
    return _remove(conn, keys, region, now, thresholds, keep_departed=False)


def _remove(
    conn: sqlite3.Connection,
    keys: list[RecordKey],
    region: str,
    now: str,
    thresholds: Thresholds | None,
    *,
    keep_departed: bool,
    dated: Mapping[RecordKey, str | None] | None = None,
) -> set[str]:
    """``remove_records``; with ``keep_departed`` false, no row is kept."""
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
    rows = {state.record_id: key for key, state in stored.items()}
    when = dated or {}
    kept = set(_left_live(conn, rows)) if keep_departed else set()
    kept |= {rid for rid, key in rows.items() if keep_departed and when.get(key)}
    for record_id in sorted(kept):
        strip_record(conn, record_id, rows[record_id], when.get(rows[record_id]))
    for ids in chunks(sorted(set(rows) - set(kept))):
        conn.execute(f"DELETE FROM records WHERE id IN ({marks(ids)})", ids)
    return {pid for pid in changed if profiles.canonical_id(conn, pid) == pid}


def _left_live(conn: sqlite3.Connection, record_ids: Iterable[int]) -> dict[int, str]:
    """For each of these records that left a profile, the profile the id it counted for there
    names now (``profiles.left_profiles``): the survivor of a merge, the person's part of a
    split; absent once that id names no one (its profile gone, it held no one else then, or an
    alias split evenly), so never a profile the person was not in."""
    found: dict[int, str] = {}
    for record_id, profile_id in profiles.left_profiles(conn, record_ids).items():
        live = profiles.canonical_id(conn, profile_id)
        if live is not None:
            found[record_id] = live
    return found


def _suppress_keys(
    conn: sqlite3.Connection, keys: list[RecordKey], erasure_id: str, now: str
) -> None:
    """Add these record keys to an erasure's suppression list (the profile's erasure lists
    its members' keys; a record that had left it, or is not stored yet, is no member), and to
    its count."""
    added = suppress(conn, [("record", record_value(key)) for key in keys], erasure_id, now)
    conn.execute(
        "UPDATE erasures SET identifiers = identifiers + ? WHERE id = ?", (added, erasure_id)
    )
