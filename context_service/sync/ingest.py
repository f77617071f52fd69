"""Ingest vendor payloads: map -> store -> resolve -> snapshot, one transaction per batch.

A batch's records, identity decisions and rebuilt snapshots commit together, so a crash leaves
the store as it was before the batch. Mappers are passed in (``Mappers``); this module never
imports an integration.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

import msgspec

from context_service.errors import MappingError
from context_service.identity.carry import carry_all
from context_service.identity.engine import Engine, PersonChange
from context_service.identity.pairs import Thresholds
from context_service.models import Mapped, RecordKey, VendorObject
from context_service.snapshot.background import BackgroundSnapshots
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.materialize import materialize
from context_service.store import Store, activities, aliases, profiles, snapshots
from context_service.store.records import (
    StoredState,
    stored_states,
    upsert_record,
)
from context_service.sync.account_owners import (
    index_account_owner,
    is_reference,
    owner_ref,
    profiles_owned_by,
)
from context_service.sync.activity_index import (
    _NewActivities,
    index_activity,
    merged_owners,
    profiles_for_owners,
)
from context_service.sync.merge_wait import sleep_until_survivor, survivors_arrived
from context_service.sync.unbuilt_index import build_unbuilt_index
from context_service.trust.suppression import Guard

Mapper = Callable[[str, Mapping[str, Any]], Mapped]
Mappers = Mapping[str, Mapper]

_encode = msgspec.json.Encoder(order="deterministic").encode


class RawPayload(msgspec.Struct, frozen=True):
    """One vendor object as received: which source and kind, and the decoded JSON.

    ``observed_at`` stands in for ``updated_at`` when the vendor's object has none (Stripe); a
    ``deleted`` payload is a deletion notice that may carry only the id; ``merged_into`` names
    the record of the same source and kind that the vendor merged this one into; an
    ``only_if_stored`` deletion changes nothing when the record was never stored (no tombstone),
    nor, ``from_lookup`` (our own look-up answered 404), when it is stored deleted already.
    """

    source: str
    kind: str
    payload: dict[str, Any]
    observed_at: str | None = None
    deleted: bool = False
    merged_into: str | None = None
    only_if_stored: bool = False
    from_lookup: bool = False


def from_vendor(source: str, obj: VendorObject, observed_at: str | None = None) -> RawPayload:
    """The payload ingest takes for a connector's object, dated ``observed_at`` when given (a
    webhook dates a deletion notice by its delivery), else by the object's own."""
    return RawPayload(
        source,
        obj.kind,
        obj.payload,
        observed_at or obj.observed_at,
        obj.deleted,
        obj.merged_into,
        obj.only_if_stored,
        obj.from_lookup,
    )


class Rejection(msgspec.Struct):
    """A payload that could not be mapped; it is stored raw all the same."""

    source: str
    kind: str
    external_id: str
    reason: str


class IngestReport(msgspec.Struct):
    """Counts of what a batch did."""

    seen: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    profiles_changed: int = 0
    suppressed: int = 0  # payloads about an erased person (``trust.suppression``), skipped
    snapshot_seconds: float = 0.0  # of the batch's time, rebuilding the changed snapshots
    resolve_seconds: float = 0.0  # of the batch's time, in identity resolution (the engine)
    rejections: list[Rejection] = []

    def add(self, other: IngestReport) -> None:
        """Accumulate another batch's counts into this report."""
        for field in (
            "seen",
            "inserted",
            "updated",
            "unchanged",
            "stale",
            "rejected",
            "profiles_changed",
            "suppressed",
            "snapshot_seconds",
            "resolve_seconds",
        ):
            setattr(self, field, getattr(self, field) + getattr(other, field))
        self.rejections.extend(other.rejections)


class IngestContext(msgspec.Struct, frozen=True):
    """What ingestion needs besides the store: mappers, phone region, dashboard links."""

    mappers: Mappers
    region: str = "US"
    links: DashboardLinks = DashboardLinks()
    thresholds: Thresholds = Thresholds()


def utc_now() -> str:
    """The current time as ISO-8601 UTC, to the second (formatted once per second: a webhook's
    call asks for it several times, and ``strftime`` is a measurable part of a small call)."""
    return _format_second(int(time.time()))


@lru_cache(maxsize=1)
def _format_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


