"""Erase a person: every row about them, then the file itself compacted so nothing lingers.

``erase_profiles`` (inside one transaction) deletes the profile's records (raw payloads, mapped
blobs) and, through the foreign keys, their identifiers, memberships, activity index, quoted
numbers and identity features, edges, decisions and review items; the records of the
activities those records own (orders, invoices, tickets: the person's data too, one hop further
for a dispute's charge); the profile, its aliases, snapshot, queued rebuild, cached LLM
summaries and identity links; rejected raw payloads and webhook inbox bodies that mention one of
the person's emails, phones or record ids, or that named one of their records when applied
(``inbox.note_records``); and blanks the profile id of the read audit rows. Before any of
that, the identity engine resolves the person's records as removed, so the records they held
apart are clustered as ``resolve --all`` would (and rebuilt with the configured links). The
person's strong identifiers go on the suppression list (``suppression.py``), except an email or
phone someone else's record holds too (a household landline) and the keys of activities someone
else owns too (a deal with two contacts): those are the other person's as well. Their emails are
also suppressed by the mailbox they reach, as the lookup reads them (``unowned``), and the
activities no one's record owns that name their emails or phones go too (a guest checkout).

``compact`` then runs after the commit: with ``PRAGMA secure_delete`` (set at connection open)
freed cells and pages were overwritten with zeros; ``VACUUM`` rewrites the file (content left by
writes before secure_delete existed) and ``wal_checkpoint(TRUNCATE)`` empties the WAL, whose old
frames would otherwise still hold the deleted pages.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable

import msgspec
from ulid import ULID

from context_service.errors import ProfileNotFound, StoreError
from context_service.identity.engine import Engine, PersonChange
from context_service.identity.pairs import Thresholds
from context_service.models import AccessRequest, RecordKey
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.materialize import materialize
from context_service.store import Store, activities, profiles
from context_service.store import inbox as inbox_store
from context_service.store.keys import chunks, marks
from context_service.trust.audit import anonymize
from context_service.trust.suppression import (
    Guard,
    email_forms,
    keyed_digest,
    record_value,
    suppress,
)
from context_service.trust.unowned import erase_unowned, unshared_mailboxes

_MIN_ID_NEEDLE = 6
_CHUNK = 500  # values per IN list
# The emails and phones of some records. ``+kind``: SQLite would otherwise search the
# identifier key by its ``kind`` prefix, every email and phone of the store, instead of the
# record index (tests/store/test_query_plans.py).
CONTACT_IDENTIFIERS_SQL = (
    "SELECT kind, value, strong FROM identifiers WHERE +kind IN ('email', 'phone') "
    "AND record_id IN ({marks})"
)


class ErasureReport(msgspec.Struct):
    """What one erasure removed (counts only: the report holds nothing personal)."""

    erasure_id: str
    profile_ids: list[str]
    records: int
    suppressed: int
    inbox_scrubbed: int
    rejected_records: int
    audit_rows: int
    others_rebuilt: int


class Needles(msgspec.Struct):
    """What marks free text as being about the person: lower-cased strings, phone digits."""

    texts: set[str]
    digits: set[str]
    numbers: set[str] = set()  # numeric record ids, as JSON writes them: unquoted numbers
    # The person's records (``record_value``): the webhook deliveries that named one of them
    # (``inbox.note_records``), however short its id, are about the person too.
    records: set[str] = set()

    def found_in(self, raw: bytes | str) -> bool:
        """Whether ``raw`` mentions one of the needles."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        lowered = text.lower()
        if any(needle in lowered for needle in self.texts):
            return True
        if any(re.search(rf'(?<![\w."]){n}(?![\w."])', text) for n in self.numbers):
            return True
        digits = re.sub(r"\D", "", text) if self.digits else ""
        return any(needle in digits for needle in self.digits)


class _Reach(msgspec.Struct):
    live: str
    aliases: list[str]
    members: list[int]  # now: the engine resolves them as removed
    people: list[int]  # and those that left while they belonged here
    keys: list[RecordKey]  # of ``people``
    owned: list[int]
    record_ids: list[int]


