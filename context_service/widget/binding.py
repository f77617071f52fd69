"""Which identifier a profile-id link was minted for, so that a split never re-targets it.

A link names its customer by profile id (``p``). A profile id stays with its own records when
a profile is split, so a link minted from Maya's email while Maya's records sat (wrongly) in
Lee's older profile would show Lee's card once the split undoes the merge. The link therefore
also carries ``k``: a keyed digest of the identifier it was minted for (the email, the mailbox
an email reaches, the phone, or the vendor record the lookup found: for a vendor id merged away
at the vendor, the record it was merged into; for an order's, ticket's or invoice's, its
owner's), under the signature. Opening it checks that the profile the id resolves to still
holds that identifier; when it does not, the page is a 404 ("open the customer again"), never
someone else's card. The digest is an HMAC, so the URL carries no email or phone. A link asked
for by anything but a profile id is bound or not minted at all.

A link asked for by profile id names that id itself (``linked_profile``), carrying no ``k``:
the id asked with, not the profile it resolved to when minted. A profile id stays with its own
records through merges and splits, and an id merged away (an alias) follows the records it held
(``store.aliases``), so the link shows whom the id names when it is opened, as ``GET
/v1/context?profile_id=`` does: after a wrong merge is split apart, Maya's old id shows Maya
again (or, if it names no one any more, 404), never the survivor that took her in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3

from context_service.errors import AmbiguousIdentifier, ContextServiceError, ProfileNotFound
from context_service.identity.normalize import mailbox_key, normalize_email, normalize_phone
from context_service.snapshot import lookup
from context_service.store import activities
from context_service.tools import CustomerRef

_LABEL = b"context-service widget link binding\n"
_KINDS = ("email", "phone", "block")


def binding(key: bytes, kind: str, value: str) -> str:
    """The digest ``k`` of one identifier (``kind``: email, phone, block or record)."""
    digest = hmac.new(key, _LABEL + f"{kind}\0{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def linked_profile(ref: CustomerRef, found: str) -> str:
    """The profile id a link minted for ``ref`` names (``p``): the id asked with when the
    link was asked for by profile id (an alias stays an alias, so it follows its customer
    through a later split instead of staying with the survivor it resolves to now), else the
    profile ``found`` for the identifier (bound to it by ``bind``)."""
    return ref.profile_id if ref.profile_id is not None else found


class LinkNotBound(ContextServiceError):
    """The identifier a link is asked for is not held by the profile it was just found in."""

    status_code = 503
    title = "Profile is changing"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": "1"}


def bind(
    conn: sqlite3.Connection, ref: CustomerRef, profile_id: str, key: bytes, region: str
) -> str | None:
    """The digest of the identifier in ``ref`` as ``profile_id`` holds it: an email, a phone,
    or a vendor record, taken as the lookup found it (a record a vendor merge folded into
    another is bound to the record it was merged into, an order's, ticket's or invoice's to
    the person record that owns it). ``None`` only for a link asked for by profile id, which
    names the profile itself, alias or not (see ``linked_profile``).

    Any other link is bound or not minted (``LinkNotBound``): an unbound ``p`` would show
    whoever keeps that profile id after a split, another customer's card."""
    if ref.profile_id is not None:
        return None
    held = _held(conn, ref, profile_id, region)
    if held is None:  # the profile changed between the lookup and now (a merge or a split)
        raise LinkNotBound(
            "the customer's records changed while the widget link was being made (a merge or "
            "a split); try again"
        )
    return binding(key, *held)


def _held(
    conn: sqlite3.Connection, ref: CustomerRef, profile_id: str, region: str
) -> tuple[str, str] | None:
    """The (kind, value) by which ``profile_id`` holds the identifier in ``ref``."""
    if ref.email is not None and (email := normalize_email(ref.email)) is not None:
        if ("email", email) in _identifiers(conn, profile_id):
            return ("email", email)
        return ("block", f"e:{mailbox_key(email)}")  # found by the mailbox it reaches
    if ref.phone is not None and (phone := normalize_phone(ref.phone, region)) is not None:
        return ("phone", phone)
    if ref.source is not None and ref.external_id is not None:
        record = _record_held(conn, profile_id, ref.source, ref.external_id)
        return None if record is None else ("record", record)
    return None