def ingest_batch(
    store: Store,
    batch: Iterable[RawPayload | Prepared],
    ctx: IngestContext,
    *,
    defer_snapshots: bool = False,
    background: BackgroundSnapshots | None = None,
) -> IngestReport:
    """Store, resolve and snapshot one batch of payloads in a single transaction.

    With ``defer_snapshots`` the changed profiles are queued (in the same transaction) instead
    of rebuilt; ``drain_snapshots`` rebuilds them later, once each, however many pages touched
    them. A backfill uses this; webhooks and small batches rebuild at once. With
    ``background`` (deferred only) the queued profiles are also handed to a worker process once
    the batch commits, and the snapshots it finished since the last batch are stored. An item
    already ``prepare``d (``sync.ties`` maps each page once to find ties) is not mapped again.
    """
    report = IngestReport()
    now = utc_now()
    prepared = prepared_all(batch, ctx)
    nested = store.in_transaction
    with store.transaction() as conn:
        build_unbuilt_index(conn, ctx.region, now, ctx.thresholds)  # else old customers unseen
        touched = _Touched(Guard.load(conn, ctx.region))
        if touched.guard is not None:  # before any activity of the batch is checked
            for item in prepared:
                if item.mapped is not None:
                    touched.guard.learn(item.mapped, now)
        known = stored_states(conn, [p.key for p in prepared])
        touched.survivors = merged_owners(conn, [p.mapped for p in prepared])
        for item in prepared:
            report.seen += 1
            _ingest_one(conn, item, now, report, touched, known)
        touched.new_activities.write(conn)  # before anything below reads the index
        resolving = time.perf_counter()
        # A survivor that arrives after its merge: the merge is followed again (``merge_wait``).
        merges = SourceMerges(conn, touched.merges + survivors_arrived(conn, touched.people), now)
        # People are resolved together, then activity owners looked up once, after them.
        engine = Engine(conn, ctx.region, now, ctx.thresholds)
        dirty = engine.resolve(touched.people)
        dirty |= merges.finish()
        if merges.rebind:  # a decision the survivor took over binds now, not at its next change
            dirty |= engine.recluster(sorted(merges.rebind))
        report.resolve_seconds = time.perf_counter() - resolving
        dirty |= profiles_for_owners(conn, touched.owners)
        dirty |= profiles_owned_by(conn, touched.account_owners)
        bump_versions(conn, dirty, now)
        if defer_snapshots or background is not None:
            snapshots.enqueue(conn, dirty, now)
            report.profiles_changed = len(dirty)
            if background is not None:
                background.store_ready(conn)
                background.hold(dirty)
        else:
            started = time.perf_counter()
            report.profiles_changed = materialize(conn, dirty, ctx.links, now, ctx.region)
            report.snapshot_seconds = time.perf_counter() - started
    if background is not None and not nested:
        background.release(now)  # else the caller releases after its own transaction commits
    return report


def drain_snapshots(
    store: Store,
    ctx: IngestContext,
    chunk: int = 500,
    background: BackgroundSnapshots | None = None,
) -> int:
    """Rebuild every queued snapshot, ``chunk`` profiles per transaction; return how many.

    With ``background``, the worker's outstanding snapshots are waited for and stored first,
    then the queue is built by the worker and this process together, and the count includes
    every snapshot the worker stored over its life.
    """
    built = 0
    if background is not None:
        background.wait()  # outside the transaction: other writers go on meanwhile
        with store.transaction() as conn:
            background.store_ready(conn, wait=True)
        built = _drain_together(store, ctx, background)
        built += background.stored
    while True:
        with store.transaction() as conn:
            ids = snapshots.dequeue(conn, chunk)
            if not ids:
                return built
            built += materialize(conn, ids, ctx.links, utc_now(), ctx.region)


_SHARE = 200  # profiles per chunk when the worker and this process share the queue


def _drain_together(store: Store, ctx: IngestContext, background: BackgroundSnapshots) -> int:
    """Build the queue in two processes at once: every other chunk goes to the worker, the rest
    is built here; return how many were built here. The worker's chunks stay queued until their
    snapshots are stored, so a crash loses none of them."""
    background.forget_due()
    built, after = 0, ""
    while background.error is None:
        ids = snapshots.queued_after(store.conn, after, 2 * _SHARE)
        if not ids:
            break
        after = ids[-1]
        now = utc_now()
        if background.busy <= 2:  # else it is behind: this process takes both chunks
            background.submit(ids[:_SHARE], now)
            ids = ids[_SHARE:]
        with store.transaction() as conn:
            snapshots.unqueue(conn, ids)
            built += materialize(conn, ids, ctx.links, now, ctx.region)
            background.store_ready(conn)
    background.wait()
    with store.transaction() as conn:
        background.store_ready(conn, wait=True)
    return built