class _Plan(msgspec.Struct):
    profile_ids: list[str]
    members: list[int]
    record_ids: list[int]
    keys: list[RecordKey]
    entries: list[tuple[str, str]]
    others: set[str]
    needles: Needles


def _ids(conn: sqlite3.Connection, sql: str, values: list[int] | list[str]) -> list[object]:
    found: list[object] = []
    for chunk in chunks(values, _CHUNK):
        found += conn.execute(sql.format(marks=marks(chunk)), chunk).fetchall()
    return found


def _reach(conn: sqlite3.Connection, profile_id: str) -> _Reach:
    """The live profile an id or alias names, its aliases, members and the records going."""
    live = profiles.canonical_id(conn, profile_id)
    if live is None:
        raise ProfileNotFound(f"no profile {profile_id}")
    aliases = [
        str(r[0])
        for r in conn.execute("SELECT alias FROM profile_aliases WHERE profile_id = ?", (live,))
    ]
    # Records their source deleted while they belonged here are the person's too (a
    # tombstone with the vendor's id, and the orders it owned).
    members = profiles.members(conn, live)
    people = members + profiles.departed_from(conn, [live, *aliases])
    keys = _keys(conn, people)
    owned = owned_records(conn, keys)
    all_ids = sorted(set(people) | set(owned))
    return _Reach(live, aliases, members, people, keys, owned, all_ids)


def _plans(conn: sqlite3.Connection, profile_ids: Iterable[str]) -> list[_Plan]:
    """The plans of these people, worked out before anything is deleted: an email or phone
    two of them hold is theirs only, and goes on the suppression list."""
    reaches: dict[str, _Reach] = {}
    for profile_id in profile_ids:
        reach = _reach(conn, profile_id)
        reaches.setdefault(reach.live, reach)
    erased = {record_id for reach in reaches.values() for record_id in reach.record_ids}
    return [_plan(conn, reach, erased) for reach in reaches.values()]


def _plan(conn: sqlite3.Connection, reach: _Reach, erased: set[int]) -> _Plan:
    all_keys = _keys(conn, reach.record_ids)
    found = _ids(conn, CONTACT_IDENTIFIERS_SQL, reach.people)
    held = [(str(row[0]), str(row[1]), bool(row[2])) for row in found]  # type: ignore[index]
    idents = _not_shared(conn, held, erased)
    entries = [(k, v) for k, v, strong in idents if strong]
    entries += unshared_mailboxes(conn, [v for k, v in entries if k == "email"], erased)
    shared = _shared_activities(conn, reach.owned, set(all_keys))
    entries += [("record", record_value(k)) for k in all_keys if k not in shared]
    others = _other_owners(conn, reach.owned, set(reach.keys)) - {reach.live}
    needles = _needles(idents, reach.keys)
    needles.records = {record_value(k) for k in all_keys if k not in shared}
    ids = [reach.live, *reach.aliases]
    return _Plan(ids, reach.members, reach.record_ids, all_keys, entries, others, needles)


def _not_shared(
    conn: sqlite3.Connection, idents: list[tuple[str, str, bool]], erased: set[int]
) -> list[tuple[str, str, bool]]:
    """The person's emails and phones that no one else's record holds too.

    A household landline or a family mailbox is also the other person's: suppressing it would
    drop their later updates (and put their own record keys on the list), and scrubbing text
    by it would blank their webhook deliveries. Their records stay, and so does the value."""
    kept: list[tuple[str, str, bool]] = []
    for kind, value, strong in idents:
        holders = conn.execute(
            "SELECT record_id FROM identifiers WHERE kind = ? AND value = ?", (kind, value)
        )
        if all(int(row[0]) in erased for row in holders):
            kept.append((kind, value, strong))
    return kept


def _needles(idents: list[tuple[str, str, bool]], keys: list[RecordKey]) -> Needles:
    texts = {text for k, v, _ in idents if k == "email" for text in email_texts(v)}
    texts |= {f'"{k.external_id.lower()}"' for k in keys if len(k.external_id) >= _MIN_ID_NEEDLE}
    digits = {re.sub(r"\D", "", v)[-10:] for k, v, _ in idents if k == "phone"}
    numbers = {
        k.external_id
        for k in keys
        if k.external_id.isdigit() and len(k.external_id) >= _MIN_ID_NEEDLE
    }
    return Needles(texts, {d for d in digits if len(d) >= 7}, numbers)


