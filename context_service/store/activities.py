"""The activity index: which records (orders, invoices, tickets...) belong to which owner record."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from context_service.models import RecordKey
from context_service.store.keys import grouped, marks
from context_service.store.records import decode_mapped

MERGE_HOPS = 8  # vendor merges followed from one owner, at most (a cycle is not followed forever)


def replace_owners(
    conn: sqlite3.Connection,
    record_id: int,
    owners: Iterable[RecordKey],
    *,
    had_owners: bool = True,
) -> None:
    """Make the index hold exactly these owners for an activity record.

    ``had_owners=False`` (a record seen for the first time) skips clearing old entries.
    """
    if had_owners:
        conn.execute("DELETE FROM activities WHERE record_id = ?", (record_id,))
    conn.executemany(
        "INSERT OR IGNORE INTO activities (owner_source, owner_kind, owner_external_id, record_id) "
        "VALUES (?, ?, ?, ?)",
        [(o.source, o.kind, o.external_id, record_id) for o in owners],
    )


def add_owners(conn: sqlite3.Connection, rows: Iterable[tuple[int, Iterable[RecordKey]]]) -> None:
    """Index the owners of activity records that have no index entries yet, several records
    in one statement: ``replace_owners(..., had_owners=False)`` for each ``(record_id,
    owners)``."""
    conn.executemany(
        "INSERT OR IGNORE INTO activities (owner_source, owner_kind, owner_external_id, record_id) "
        "VALUES (?, ?, ?, ?)",
        [
            (owner.source, owner.kind, owner.external_id, record_id)
            for record_id, owners in rows
            for owner in owners
        ],
    )


def transfer_owner(conn: sqlite3.Connection, old: RecordKey, new: RecordKey) -> int:
    """Give every activity owned by ``old`` to ``new`` (a vendor merged the two records);
    return how many activities moved. An activity indexed later that still names ``old`` goes
    to ``new`` as it is written (``survivors_of``)."""
    moved = conn.execute(
        "UPDATE OR IGNORE activities SET owner_source = ?, owner_kind = ?, owner_external_id = ? "
        "WHERE owner_source = ? AND owner_kind = ? AND owner_external_id = ?",
        (new.source, new.kind, new.external_id, old.source, old.kind, old.external_id),
    ).rowcount
    conn.execute(  # rows left behind already had the new owner as well
        "DELETE FROM activities "
        "WHERE owner_source = ? AND owner_kind = ? AND owner_external_id = ?",
        (old.source, old.kind, old.external_id),
    )
    return int(moved)


def survivors_of(
    conn: sqlite3.Connection, owners: Iterable[RecordKey]
) -> dict[RecordKey, RecordKey]:
    """For each of these owner keys stored as a vendor merge's tombstone (deleted, naming the
    record of its source and kind it was ``merged_into``), the record its merges end in (b
    merged into a, a into c: c), ``MERGE_HOPS`` merges at most; owners merged into nothing
    are absent. An activity written after the merge under such an owner (a sync page read
    before the merge, committed after it) belongs where ``transfer_owner`` moved the owner's
    earlier activities, whatever order the two arrived in."""
    wanted = set(owners)
    step: dict[RecordKey, RecordKey] = {}
    asked, frontier = set(wanted), wanted
    for _ in range(MERGE_HOPS):
        found = _merged_into(conn, frontier)
        step.update(found)
        frontier = set(found.values()) - asked
        asked |= frontier
        if not frontier:
            break
    ends = {key: _end_of(step, key) for key in wanted if key in step}
    return {key: end for key, end in ends.items() if end != key}


def _merged_into(conn: sqlite3.Connection, keys: Iterable[RecordKey]) -> dict[RecordKey, RecordKey]:
    """The record each of these keys names as its survivor, for those stored as a vendor
    merge's tombstone."""
    found: dict[RecordKey, RecordKey] = {}
    for source, kind, ids in grouped(keys):
        rows = conn.execute(
            "SELECT external_id, mapped FROM records WHERE source = ? AND kind = ? "
            f"AND external_id IN ({marks(ids)}) AND deleted = 1",
            [source, kind, *ids],
        )
        for external_id, blob in rows:
            mapped = decode_mapped(blob if isinstance(blob, bytes) else None)
            if mapped is not None and mapped.merged_into:
                key = RecordKey(source, kind, str(external_id))
                found[key] = RecordKey(source, kind, mapped.merged_into)
    return found


