"""The activity index of ingested records: who owns each activity, and the numbers a customer
may quote for it (an order's, an invoice's), written as records are stored.

An owner a vendor merge folded into another record (HubSpot ``contact.merge``, Shopify
``customers/merge``: a tombstone ``merged_into`` its survivor) is indexed as that survivor,
as the merge re-pointed the activities stored before it (``activities.transfer_owner``): a
deal read before the merge and stored after it shows on the survivor's profile too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from context_service.models import Invoice, Mapped, Order, RecordKey
from context_service.store import activities, profiles


class _NewActivities:
    """The index entries of a batch's new activity records, written together
    (``activities.add_owners``, ``activities.add_refs``): one statement per table instead of
    two per record. Both tables hold sets (``INSERT OR IGNORE`` under their primary key), so
    writing the same rows later gives the same tables, as long as nothing reads them before:
    ``write`` runs before any read of the index (an activity already stored, the batch's end).
    """

    def __init__(self) -> None:
        self.owners: list[tuple[int, list[RecordKey]]] = []
        self.refs: list[tuple[int, list[tuple[str, str]]]] = []

    def add(self, record_id: int, owners: list[RecordKey], refs: list[tuple[str, str]]) -> None:
        """Hold a new activity record's owners and quoted numbers until ``write``."""
        if owners:
            self.owners.append((record_id, owners))
        if refs:
            self.refs.append((record_id, refs))

    def write(self, conn: Any) -> None:
        """Write what is held, then forget it."""
        if self.owners:
            activities.add_owners(conn, self.owners)
            self.owners = []
        if self.refs:
            activities.add_refs(conn, self.refs)
            self.refs = []


def index_activity(
    conn: Any,
    record_id: int,
    mapped: Mapped,
    *,
    is_new: bool,
    held: _NewActivities | None = None,
    survivors: Mapping[RecordKey, RecordKey] | None = None,
) -> list[RecordKey]:
    """Update an activity's owner index (a deleted one leaves it); return its owner keys, old
    and new, whose profiles must show the change. With ``held``, a new record's entries are
    held there for the batch to write together. An owner merged into another record is
    indexed as its survivor: from ``survivors`` (``merged_owners``, looked up once for a
    batch) when given, else looked up here."""
    if mapped.activity is None and not mapped.deleted:
        return []
    live = None if mapped.deleted else mapped.activity
    owners = _surviving(conn, live.owners, survivors) if live is not None else []
    if held is not None:
        if is_new:
            held.add(record_id, owners, _quoted_numbers(live) if live is not None else [])
            return list(owners)
        held.write(conn)  # the index is read below: what it holds goes in first
    before = [] if is_new else activities.owners_of(conn, record_id)
    if before != owners:
        activities.replace_owners(conn, record_id, owners, had_owners=bool(before))
    refs = _quoted_numbers(live) if live is not None else []
    if refs or not is_new:
        activities.replace_refs(conn, record_id, refs, had_refs=not is_new)
    return [*before, *owners]


def merged_owners(conn: Any, items: Iterable[Mapped | None]) -> dict[RecordKey, RecordKey]:
    """The survivor of each owner these mapped activities name that a vendor merge folded into
    another record (``activities.survivors_of``), for ``index_activity``: one look-up for a
    batch instead of one per activity."""
    owners = {
        owner
        for mapped in items
        if mapped is not None and mapped.activity is not None
        for owner in mapped.activity.owners
    }
    return activities.survivors_of(conn, owners) if owners else {}


def _surviving(
    conn: Any, owners: list[RecordKey], survivors: Mapping[RecordKey, RecordKey] | None
) -> list[RecordKey]:
    """``owners``, each merged-away one replaced by its survivor (once, in their order)."""
    if not owners:
        return []
    if survivors is None:
        survivors = activities.survivors_of(conn, owners)
    return list(dict.fromkeys(survivors.get(owner, owner) for owner in owners))


def _quoted_numbers(activity: Any) -> list[tuple[str, str]]:
    """The numbers a customer may quote for an activity: an order's ``#1001``, an invoice's."""
    if isinstance(activity, Order):
        return [("order_number", v) for v in {activity.number, activity.title} if v]
    if isinstance(activity, Invoice):
        return [("invoice_number", activity.number)] if activity.number else []
    return []


def profiles_for_owners(conn: Any, owners: list[RecordKey]) -> set[str]:
    """The profiles of these owner keys; an owner that is itself an activity (a dispute's
    charge) counts through its own owners, one hop."""
    direct = profiles.profiles_of_keys(conn, owners)
    found = set(direct.values())
    indirect = [owner for owner in set(owners) if owner not in direct]
    if indirect:
        parents = activities.owners_of_keys(conn, indirect)
        found |= set(profiles.profiles_of_keys(conn, _flat(parents.values())).values())
    return found


def _flat(groups: Iterable[list[RecordKey]]) -> list[RecordKey]:
    return [item for group in groups for item in group]