def needles_of_keys(keys: Iterable[RecordKey]) -> Needles:
    """What marks text and deliveries as being about these records: their ids (long enough
    not to be mistaken for another number) and the deliveries that named them."""
    wanted = list(keys)
    needles = _needles([], wanted)
    needles.records = {record_value(k) for k in wanted}
    return needles


def email_texts(email: str) -> set[str]:
    """How free text may write this address, lower-cased: each of its forms (an ``xn--``
    domain, decomposed accents: ``suppression.email_forms``), also as JSON escapes them
    (``m\\u00fcnchen.de``)."""
    forms = {email.lower(), *email_forms(email)}
    return forms | {json.dumps(form)[1:-1].lower() for form in forms}


def _keys(conn: sqlite3.Connection, record_ids: list[int]) -> list[RecordKey]:
    rows = _ids(
        conn, "SELECT source, kind, external_id FROM records WHERE id IN ({marks})", record_ids
    )
    return [RecordKey(*row) for row in rows]  # type: ignore[misc]


def owned_records(conn: sqlite3.Connection, owners: list[RecordKey]) -> list[int]:
    """Activity records owned by these keys, and those owned by them in turn (one hop)."""
    first = [i for ids in activities.activities_by_owner(conn, owners).values() for i in ids]
    second_keys = _keys(conn, first)
    second = [i for ids in activities.activities_by_owner(conn, second_keys).values() for i in ids]
    return sorted(set(first) | set(second))


def _shared_activities(
    conn: sqlite3.Connection, owned: list[int], mine: set[RecordKey]
) -> set[RecordKey]:
    """Keys of the activities someone else owns too (a deal with two contacts).

    They go with the person (they name her), but their keys are not suppressed: the other
    owner gets the activity back once the vendor stops naming her, while a copy that still
    names her is blocked by her own record key as its owner."""
    shared = [record_id for record_id in owned if set(activities.owners_of(conn, record_id)) - mine]
    return set(_keys(conn, shared))


def _other_owners(conn: sqlite3.Connection, owned: list[int], mine: set[RecordKey]) -> set[str]:
    """Profiles of anyone else who shares one of these activities (rebuilt afterwards)."""
    owners = {o for record_id in owned for o in activities.owners_of(conn, record_id)} - mine
    return set(profiles.profiles_of_keys(conn, owners).values())


def erase_profiles(
    conn: sqlite3.Connection,
    profile_ids: Iterable[str],
    *,
    requested_by: str,
    reason: str,
    now: str,
    region: str,
    links: DashboardLinks | None = None,
    thresholds: Thresholds | None = None,
) -> ErasureReport:
    """Erase these people (ids or aliases) inside the caller's transaction.

    Their person records are first resolved as removed (``thresholds``: the configured ones),
    so the records they held apart are clustered as ``resolve --all`` would cluster what is
    left; every profile that changes is rebuilt with ``links``, the configured dashboard
    links (pass them: without, the rebuilt snapshots lose their members' vendor links)."""
    erasure_id = f"era_{ULID()}"
    report = ErasureReport(erasure_id, [], 0, 0, 0, 0, 0, 0)
    needles = Needles(set(), set(), set())
    plans = _plans(conn, profile_ids)
    others = _resolve_removed(conn, plans, region, now, thresholds)
    for plan in plans:
        _erase(conn, plan, report)
        report.suppressed += suppress(conn, plan.entries, erasure_id, now)
        others |= plan.others
        needles.texts |= plan.needles.texts
        needles.digits |= plan.needles.digits
        needles.numbers |= plan.needles.numbers
        needles.records |= plan.needles.records
    contacts = [entry for plan in plans for entry in plan.entries]
    report.records += erase_unowned(conn, contacts, erasure_id, now, region)
    report.inbox_scrubbed, report.rejected_records = scrub_text(conn, needles)
    conn.execute(
        "INSERT INTO erasures (id, requested_by, reason, erased_at, records, identifiers) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (erasure_id, requested_by, reason, now, report.records, report.suppressed),
    )
    erased = set(report.profile_ids)
    live_others = sorted(p for p in others - erased if profiles.canonical_id(conn, p) == p)
    # Their snapshots change (the erased person leaves them): a new version each, so nothing
    # keyed by the old one (an LLM summary naming her) is served again, and those go now.
    for other in live_others:
        profiles.bump_version(conn, other, now)
    for chunk in chunks(live_others, _CHUNK):
        conn.execute(f"DELETE FROM llm_summaries WHERE profile_id IN ({marks(chunk)})", chunk)
    report.others_rebuilt = materialize(conn, live_others, links or DashboardLinks(), now, region)
    return report


