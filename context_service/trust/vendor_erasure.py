"""Erase what a vendor's redaction request names: the record, and its person's records only.

A redaction request (Shopify ``customers/redact``, HubSpot ``contact.privacyDeletion``) names
one vendor record. The identity engine may have joined that record to someone else's profile
on a phone and a name (a customer made with a stranger's name and phone and one's own email):
erasing that whole profile would erase the stranger and suppress them for good. So the request
erases the records it names, the activities they own, and the other records of the profile a
proof of the named records' emails would vouch for (``snapshot.proved``): those that hold an
email a named record holds, and those with no email at all while no record of the profile holds
another email. An email proves a person, a phone or a name does not. When that is every record
of the profile (a customer whose records share their email, and a helpdesk user known only by
her phone: the common case), the whole profile is erased as ``DELETE /v1/profiles/{id}`` erases
it (``erasure.erase_profiles``).

Otherwise (``_erase_part``) the records kept stay in the profile and are clustered again as
after any deletion; the keys of the records erased, their emails and the mailboxes those reach
are suppressed, and a phone only when no record kept holds it; what the inbox, rejected
payloads and activities no one owns hold about them goes (``scrub_text``, ``erase_unowned``),
and every profile that changed is rebuilt. The operator's erasure stays whole-profile.

A named record that left its profile before the request (deleted at the vendor first, a bare
tombstone that holds no email any more) cannot tell which records were its person's. When the
request names the person's email (Shopify's ``customers/redact`` carries the customer's), the
profile the record left gives up the records a proof of that email vouches for, as above; a
request that names none (HubSpot's ``privacyDeletion`` after a ``deletion``) erases that
profile whole, as before.
"""

from __future__ import annotations

import sqlite3

from context_service.identity.engine import Engine, PersonChange
from context_service.identity.pairs import Thresholds
from context_service.models import RecordKey
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.materialize import materialize
from context_service.store import profiles
from context_service.store.keys import chunks, marks
from context_service.trust.erasure import (
    CONTACT_IDENTIFIERS_SQL,
    ErasureReport,
    _ids,
    _keys,
    _needles,
    _not_shared,
    _other_owners,
    _shared_activities,
    erase_profiles,
    owned_records,
    scrub_text,
)
from context_service.trust.suppression import record_value, suppress
from context_service.trust.unowned import erase_unowned, unshared_mailboxes


class _Context:
    """Where and when an erasure runs: the configured region, thresholds and links."""

    def __init__(
        self,
        now: str,
        region: str,
        links: DashboardLinks | None,
        thresholds: Thresholds | None,
    ) -> None:
        self.now = now
        self.region = region
        self.links = links or DashboardLinks()
        self.thresholds = thresholds


def erase_named(
    conn: sqlite3.Connection,
    named: dict[int, str],
    departed: dict[str, set[str]],
    *,
    requested_by: str,
    reason: str,
    now: str,
    region: str,
    links: DashboardLinks | None = None,
    thresholds: Thresholds | None = None,
) -> ErasureReport:
    """Erase the person records a vendor's request names (``named``: record id to its live
    profile) and their person's records (those holding an email a named one holds), inside
    the caller's transaction. ``departed`` maps each profile a named record left before the
    request to the emails the request names (normalized): the records of it a proof of one
    vouches for are erased, the whole profile when it names none. One erasure, one report."""
    parts: dict[str, set[int]] = {}
    for record_id, profile_id in named.items():
        parts.setdefault(profile_id, set()).add(record_id)
    whole: set[str] = set()
    partial: list[list[int]] = []
    for profile_id in sorted(set(parts) | set(departed)):
        ids = parts.get(profile_id, set())
        emails = departed.get(profile_id)
        chosen = None if emails == set() else _same_person(conn, profile_id, ids, emails or set())
        if chosen is None:
            whole.add(profile_id)
        elif chosen:
            partial.append(chosen)
    report = erase_profiles(
        conn,
        sorted(whole),
        requested_by=requested_by,
        reason=reason,
        now=now,
        region=region,
        links=links,
        thresholds=thresholds,
    )
    context = _Context(now, region, links, thresholds)
    for chosen in partial:
        _erase_part(conn, chosen, report, context)
    conn.execute(
        "UPDATE erasures SET records = ?, identifiers = ? WHERE id = ?",
        (report.records, report.suppressed, report.erasure_id),
    )
    return report


