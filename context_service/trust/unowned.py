"""What an erasure takes beyond the person's records: their mailboxes, and the activities
no one's record owns that name them.

A Shopify guest checkout (``customer: null``), a Stripe charge without a customer, or an order
that came before its customer record (and stays ownerless once that customer is suppressed)
belongs to no person record, so no profile holds it; but its billing and shipping details name
the buyer. ``erase_unowned`` deletes the stored activities that no live person record owns
whose payload names one of the erased emails (or their mailbox) or phones, and suppresses
their keys; the suppression guard keeps new ones out (``Guard.blocks_ownerless``).

``unshared_mailboxes`` gives the mailbox entries an erasure suppresses (``+tag`` and Gmail's
dots dropped, as the lookup reads an address), except a mailbox a record that stays reaches
too (its blocking key ``e:<mailbox>``): that is someone else's as well.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from context_service.identity.normalize import normalize_email
from context_service.models import RecordKey
from context_service.store.keys import chunks, marks
from context_service.store.records import decode_mapped
from context_service.trust.contacts import emails_in, mailbox_of, phones_in
from context_service.trust.suppression import record_value, suppress

CONTACT_KINDS = frozenset({"email", "phone", "mailbox"})

# Stored live records that are no profile's member (so no person record) and that no member
# owns: activities of no one (and references, told apart by their mapped record).
_UNOWNED_SQL = """
SELECT r.id, r.source, r.kind, r.external_id, r.payload, r.mapped FROM records r
WHERE r.deleted = 0 AND r.mapped IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM profile_members m WHERE m.record_id = r.id)
AND NOT EXISTS (
    SELECT 1 FROM activities a
    JOIN records o ON o.source = a.owner_source AND o.kind = a.owner_kind
        AND o.external_id = a.owner_external_id
    JOIN profile_members pm ON pm.record_id = o.id
    WHERE a.record_id = r.id
)
"""


def unshared_mailboxes(
    conn: sqlite3.Connection, emails: Iterable[str], erased: set[int]
) -> list[tuple[str, str]]:
    """The ``mailbox`` entries of these normalized emails that only ``erased`` records reach."""
    found: list[tuple[str, str]] = []
    for mailbox in sorted({m for email in emails if (m := mailbox_of(email)) is not None}):
        holders = conn.execute(
            "SELECT record_id FROM identifiers WHERE kind = 'block' AND value = ?",
            (f"e:{mailbox}",),
        )
        if all(int(row[0]) in erased for row in holders):
            found.append(("mailbox", mailbox))
    return found


class _Contacts:
    """The erased emails, mailboxes and phones, and whether a text names one of them."""

    def __init__(self, entries: Iterable[tuple[str, str]], region: str) -> None:
        self.region = region
        self.emails = {value for kind, value in entries if kind in {"email", "mailbox"}}
        self.phones = {value for kind, value in entries if kind == "phone"}
        self.endings = frozenset(phone[-4:] for phone in self.phones)

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones)

    def named_in(self, text: str) -> bool:
        """Whether ``text`` names one of the emails (or a mailbox) or phones."""
        if self.emails and "@" in text:
            for raw in emails_in(text):
                email = normalize_email(raw)
                if email is not None and (email in self.emails or mailbox_of(email) in self.emails):
                    return True
        return bool(self.phones) and not self.phones.isdisjoint(
            phones_in(text, self.region, self.endings)
        )


def erase_unowned(
    conn: sqlite3.Connection,
    entries: Iterable[tuple[str, str]],
    erasure_id: str,
    now: str,
    region: str,
) -> int:
    """Delete the stored activities no live person record owns whose payload names one of
    these erased (kind, value) entries (``email``, ``mailbox``, ``phone``), and suppress their
    keys under ``erasure_id``; return how many were deleted."""
    contacts = _Contacts([e for e in entries if e[0] in CONTACT_KINDS], region)
    if not contacts:
        return 0
    found: list[tuple[int, RecordKey]] = []
    for row in conn.execute(_UNOWNED_SQL):
        record_id, source, kind, external_id, payload, blob = row
        if not contacts.named_in(str(payload)):
            continue
        mapped = decode_mapped(blob)
        if mapped is not None and mapped.activity is not None:
            found.append((int(record_id), RecordKey(str(source), str(kind), str(external_id))))
    for chunk in chunks([record_id for record_id, _ in found]):
        conn.execute(f"DELETE FROM records WHERE id IN ({marks(chunk)})", chunk)
    suppress(conn, [("record", record_value(key)) for _, key in found], erasure_id, now)
    return len(found)