def _resolve_removed(
    conn: sqlite3.Connection,
    plans: list[_Plan],
    region: str,
    now: str,
    thresholds: Thresholds | None,
) -> set[str]:
    """Resolve the erased people's member records as removed, all in one engine pass (one
    batch, so no record of theirs is clustered with a neighbour on the way): the records they
    held apart (a shared email with a different name) are clustered again, and their review
    items go. Return the profiles that changed."""
    members = sorted({record_id for plan in plans for record_id in plan.members})
    rows = _ids(
        conn, "SELECT id, source, kind, external_id FROM records WHERE id IN ({marks})", members
    )
    changes = [
        PersonChange(int(row[0]), RecordKey(*row[1:]), facet=None)  # type: ignore[index]
        for row in rows
    ]
    return Engine(conn, region, now, thresholds).resolve(changes)


def _erase(conn: sqlite3.Connection, plan: _Plan, report: ErasureReport) -> None:
    ids = plan.profile_ids
    report.audit_rows += anonymize(conn, ids)
    for sql in (
        "DELETE FROM llm_summaries WHERE profile_id IN ({marks})",
        "DELETE FROM snapshots WHERE profile_id IN ({marks})",
        "DELETE FROM snapshot_queue WHERE profile_id IN ({marks})",
        "DELETE FROM identity_links WHERE profile_id IN ({marks})",
        "DELETE FROM profile_aliases WHERE profile_id IN ({marks}) OR alias IN ({marks})",
    ):
        args = [*ids, *ids] if sql.count("{marks}") == 2 else ids
        conn.execute(sql.format(marks=marks(ids)), args)
    # LLM summary leases are keyed by a digest of a summary key, which names a profile, so the
    # erased one's cannot be told apart: every lease whose call is over goes (a call still
    # running ends its own, and the next claim of any summary sweeps what is left).
    conn.execute("DELETE FROM llm_summary_leases WHERE done = 1 OR expires_at < ?", (time.time(),))
    for chunk in chunks(plan.record_ids, _CHUNK):
        deleted = conn.execute(f"DELETE FROM records WHERE id IN ({marks(chunk)})", chunk)
        report.records += deleted.rowcount
    conn.execute("DELETE FROM profiles WHERE id = ?", (ids[0],))
    report.profile_ids += ids


BLANKED_BY_ERASURE = (
    "blanked by an erasure: the delivery named an erased person (a sync brings back any other "
    "record's change it carried)"
)