def _same_person(
    conn: sqlite3.Connection, profile_id: str, named: set[int], asked: set[str]
) -> list[int] | None:
    """The members of ``profile_id`` the request reaches, as a proof of the named records'
    emails, and of those the request names (``asked``), vouches for them (``snapshot.proved``):
    the ``named`` ones, those that hold one of those emails, and those with no email at all
    while no member holds another email (once one does, someone else may claim the profile).
    ``None`` when that is every member."""
    members = profiles.members(conn, profile_id)
    emails = _emails_of(conn, members)
    wanted = {email for record_id in named for email in emails.get(record_id, set())} | asked
    if not wanted and not named:
        return []
    contested = any(not emails.get(r, set()) <= wanted for r in members)
    chosen = [
        r
        for r in members
        if r in named or emails.get(r, set()) & wanted or not (emails.get(r) or contested)
    ]
    return None if set(chosen) >= set(members) else chosen


def _emails_of(conn: sqlite3.Connection, record_ids: list[int]) -> dict[int, set[str]]:
    """The normalized emails each of these records holds; records without one are absent."""
    found: dict[int, set[str]] = {}
    for chunk in chunks(record_ids):
        rows = conn.execute(
            "SELECT record_id, value FROM identifiers WHERE +kind = 'email' "
            f"AND record_id IN ({marks(chunk)})",
            chunk,
        )
        for record_id, email in rows:
            found.setdefault(int(record_id), set()).add(str(email))
    return found


def _erase_part(
    conn: sqlite3.Connection, chosen: list[int], report: ErasureReport, context: _Context
) -> None:
    """Erase these person records of a profile that keeps others, with what they own; suppress
    their keys and the emails, mailboxes and phones no record kept holds; rebuild what
    changed."""
    people = _people(conn, chosen)
    owned = owned_records(conn, list(people.values()))
    record_ids = sorted(set(chosen) | set(owned))
    all_keys = _keys(conn, record_ids)
    found = _ids(conn, CONTACT_IDENTIFIERS_SQL, chosen)
    held = [(str(row[0]), str(row[1]), bool(row[2])) for row in found]  # type: ignore[index]
    idents = _not_shared(conn, held, set(record_ids))
    entries = [(kind, value) for kind, value, strong in idents if strong]
    entries += unshared_mailboxes(conn, [v for k, v in entries if k == "email"], set(record_ids))
    shared = _shared_activities(conn, owned, set(all_keys))
    unshared_keys = {record_value(key) for key in all_keys if key not in shared}
    entries += [("record", value) for value in sorted(unshared_keys)]
    changed = _other_owners(conn, owned, set(people.values()))
    changes = [PersonChange(rid, key, facet=None) for rid, key in sorted(people.items())]
    engine = Engine(conn, context.region, context.now, context.thresholds)
    changed |= engine.resolve(changes)
    for chunk in chunks(record_ids):
        deleted = conn.execute(f"DELETE FROM records WHERE id IN ({marks(chunk)})", chunk)
        report.records += deleted.rowcount
    report.suppressed += suppress(conn, entries, report.erasure_id, context.now)
    report.records += erase_unowned(conn, entries, report.erasure_id, context.now, context.region)
    needles = _needles(idents, list(people.values()))
    needles.records = unshared_keys
    inbox, rejected = scrub_text(conn, needles)
    report.inbox_scrubbed += inbox
    report.rejected_records += rejected
    report.others_rebuilt += _rebuild(conn, changed, context)


def _people(conn: sqlite3.Connection, record_ids: list[int]) -> dict[int, RecordKey]:
    """The key of each of these records."""
    rows = _ids(
        conn, "SELECT id, source, kind, external_id FROM records WHERE id IN ({marks})", record_ids
    )
    return {int(row[0]): RecordKey(*row[1:]) for row in rows}  # type: ignore[index]


def _rebuild(conn: sqlite3.Connection, changed: set[str], context: _Context) -> int:
    """Rebuild the live profiles among ``changed`` with a new version each (nothing keyed by
    the old one, an LLM summary naming the erased records, is served again); how many."""
    live = sorted(p for p in changed if profiles.canonical_id(conn, p) == p)
    for profile_id in live:
        profiles.bump_version(conn, profile_id, context.now)
    for chunk in chunks(live):
        conn.execute(f"DELETE FROM llm_summaries WHERE profile_id IN ({marks(chunk)})", chunk)
    return materialize(conn, live, context.links, context.now, context.region)