def _end_of(step: dict[RecordKey, RecordKey], key: RecordKey) -> RecordKey:
    """Where following ``step`` from ``key`` ends (a cycle, which no vendor should send, stops
    where it closes)."""
    seen, at = {key}, step[key]
    while at in step and step[at] not in seen:
        seen.add(at)
        at = step[at]
    return at


def activities_by_owner(
    conn: sqlite3.Connection, owners: Iterable[RecordKey]
) -> dict[RecordKey, list[int]]:
    """For each of these owner keys, the record ids of the activities it owns (id order)."""
    found: dict[RecordKey, list[int]] = {}
    for source, kind, ids in grouped(owners):
        rows = conn.execute(
            "SELECT owner_external_id, record_id FROM activities "
            f"WHERE owner_source = ? AND owner_kind = ? AND owner_external_id IN ({marks(ids)})",
            [source, kind, *ids],
        )
        for external_id, record_id in rows:
            found.setdefault(RecordKey(source, kind, str(external_id)), []).append(int(record_id))
    for record_ids in found.values():
        record_ids.sort()
    return found


def owners_of_keys(
    conn: sqlite3.Connection, keys: Iterable[RecordKey]
) -> dict[RecordKey, list[RecordKey]]:
    """For each of these activity record keys, the keys of its owners (absent if none)."""
    found: dict[RecordKey, list[RecordKey]] = {}
    for source, kind, ids in grouped(keys):
        rows = conn.execute(
            "SELECT r.external_id, a.owner_source, a.owner_kind, a.owner_external_id "
            "FROM records r JOIN activities a ON a.record_id = r.id "
            f"WHERE r.source = ? AND r.kind = ? AND r.external_id IN ({marks(ids)})",
            [source, kind, *ids],
        )
        for external_id, *owner in rows:
            found.setdefault(RecordKey(source, kind, str(external_id)), []).append(
                RecordKey(*owner)
            )
    return found


def owners_of(conn: sqlite3.Connection, record_id: int) -> list[RecordKey]:
    """The owner keys of an activity record."""
    rows = conn.execute(
        "SELECT owner_source, owner_kind, owner_external_id FROM activities WHERE record_id = ?",
        (record_id,),
    )
    return [RecordKey(*row) for row in rows]


def reference_value(raw: str) -> str:
    """An order or invoice number as customers type it: case, spaces and a leading ``#`` ignored."""
    return "".join(raw.split()).lstrip("#").casefold()


def replace_refs(
    conn: sqlite3.Connection, record_id: int, refs: Iterable[tuple[str, str]], *, had_refs: bool
) -> None:
    """Index the numbers a customer may quote for an activity (``order_number``, ...)."""
    if had_refs:
        conn.execute("DELETE FROM activity_refs WHERE record_id = ?", (record_id,))
    conn.executemany(
        "INSERT OR IGNORE INTO activity_refs (kind, value, record_id) VALUES (?, ?, ?)",
        [(kind, reference_value(value), record_id) for kind, value in refs if value.strip()],
    )


def add_refs(
    conn: sqlite3.Connection, rows: Iterable[tuple[int, Iterable[tuple[str, str]]]]
) -> None:
    """Index the quoted numbers of activity records that have none indexed yet, several records
    in one statement: ``replace_refs(..., had_refs=False)`` for each ``(record_id, refs)``."""
    conn.executemany(
        "INSERT OR IGNORE INTO activity_refs (kind, value, record_id) VALUES (?, ?, ?)",
        [
            (kind, reference_value(value), record_id)
            for record_id, refs in rows
            for kind, value in refs
            if value.strip()
        ],
    )


def records_with_ref(conn: sqlite3.Connection, kind: str, raw: str) -> list[int]:
    """Activity records indexed under this quoted number."""
    rows = conn.execute(
        "SELECT record_id FROM activity_refs WHERE kind = ? AND value = ?",
        (kind, reference_value(raw)),
    )
    return [int(row[0]) for row in rows]