def scrub_text(conn: sqlite3.Connection, needles: Needles) -> tuple[int, int]:
    """Blank inbox bodies, delete rejected raw payloads and clear the rejected payloads kept
    beside good records that mention the person; also clear sync-run notes that do, the sync
    cursors that do, and the contact details and vendor ids of their recorded access requests
    (``forget_access_requests``). Returns (inbox rows, rejected payloads)."""
    if not (needles.texts or needles.digits or needles.numbers or needles.records):
        return 0, 0
    inbox = sorted(
        {
            int(row[0])
            for row in conn.execute("SELECT id, body, headers, error FROM webhook_inbox")
            if any(needles.found_in(part or b"") for part in row[1:])
        }
        | inbox_store.naming(conn, needles.records)
    )
    # A pending one cannot be applied any more: it is settled as failed, saying why, so the
    # applier does not report an empty body as "not JSON" and the purge can take it.
    conn.executemany(
        "UPDATE webhook_inbox SET body = X'', headers = '{}', error = ?, "
        "status = CASE status WHEN 'pending' THEN 'failed' ELSE status END WHERE id = ?",
        [(BLANKED_BY_ERASURE, i) for i in inbox],
    )
    rejected = [
        int(row[0])
        for row in conn.execute("SELECT id, payload, error FROM records WHERE mapped IS NULL")
        if any(needles.found_in(part or "") for part in row[1:])
    ]
    conn.executemany("DELETE FROM records WHERE id = ?", [(i,) for i in rejected])
    kept = [
        int(row[0])
        for row in conn.execute(
            "SELECT id, rejected_payload FROM records "
            "WHERE error IS NOT NULL AND rejected_payload IS NOT NULL"  # in records_errors
        )
        if needles.found_in(row[1])
    ]
    conn.executemany(
        "UPDATE records SET rejected_payload = NULL, error = NULL WHERE id = ?",
        [(i,) for i in kept],
    )
    runs = [
        int(row[0])
        for row in conn.execute("SELECT id, note, error FROM sync_runs")
        if any(needles.found_in(part or "") for part in row[1:])
    ]
    conn.executemany(
        "UPDATE sync_runs SET note = NULL, error = NULL WHERE id = ?", [(i,) for i in runs]
    )
    _forget_cursors(conn, needles)
    forget_access_requests(conn, needles)
    return len(inbox), len(rejected) + len(kept)


ERASED_ID = "erased:"  # before the digest that replaces a vendor id in an access request


def forget_access_requests(conn: sqlite3.Connection, needles: Needles) -> int:
    """Keep no identifier of the person in their recorded access requests (Shopify
    ``customers/data_request``); return how many requests were about them.

    A request is about them when it names one of their records (the customer, or an order
    it asked about) or holds one of their emails or phones. Its email and phone become
    ``NULL``; its vendor ids, the customer's, the orders' and the request's own, become
    ``erased:`` and the HMAC digest the suppression list keeps of them (``suppression``: of
    ``record`` and ``source/kind/external_id`` for a record, so the customer's digest is her
    suppression entry and names her erasure; of ``access_request`` and ``source/request_id``
    for the request). What shows the request was received and dealt with stays: the shop
    (``account``), the kind of record, when it arrived, the delivery, its status, and the
    number of records it asked about. An open request stays open: it is answered, as one that
    arrives after the erasure is, with "nothing stored about them"."""
    rows = conn.execute(
        "SELECT id, source, request_id, kind, external_id, email, phone, records "
        "FROM access_requests"
    ).fetchall()
    about = [row for row in rows if _about_person(row, needles)]
    if not about:
        return 0
    updates = []
    for row_id, source, request_id, kind, external_id, _email, _phone, records in about:
        asked = [
            [str(k), erased_record_id(conn, source, str(k), str(ext))]
            for k, ext in msgspec.json.decode(records)
        ]
        updates.append(
            (
                None if request_id is None else erased_request_id(conn, source, request_id),
                erased_record_id(conn, source, kind, external_id),
                msgspec.json.encode(asked).decode(),
                row_id,
            )
        )
    conn.executemany(
        "UPDATE access_requests SET request_id = ?, external_id = ?, records = ?, email = NULL, "
        "phone = NULL WHERE id = ?",
        updates,
    )
    return len(updates)


def erased_record_id(conn: sqlite3.Connection, source: str, kind: str, external_id: str) -> str:
    """What an access request keeps in place of an erased person's record id: ``erased:`` and
    the suppression list's digest of the record (the customer's is her suppression entry)."""
    if external_id.startswith(ERASED_ID):
        return external_id
    value = record_value(RecordKey(source, kind, external_id))
    return ERASED_ID + keyed_digest(conn, "record", value)


