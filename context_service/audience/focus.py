"""The record looked up, read from the store when the snapshot's capped lists leave it out.

A snapshot lists the newest 10 orders and tickets, 6 invoices and charges...; a customer asking
about an older one (``GET /v1/context?source=shopify&external_id=...``) must still find it in
question. ``HeldRecords.focus`` reads that one record: a live activity record the profile owns
through the activity index (one hop deep, as the snapshot follows a dispute to its charge),
its free text cleaned exactly as a snapshot's is before it is stored (other people's contacts,
the length bound, bidirectional controls, payment numbers and secrets: ``snapshot.redaction``).
``order_numbered`` reads an order the same way by the number a customer quotes (``#1001``), for
an escalation whose customer names an old order.
"""

from __future__ import annotations

import sqlite3

import msgspec

from context_service.models import Activity, Order, RecordKey, Snapshot
from context_service.snapshot.assemble import cleaned_activity
from context_service.snapshot.invisible import may_hold_invisible, without_invisible
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.lookup import live_records
from context_service.snapshot.redaction import (
    OwnContacts,
    redact_free_text,
    with_free_text,
)
from context_service.store import activities, profiles
from context_service.store.records import StoredRecord, get_record, get_records

_replace = msgspec.structs.replace
_decode_activity = msgspec.json.Decoder(Activity).decode
_encode = msgspec.json.Encoder().encode


class HeldRecords:
    """Where ``build_context`` reads the record looked up when the snapshot does not list it:
    the store's read connection, the region that reads phone numbers written in its free text
    (``CONTEXT_SERVICE_DEFAULT_REGION``) and the dashboard links (none: no ``url``)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        region: str = "US",
        links: DashboardLinks | None = None,
        only: frozenset[int] | None = None,
    ) -> None:
        self.conn = conn
        self.region = region
        self.links = links
        self.only = only  # the person records of a part of the profile (``snapshot.proved``)

    def focus(self, snap: Snapshot, source: str, external_id: str) -> Activity | None:
        """The activity ``source`` id ``external_id`` when ``snap``'s lists leave it out and
        its profile owns it, cleaned as a stored snapshot's; ``None`` otherwise (listed, a
        person record, a test order, someone else's, deleted or unknown)."""
        if lists(snap, external_id):
            return None
        for record_id, _kind in live_records(self.conn, source, external_id):
            act = self._owned_activity(snap, record_id)
            if act is not None:
                return act
        return None

    def order_numbered(self, snap: Snapshot, number: str) -> Order | None:
        """The order of ``snap``'s profile that a customer quotes as ``number`` (``#1001``,
        ``1001``: the activity index's ``order_number``) when the snapshot's lists leave it
        out, cleaned as ``focus``'s; ``None`` otherwise (listed, a test order, someone
        else's, deleted or unknown)."""
        for record_id in activities.records_with_ref(self.conn, "order_number", number):
            act = self._owned_activity(snap, record_id)
            if isinstance(act, Order) and not lists(snap, act.external_id or ""):
                return act
        return None

    def order_key(self, snap: Snapshot, number: str) -> RecordKey | None:
        """The key of ``snap``'s profile's order a customer quotes as ``number`` (``#1001``,
        ``1001``), listed in the snapshot or not; ``None`` when no live order of theirs carries
        it (another customer's order names nothing here)."""
        for record_id in activities.records_with_ref(self.conn, "order_number", number):
            if isinstance(self._owned_activity(snap, record_id), Order):
                found = get_records(self.conn, [record_id], with_payload=False)
                return found[0].key if found else None
        return None

    def _owned_activity(self, snap: Snapshot, record_id: int) -> Activity | None:
        """The live activity record ``record_id`` when ``snap``'s profile owns it, cleaned as
        a stored snapshot's; ``None`` for a person record, a test order or another's."""
        found = get_records(self.conn, [record_id], with_payload=False)
        record = found[0] if found else None
        if record is None or record.deleted or record.mapped is None:
            return None
        if record.mapped.activity is None:
            return None
        if isinstance(record.mapped.activity, Order) and record.mapped.activity.test:
            return None  # a shop's test order is no order of the customer's (as in snapshots)
        if not self._owned(record, snap.profile_id, hops=1):
            return None
        act = _replace(
            record.mapped.activity,
            external_id=record.key.external_id,
            url=self.links.url(record.key) if self.links else None,
            owners=[],
        )
        return cleaned(act, snap, self.region)

    def _owned(self, record: StoredRecord, profile_id: str, hops: int) -> bool:
        """Whether a live person record of the profile owns this activity (directly, or
        through an activity that it owns, ``hops`` deep)."""
        for key in activities.owners_of(self.conn, record.id):
            owner = get_record(self.conn, key)
            if owner is None or owner.deleted or owner.mapped is None:
                continue
            if owner.mapped.person is not None:
                owned = profiles.profile_of(self.conn, owner.id) == profile_id
                owned = owned and (self.only is None or owner.id in self.only)
            else:  # an activity owning this one (a charge, its dispute's owner)
                owned = bool(hops) and owner.mapped.activity is not None
                owned = owned and self._owned(owner, profile_id, hops - 1)
            if owned:
                return True
        return False


def lists(snap: Snapshot, external_id: str) -> bool:
    """Whether one of the snapshot's activity lists holds a record with this vendor id."""
    listed: list[list[Activity]] = [
        list(snap.commerce.orders),
        list(snap.support.tickets),
        list(snap.billing.invoices),
        list(snap.billing.subscriptions),
        list(snap.billing.charges),
        list(snap.billing.disputes),
        list(snap.crm.deals),
    ]
    return any(act.external_id == external_id for acts in listed for act in acts)


def cleaned(act: Activity, snap: Snapshot, region: str) -> Activity:
    """The activity's free text as a stored snapshot keeps it (``snapshot.assemble`` and
    ``materialize``): other people's contacts removed, cut to its bound, without
    bidirectional controls, payment numbers and secrets removed."""
    own = OwnContacts.of(snap.identity.emails, snap.identity.phones, region)
    act = cleaned_activity(act, own)
    encoded = _encode(act).decode()
    if may_hold_invisible(encoded.encode()):  # bidirectional controls, tags, zero-width
        act = _decode_activity(without_invisible(encoded))
    return with_free_text(act, _clean)  # payment numbers and secrets


def _clean(text: str | None) -> str | None:
    return redact_free_text(text) if text else text