def ingest_all(
    store: Store,
    payloads: Iterable[RawPayload],
    ctx: IngestContext,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest a stream of payloads in batches of ``batch_size``."""
    total = IngestReport()
    batch: list[RawPayload] = []
    for item in payloads:
        batch.append(item)
        if len(batch) >= batch_size:
            total.add(ingest_batch(store, batch, ctx))
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        total.add(ingest_batch(store, batch, ctx))
        if progress:
            progress(len(batch))
    return total


class _Touched:
    """What a batch changed: person records to resolve, activity owners to look up."""

    def __init__(self, guard: Guard | None = None) -> None:
        self.people: list[PersonChange] = []
        self.owners: list[RecordKey] = []
        self.merges: list[tuple[RecordKey, RecordKey]] = []  # (merged away, survivor)
        self.account_owners: list[str] = []  # changed records people name as account owner
        self.guard = guard
        self.new_activities = _NewActivities()
        # Owners merged away before the batch, and their survivors (``merged_owners``); one
        # merged away in the batch hands its activities over after it (``SourceMerges``).
        self.survivors: dict[RecordKey, RecordKey] = {}


class Prepared(msgspec.Struct):
    """A payload encoded and mapped (outside the transaction): its key, its text, and the
    mapped record or the reason it could not be mapped."""

    item: RawPayload
    key: RecordKey
    text: str
    mapped: Mapped | None
    error: str | None = None


def prepare(item: RawPayload, ctx: IngestContext) -> Prepared:
    """``item`` encoded and mapped with ``ctx``'s mappers (pure: no store read)."""
    text = _encode(item.payload).decode()
    try:
        mapped = _map(item, ctx, text)
    except MappingError as exc:
        key = RecordKey(item.source, item.kind, _fallback_id(item.payload, text))
        return Prepared(item, key, text, None, exc.detail)
    return Prepared(item, mapped.key, text, mapped)


def prepared_all(items: Iterable[RawPayload | Prepared], ctx: IngestContext) -> list[Prepared]:
    """Each item ``prepare``d, those already prepared as they are."""
    return [item if isinstance(item, Prepared) else prepare(item, ctx) for item in items]


def _ingest_one(
    conn: Any,
    item: Prepared,
    now: str,
    report: IngestReport,
    touched: _Touched,
    known: dict[RecordKey, StoredState],
) -> None:
    mapped = item.mapped
    if mapped is None:
        if touched.guard is not None and touched.guard.blocks_raw(item.key, item.text):
            report.suppressed += 1  # an erased person's payload is not kept, readable or not
            return
        reason = item.error or "unmapped"
        upsert_record(
            conn,
            item.key,
            item.text,
            None,
            fetched_at=now,
            error=reason,
            known=known,
            observed_at=item.item.observed_at,
        )
        report.rejected += 1
        report.rejections.append(
            Rejection(item.item.source, item.item.kind, item.key.external_id, reason)
        )
        return
    if (
        item.item.only_if_stored
        and mapped.deleted
        and _nothing_to_delete(item.item, mapped.key, known)
    ):
        report.unchanged += 1  # see ``_nothing_to_delete``
        return
    if touched.guard is not None and (
        touched.guard.blocks(mapped) or touched.guard.blocks_ownerless(mapped, item.text)
    ):
        report.suppressed += 1
        return
    outcome = upsert_record(conn, mapped.key, item.text, mapped, fetched_at=now, known=known)
    if mapped.deleted and item.item.merged_into and outcome.status != "stale":
        survivor = RecordKey(mapped.key.source, mapped.key.kind, item.item.merged_into)
        touched.merges.append((mapped.key, survivor))
    setattr(report, outcome.status, getattr(report, outcome.status) + 1)
    if outcome.status in {"stale", "unchanged"}:
        return
    is_new = outcome.status == "inserted"
    if _is_person(mapped, outcome.previous):
        facet = None if mapped.deleted else mapped.person
        touched.people.append(PersonChange(outcome.record_id, mapped.key, facet, is_new))
        index_account_owner(conn, outcome.record_id, mapped, outcome.previous)
    else:
        index = index_activity(
            conn,
            outcome.record_id,
            mapped,
            is_new=is_new,
            held=touched.new_activities,
            survivors=touched.survivors,
        )
        touched.owners.extend(index)
    if is_reference(mapped, outcome.previous):  # a HubSpot owner: who names it must show it
        touched.account_owners.append(owner_ref(mapped.key.source, mapped.key.external_id))


def _nothing_to_delete(
    item: RawPayload, key: RecordKey, known: Mapping[RecordKey, StoredState]
) -> bool:
    """Whether an ``only_if_stored`` deletion finds nothing to act on: the record was never
    stored, or, for a notice of our own look-up answered 404 (``from_lookup``, dated when it
    was seen), is stored deleted already. Such a notice must not date a stored deletion
    forward: an eventually consistent API can answer 404 just after a restore, and the
    restored copy, dated by the restore, would then lose to the deletion as stale. Notices
    dated by the vendor (a merge listed with its survivor, a refund a charge now shows) still
    date it forward, so that an older copy arriving later stays out."""
    state = known.get(key)
    return state is None or (item.from_lookup and bool(state.deleted))


def _map(item: RawPayload, ctx: IngestContext, text: str) -> Mapped:
    if item.deleted:
        key = RecordKey(item.source, item.kind, _fallback_id(item.payload, text))
        return Mapped(
            key=key, updated_at=item.observed_at, deleted=True, merged_into=item.merged_into
        )
    mapper = ctx.mappers.get(item.source)
    if mapper is None:
        raise MappingError(f"no mapper for source {item.source!r}")
    mapped = mapper(item.kind, item.payload)
    if mapped.updated_at is None and item.observed_at is not None:
        mapped = msgspec.structs.replace(mapped, updated_at=item.observed_at)
    return mapped


def apply_mapped(
    conn: Any,
    record_id: int,
    mapped: Mapped,
    region: str,
    now: str,
    *,
    is_new: bool = False,
    thresholds: Thresholds | None = None,
) -> set[str]:
    """Update identity and the activity index for one stored record; return changed profiles.

    The caller bumps the version of each changed profile once (``bump_versions``). ``is_new``
    says the record was just inserted, so it has no index entries to replace yet.
    ``thresholds`` are the configured ones (``IngestContext.thresholds``); without them the
    defaults apply.
    """
    if _is_person(mapped):
        facet = None if mapped.deleted else mapped.person
        change = PersonChange(record_id, mapped.key, facet, is_new)
        return Engine(conn, region, now, thresholds).resolve([change])
    owners = index_activity(conn, record_id, mapped, is_new=is_new)
    return profiles_for_owners(conn, owners) if owners else set()


def _is_person(mapped: Mapped, previous: Mapped | None = None) -> bool:
    """Whether the record is a person's. A deletion notice that carries only the id (Shopify
    ``orders/delete``, a HubSpot deal deletion) is whatever the stored copy it deletes was."""
    if mapped.person is not None or mapped.activity is not None:
        return mapped.person is not None
    return mapped.deleted and (previous is None or previous.activity is None)


class SourceMerges:
    """Follow merges the vendor made (HubSpot ``contact.merge``, Shopify ``customers/merge``)
    around the batch's resolution.

    Before it: the merged-away record's orders, invoices, deals and tickets move to the
    survivor, as in the vendor, without waiting for the vendor to send each again (one
    written later that still names the merged-away record is indexed as the survivor's as it
    is written: ``activity_index.merged_owners``); and when
    every member of the merged-away record's profile was merged away in this batch, that
    profile is merged into the survivor's, so its id keeps resolving as an alias instead of
    disappearing (the vendor's survivor decides which id lives on). The merged-away records
    themselves are then removed by resolution like any deletion. When the survivor is new in
    this batch it has no profile yet: the merged-away profile (and any alias of it) is made an
    alias of the survivor's once resolution has given it one (``finish``); when the survivor is
    not stored at all (not readable yet), they sleep until it arrives (``merge_wait``).
    """

    def __init__(self, conn: Any, merges: list[tuple[RecordKey, RecordKey]], now: str) -> None:
        self.conn, self.now = conn, now
        self.changed: set[str] = set()
        # (profile, its aliases, to, the merged-away records)
        self.waiting: list[tuple[str, list[str], RecordKey, list[int]]] = []
        self.rebind: set[int] = set()  # survivors that took over a person's decision
        self.survivors: set[int] = set()  # survivor records that aliases' memories moved to
        if merges:
            self._before(merges)

    def _before(self, merges: list[tuple[RecordKey, RecordKey]]) -> None:
        conn = self.conn
        owner = profiles.profiles_of_keys(conn, [key for pair in merges for key in pair])
        gone = {key for key, _ in merges}
        for merged, survivor in merges:
            if activities.transfer_owner(conn, merged, survivor) and survivor in owner:
                self.changed.add(owner[survivor])
            absorbed, kept = owner.get(merged), owner.get(survivor)
            if absorbed is None or absorbed == kept:
                continue
            members = profiles.member_keys(conn, absorbed)
            if not members or not all(key in gone for key in members):
                continue
            if kept is None:
                its_aliases = profiles.aliases_of(conn, absorbed)
                records = list(_record_ids(conn, members).values())
                self.waiting.append((absorbed, its_aliases, survivor, records))
                continue
            profiles.merge_into(conn, kept, absorbed, self.now)
            self.changed.add(kept)
            owner = {k: kept if pid == absorbed else pid for k, pid in owner.items()}
        self._carry(merges)

    def _carry(self, merges: list[tuple[RecordKey, RecordKey]]) -> None:
        """What named or concerned a merged-away record now names or concerns its survivor:
        the aliases that remember it (so they follow the survivor, not a record that is gone)
        and people's decisions about it."""
        ids = _record_ids(self.conn, [key for pair in merges for key in pair])
        pairs = [(ids[m], ids[s]) for m, s in merges if m in ids and s in ids and ids[m] != ids[s]]
        for merged, survivor in pairs:
            aliases.carry_remembered(self.conn, merged, survivor)
            self.survivors.add(survivor)
        # The batch's merges together: of contradicting decisions carried to one survivor about
        # one record, ``apart`` wins, whichever merge came first.
        self.rebind |= set(carry_all(self.conn, pairs))

    def finish(self) -> set[str]:
        """After resolution: alias what waited for a survivor (each alias remembers the
        survivor record, so it follows that record); return the changed profiles."""
        for absorbed, its_aliases, survivor, records in self.waiting:
            if profiles.canonical_id(self.conn, absorbed) is not None:
                continue
            kept = profiles.profiles_of_keys(self.conn, [survivor]).get(survivor)
            if kept is None:  # not stored yet: they wait for it, across runs
                ids = [absorbed, *its_aliases]
                sleep_until_survivor(self.conn, ids, records, survivor, self.now)
                continue
            record = _record_ids(self.conn, [survivor])[survivor]
            for alias in [absorbed, *its_aliases]:
                if profiles.canonical_id(self.conn, alias) is None:
                    profiles.add_alias(self.conn, alias, kept, self.now)
                    aliases.remember(self.conn, alias, [record])
            self.changed.add(kept)
        # A sleeping alias that remembered a merged-away record now remembers its survivor,
        # which may be enough to wake it (``aliases.follow_aliases``).
        if self.survivors:
            held = profiles.profiles_of(self.conn, sorted(self.survivors))
            aliases.follow_aliases(self.conn, held.values())
        return {pid for pid in self.changed if profiles.canonical_id(self.conn, pid) == pid}


def _record_ids(conn: Any, keys: list[RecordKey]) -> dict[RecordKey, int]:
    """The stored record id of each of these keys that is stored."""
    return {key: state.record_id for key, state in stored_states(conn, keys).items()}


def bump_versions(conn: Any, profile_ids: Iterable[str], now: str) -> None:
    """Give each changed profile a new version, once."""
    conn.executemany(
        "UPDATE profiles SET version = version + 1, updated_at = ? WHERE id = ?",
        [(now, profile_id) for profile_id in sorted(set(profile_ids))],
    )


def _fallback_id(payload: Mapping[str, Any], text: str) -> str:
    raw = payload.get("id")
    if isinstance(raw, str | int) and not isinstance(raw, bool) and str(raw):
        return str(raw)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


__all__ = [
    "IngestContext",
    "IngestReport",
    "Mapper",
    "Mappers",
    "RawPayload",
    "Rejection",
    "SourceMerges",
    "apply_mapped",
    "bump_versions",
    "drain_snapshots",
    "from_vendor",
    "ingest_all",
    "ingest_batch",
    "profiles_for_owners",
    "utc_now",
]