def erased_request_id(conn: sqlite3.Connection, source: str, request_id: str) -> str:
    """What an access request about an erased person keeps in place of the vendor's request
    id: a keyed digest, which an operator holding the real id can still find it by."""
    if request_id.startswith(ERASED_ID):
        return request_id
    return ERASED_ID + keyed_digest(conn, "access_request", f"{source}/{request_id}")


def erased_request(
    conn: sqlite3.Connection, source: str, request: AccessRequest, region: str
) -> AccessRequest:
    """A request about an erased person without the email and phone it came with, and with
    its vendor ids as an erasure leaves them (``erasure.forget_access_requests``): the answer is
    "nothing stored about them", and keeping her details to say so would store them again."""
    guard = Guard.load(conn, region)
    key = RecordKey(source, request.kind, request.external_id)
    contacts = ([request.email] if request.email else [], [request.phone] if request.phone else [])
    if guard is None or not guard.names_erased(key, *contacts):
        return request
    return msgspec.structs.replace(
        request,
        external_id=erased_record_id(conn, source, request.kind, request.external_id),
        request_id=(
            None
            if request.request_id is None
            else erased_request_id(conn, source, request.request_id)
        ),
        records=[
            (kind, erased_record_id(conn, source, kind, ext)) for kind, ext in request.records
        ],
        email=None,
        phone=None,
    )


def _about_person(row: tuple[object, ...], needles: Needles) -> bool:
    """Whether an ``access_requests`` row (id, source, request_id, kind, external_id, email,
    phone, records) names one of the person's records, emails or phones."""
    source, kind, external_id = str(row[1]), str(row[3]), str(row[4])
    named = [(kind, external_id)]
    named += [(str(k), str(ext)) for k, ext in msgspec.json.decode(str(row[7]))]
    if any(record_value(RecordKey(source, k, ext)) in needles.records for k, ext in named):
        return True
    texts = (str(row[5] or ""), str(row[6] or ""), *(f'"{ext}"' for _, ext in named))
    return any(needles.found_in(text) for text in texts)


def _forget_cursors(conn: sqlite3.Connection, needles: Needles) -> None:
    """Delete the sync cursors that name the person: an unfinished backfill keeps the last
    listed object's id (Stripe's ``starting_after``, Shopify's last customer) until it ends.
    That stream's next run starts from the beginning; the suppression list keeps the person
    out of it, and ingest is idempotent for everyone else."""
    named = [
        (str(row[0]), str(row[1]))
        for row in conn.execute("SELECT source, stream, cursor FROM sync_cursors")
        if needles.found_in(row[2] or "")
    ]
    conn.executemany("DELETE FROM sync_cursors WHERE source = ? AND stream = ?", named)


_TRUNCATE_TRIES = 200
_TRUNCATE_PAUSE_S = 0.05


def compact(store: Store, *, vacuum: bool = True) -> None:
    """After an erasure commits: rewrite the file (``VACUUM``) and empty the WAL.

    A ``TRUNCATE`` checkpoint fails at once (busy) while another connection checkpoints or
    reads an old snapshot, and the erased rows would stay in the WAL; it is retried for up to
    about ten seconds, and ``StoreError`` is raised if the WAL still could not be emptied.
    """
    with store.maintenance() as conn:
        if vacuum:
            conn.execute("VACUUM")
        for _ in range(_TRUNCATE_TRIES):
            busy, _frames, _copied = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            time.sleep(_TRUNCATE_PAUSE_S)
    raise StoreError(
        "the erasure is committed but the WAL could not be emptied (another connection kept it "
        "busy); run the erasure's compaction again"
    )


def erase_profile(
    store: Store,
    profile_id: str,
    *,
    requested_by: str,
    reason: str,
    now: str,
    region: str,
    links: DashboardLinks | None = None,
    thresholds: Thresholds | None = None,
    vacuum: bool = True,
) -> ErasureReport:
    """Erase one person (an id or alias) in one transaction, then compact the file."""
    with store.transaction() as conn:
        report = erase_profiles(
            conn,
            [profile_id],
            requested_by=requested_by,
            reason=reason,
            now=now,
            region=region,
            links=links,
            thresholds=thresholds,
        )
    compact(store, vacuum=vacuum)
    return report