def _record_held(
    conn: sqlite3.Connection, profile_id: str, source: str, external_id: str
) -> str | None:
    """The member record of ``profile_id`` through which the lookup found this vendor id
    (``lookup.live_records`` then ``lookup``'s holders): the record itself, or the one a vendor
    merge folded it into, or for an activity the person record that owns it."""
    members = _records(conn, profile_id)
    for record_id, _kind in lookup.live_records(conn, source, external_id):
        held = [_record_key(conn, record_id)]
        held += [f"{o.source}\0{o.external_id}" for o in activities.owners_of(conn, record_id)]
        found = next((record for record in held if record in members), None)
        if found is not None:
            return found
    return None


def _record_key(conn: sqlite3.Connection, record_id: int) -> str:
    row = conn.execute("SELECT source, external_id FROM records WHERE id = ?", (record_id,))
    source, external_id = row.fetchone()
    return f"{source}\0{external_id}"


def check_bound(conn: sqlite3.Connection, profile_id: str, bound: str, key: bytes) -> None:
    """``ProfileNotFound`` (404) unless ``profile_id`` still holds the identifier whose
    digest is ``bound``; ``AmbiguousIdentifier`` (409) when that identifier is an email or a
    phone another customer holds too now (two people merged, a link minted by the email, then
    split apart: the link would show one of the two, whoever kept the id)."""
    for kind, value in _identifiers(conn, profile_id):
        if hmac.compare_digest(bound, binding(key, kind, value)):
            if kind in _CONTACTS and _held_by_others(conn, profile_id, kind, value):
                raise AmbiguousIdentifier(
                    f"the {kind} this link was made for is now held by more than one customer "
                    "(a profile was split since); open the customer again"
                )
            return
    records = (binding(key, "record", record) for record in _records(conn, profile_id))
    if not any(hmac.compare_digest(bound, digest) for digest in records):
        raise ProfileNotFound(
            "the customer this link was made for is no longer in that profile (it was split "
            "or changed since); open the customer again"
        )


_CONTACTS = ("email", "phone")


def _held_by_others(conn: sqlite3.Connection, profile_id: str, kind: str, value: str) -> bool:
    """Whether a profile other than ``profile_id`` holds this email or phone."""
    row = conn.execute(
        "SELECT 1 FROM identifiers i JOIN profile_members m ON m.record_id = i.record_id "
        "WHERE i.kind = ? AND i.value = ? AND m.profile_id != ? LIMIT 1",
        (kind, value, profile_id),
    ).fetchone()
    return row is not None


IDENTIFIERS_SQL = (
    # From the profile's members to their identifiers (CROSS JOIN keeps that order, ``+i.kind``
    # keeps SQLite off the identifier index's kind prefix): left to itself, the planner read
    # every email, phone and blocking key of the store and joined each to its member, 2 ms a
    # card in a 1,000-customer store instead of 0.1.
    "SELECT DISTINCT i.kind, i.value FROM profile_members m "
    "CROSS JOIN identifiers i ON i.record_id = m.record_id "
    f"WHERE m.profile_id = ? AND +i.kind IN ({', '.join('?' * len(_KINDS))})"
)


def _identifiers(conn: sqlite3.Connection, profile_id: str) -> set[tuple[str, str]]:
    rows = conn.execute(IDENTIFIERS_SQL, (profile_id, *_KINDS))
    return {(str(kind), str(value)) for kind, value in rows}


def _records(conn: sqlite3.Connection, profile_id: str) -> set[str]:
    rows = conn.execute(
        "SELECT r.source, r.external_id FROM profile_members m "
        "JOIN records r ON r.id = m.record_id WHERE m.profile_id = ?",
        (profile_id,),
    )
    return {f"{source}\0{external_id}" for source, external_id in rows}
