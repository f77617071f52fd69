"""The part of a profile an end user's proof vouches for.

A verified end user (a chatbot key that is no trusted backend, with a ``user_hash`` or
``user_token``) proved one email, phone or person id in a source. The identity engine joins
records on evidence such as the same phone and name or the same street address, which is the
same customer as far as the engine can tell, but is no proof of who is typing: anyone can enter
a stranger's name and phone into a web form that makes a HubSpot contact, with their own email.
That contact joins the stranger's profile, and the sender's proof of their own email would
then open the stranger's orders, invoices and tickets.

So a proof vouches for part of the profile (``proved_records``):

- the person records that hold the identifier proved (the email, the phone, the person id);
- for an email proof, records whose only email is the one proved (in another case or with a
  corrected domain typo) and records with no email at all (a helpdesk user known by name and
  phone), the latter only while no record of the profile holds another email: once one does,
  someone else may claim the profile, and neither claimant's proof vouches for what holds no
  email. A phone or person id proves no email, whatever the records holding it say: a web form
  with the stranger's email and one's own phone must not open the stranger's records.

For a customer whose records share the email they sign in with, that is the whole profile. In
the case above the sender sees the contact they made and nothing of the stranger's; the
stranger, proving her own email, sees her records but not the form's contact, nor records with
no email until someone splits the profile. What it cannot tell apart: a customer known to every
source without any email, joined to a form's contact made with their name and phone, looks like
a customer who gave an email once; the form's sender would see the records without an email.
Agents, trusted backends, the widget and escalations see the profile whole.
"""

from __future__ import annotations

import sqlite3

from context_service.identity.normalize import normalize_email, normalize_phone
from context_service.models import Snapshot
from context_service.snapshot.assemble import build_snapshot, load_profiles
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.lookup import PERSON_KINDS, live_records
from context_service.snapshot.redaction import without_payment_numbers
from context_service.store import profiles
from context_service.store.keys import chunks, marks

_HOLDERS = (
    "SELECT i.record_id FROM identifiers i JOIN profile_members m ON m.record_id = i.record_id "
    "WHERE i.kind = ? AND i.value = ? AND m.profile_id = ?"
)


def proved_records(
    conn: sqlite3.Connection, kind: str, value: str, profile_id: str, region: str
) -> frozenset[int]:
    """The person records of ``profile_id`` a proof of ``kind`` ``value`` vouches for (see the
    module doc): ``email`` or ``phone`` (normalized as the lookup normalizes them) or
    ``source_id`` (``"<source>:<external_id>"``, a person record, followed through a vendor
    merge as the lookup follows it); none for anything else."""
    holders = _holders(conn, kind, value, profile_id, region)
    members = profiles.members_of(conn, [profile_id]).get(profile_id, [])
    emails = _emails_of(conn, members)
    # The email proved, and no other: the other emails of the records holding a proved phone or
    # id are whatever was typed into them (a web form with the stranger's email and one's own
    # phone), and they prove nothing.
    proved_email = normalize_email(value) if kind == "email" else None
    proved_emails = {proved_email} if proved_email else set()
    contested = any(not emails.get(r, set()) <= proved_emails for r in members)
    return frozenset(
        r
        for r in members
        if r in holders
        or (emails.get(r) and emails[r] <= proved_emails)
        or (not emails.get(r) and not contested)
    )


def _holders(
    conn: sqlite3.Connection, kind: str, value: str, profile_id: str, region: str
) -> frozenset[int]:
    """The person records of ``profile_id`` that hold the identifier proved."""
    if kind == "source_id":
        source, _, external_id = value.partition(":")
        return frozenset(
            record_id
            for record_id, record_kind in live_records(conn, source, external_id)
            if record_kind in PERSON_KINDS and profiles.profile_of(conn, record_id) == profile_id
        )
    normalized = (
        normalize_email(value)
        if kind == "email"
        else normalize_phone(value, region)
        if kind == "phone"
        else None
    )
    if normalized is None:
        return frozenset()
    rows = conn.execute(_HOLDERS, (kind, normalized, profile_id))
    return frozenset(int(row[0]) for row in rows)


def _emails_of(conn: sqlite3.Connection, record_ids: list[int]) -> dict[int, set[str]]:
    """The (normalized) emails each of these records holds; records without one are absent."""
    found: dict[int, set[str]] = {}
    for chunk in chunks(record_ids):
        rows = conn.execute(
            f"SELECT record_id, value FROM identifiers WHERE kind = 'email' "
            f"AND record_id IN ({marks(chunk)})",
            chunk,
        )
        for record_id, email in rows:
            found.setdefault(int(record_id), set()).add(str(email))
    return found


def proved_part(
    conn: sqlite3.Connection,
    profile_id: str,
    proved: frozenset[int],
    links: DashboardLinks,
    now: str,
    region: str,
) -> Snapshot | None:
    """The snapshot of the part of ``profile_id`` made of the ``proved`` person records and
    what they own, built as a stored snapshot is; ``None`` when they are all of its records
    (the stored snapshot is that part) or the profile is gone."""
    members = profiles.members_of(conn, [profile_id]).get(profile_id, [])
    if not members or proved.issuperset(members):
        return None
    data = load_profiles(conn, [profile_id], links, only=proved).get(profile_id)
    if data is None:
        return None
    return without_payment_numbers(build_snapshot(data, links, now, region))
