"""Webhook intake: verify the raw body, store the delivery durably once, apply it idempotently.

``receive`` runs on the request path and does only what must happen before answering 2xx:
verify (``WebhookRejected`` -> 401, nothing stored; so is any failure to read the signature
headers), parse for dedup ids without calling the vendor (a connector's ``read_webhook``
where it has one; a deletion Shopify must confirm is confirmed when applied), and store the
delivery in the inbox unless one of its ids was seen before. An authentic body that cannot be
parsed (whatever the parser raised, deeply nested JSON included) is kept raw as a ``rejected``
delivery, once per body however often the vendor retries it, and answered ``MappingError``
(422), never 500.

``apply_pending`` runs right after the response (and at startup, for anything a crash left
behind): it maps the delivery's objects, fetches what a partial delivery points at, erases what
a redaction asks to erase, records the requests for a person's data it passes on (for the
operator to answer; see ``store.access_requests``), rebuilds the affected snapshots, and marks
the delivery applied, all in one transaction. A delivery another applier settled meanwhile is
skipped, so concurrent appliers apply it once; one that fails is marked ``failed`` with the
reason and the others still go on. One whose vendor cannot be reached (``RetriableError``)
stays ``pending`` and is tried again after a delay that doubles from 5 seconds to 10 minutes,
while the deliveries behind it are applied. An object a delivery refetches is fetched once,
also when it ties with its stored copy; one the vendor answers "not found" changes nothing
and is named in the delivery's note (``_skipped``). A deletion notice with no time of its own
counts as observed when it was received, so an older copy of the object delivered after it
cannot bring it back. Every reason kept on a row (and logged) is cut to ``MAX_ERROR_CHARS``
with the keys and tokens it quotes removed (``error_text``).

``readmit_rejected`` reads kept ``rejected`` bodies again after an upgrade: one read now
becomes pending (its dedup ids remembered), one whose event the vendor sent again since is
settled without being applied twice.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Literal

import msgspec

from context_service.errors import MappingError, RetriableError, WebhookRejected
from context_service.models import (
    Connector,
    Delivery,
    RecordKey,
    VendorObject,
)
from context_service.snapshot.materialize import materialize
from context_service.snapshot.redaction import redact_emails
from context_service.snapshot.secrets import redact_secrets
from context_service.store import Store, access_requests, profiles
from context_service.store import cursors as cursor_store
from context_service.store import inbox as inbox_store
from context_service.store.records import stored_states
from context_service.sync.delivery_headers import (
    UnstorableText,
    kept_headers,
    one_value_each,
    refuse_unstorable_text,
)
from context_service.sync.erase import erase_records, remove_records, remove_source
from context_service.sync.ingest import (
    IngestContext,
    Prepared,
    RawPayload,
    from_vendor,
    ingest_batch,
    prepare,
    utc_now,
)
from context_service.sync.intake_lock import named, stored_or_busy
from context_service.sync.one_pass import OnePass
from context_service.sync.ties import (
    SETTLE_ATTEMPTS,
    Fetched,
    Seen,
    fingerprint,
    moved_since,
    note_written,
    settle_ties,
)
from context_service.trust.audit import cutoff
from context_service.trust.erasure import compact, erased_request
from context_service.trust.suppression import record_value

log = logging.getLogger("context_service.webhooks")
MAX_ERROR_CHARS = 500  # of a reason kept on an inbox row (and logged)


def error_text(text: str) -> str:
    """A failure's reason as kept on an inbox row and logged: API keys, tokens and email
    addresses it quotes removed (a log is no place for a customer's address; the delivery's
    body, kept on the row, still has it, and erasure reaches it there), at most
    ``MAX_ERROR_CHARS`` characters (an exception may quote a whole body)."""
    clipped = redact_emails(redact_secrets(text[: MAX_ERROR_CHARS * 4]))
    return clipped if len(clipped) <= MAX_ERROR_CHARS else clipped[: MAX_ERROR_CHARS - 3] + "..."


def _failure(exc: BaseException) -> str:
    """``error_text`` of an exception: its type and message."""
    return error_text(f"{type(exc).__name__}: {exc}")


class Receipt(msgspec.Struct):
    """What the intake did with a delivery."""

    status: Literal["accepted", "duplicate"]
    topic: str
    inbox_id: int | None = None


def receive(
    store: Store,
    connector: Connector,
    headers: Mapping[str, str],
    body: bytes,
    url: str | Sequence[str],
    now: float,
) -> Receipt:
    """Verify and durably store one delivery; duplicates are acknowledged and not stored.

    ``url`` is the URL the vendor called (HubSpot signs it), or several it may have called
    (the public URL behind a proxy, and the one the request arrived at): any may verify.
    """
    source = connector.source
    headers = one_value_each(headers)
    _verify(connector, headers, body, [url] if isinstance(url, str) else list(url), now)
    kept = kept_headers(headers)
    try:
        delivery = _read(connector, headers, body)
    except MappingError as exc:
        _reject(store, source, body, kept, error_text(exc.detail))
        raise
    except Exception as exc:  # RecursionError on deeply nested JSON, or a parser's own bug
        detail = f"{source} webhook body could not be read: {_failure(exc)}"
        _reject(store, source, body, kept, detail)
        raise MappingError(detail, source=source) from exc
    with stored_or_busy(store, named(source, delivery)) as conn:  # 503, not the vendor's timeout
        if inbox_store.seen_before(conn, source, delivery.dedup_ids, every=delivery.batch):
            return Receipt(status="duplicate", topic=delivery.topic)
        inbox_id = inbox_store.add_delivery(
            conn, source, delivery.topic, body, kept, delivery.dedup_ids, utc_now()
        )
    return Receipt(status="accepted", topic=delivery.topic, inbox_id=inbox_id)


def _read(connector: Connector, headers: Mapping[str, str], body: bytes) -> Delivery:
    """The delivery as the intake needs it (dedup ids, topic), read without calling the
    vendor: through the connector's ``read_webhook`` where it has one (Shopify confirms a
    deletion with a GraphQL call in ``parse_webhook``, which belongs to apply time: on the
    request path it would cost the vendor's answer time, and an outage would reject the
    delivery as unreadable instead of leaving it pending). A lone surrogate is unreadable."""
    refuse_unstorable_text(connector.source, body)
    read = getattr(connector, "read_webhook", None)
    delivery = read(headers, body) if callable(read) else connector.parse_webhook(headers, body)
    if not isinstance(delivery, Delivery):
        raise TypeError(f"{connector.source} read_webhook returned {type(delivery).__name__}")
    return delivery


def _verify(
    connector: Connector, headers: Mapping[str, str], body: bytes, urls: list[str], now: float
) -> None:
    """Raise ``WebhookRejected`` unless the delivery verifies against one of ``urls``."""
    refused: list[WebhookRejected] = []
    for url in dict.fromkeys(urls or [""]):
        try:
            connector.verify_webhook(headers, body, url, now)
        except WebhookRejected as exc:
            refused.append(exc)
        except Exception as exc:  # a header no verifier foresaw: refused, never a 500
            # Only the exception's type: its message could quote a header value.
            raise WebhookRejected(
                f"{connector.source} delivery could not be verified ({type(exc).__name__})"
            ) from exc
        else:
            return
    raise refused[0]


def _reject(store: Store, source: str, body: bytes, headers: dict[str, str], error: str) -> None:
    """Keep an authentic but unreadable body raw, once: the vendor retries a refused delivery
    (Stripe for days), and every retry carries the same body."""
    digest = "rejected:" + hashlib.sha256(body).hexdigest()
    with stored_or_busy(store) as conn:
        if inbox_store.seen_before(conn, source, [digest]):
            return
        inbox_store.add_delivery(
            conn,
            source,
            "unparseable",
            body,
            headers,
            [digest],
            utc_now(),
            status="rejected",
            error=error,
        )


Readmitted = Literal["pending", "duplicate", "rejected", "blanked", "missing"] | str

ALREADY_RECEIVED = (
    "not applied: the vendor sent this event again after it was rejected, and that copy "
    "is applied instead"
)


def readmit_rejected(
    store: Store, connector: Connector, inbox_ids: Sequence[int]
) -> dict[int, Readmitted]:
    """Read rejected deliveries of ``connector``'s source again (after an upgrade that reads
    their shape) and make those it can read pending, to be applied by the next pass; return
    what became of each id.

    ``pending``: read now, and its dedup ids are remembered (the vendor's later copies are
    duplicates). ``duplicate``: the vendor sent the same event again since and that copy was
    accepted, so this one is settled ``applied`` with a note and never applied (twice).
    ``rejected``: still unreadable (the new reason is kept). ``blanked``: an erasure emptied
    it. ``missing``: no such delivery from this source. Any other status is the delivery's
    own (it is not rejected), unchanged. Its signature is not checked again: it was verified
    when it arrived, and the freshness window has passed since.
    """
    return {i: _readmit(store, connector, i) for i in dict.fromkeys(inbox_ids)}


def _readmit(store: Store, connector: Connector, inbox_id: int) -> Readmitted:
    row = inbox_store.delivery(store.conn, inbox_id)
    if row is None or row.source != connector.source:
        return "missing"
    if row.status != "rejected":
        return row.status
    if not row.body:
        return "blanked"
    try:
        delivery = _read(connector, row.headers, row.body)
    except Exception as exc:  # still unreadable: it stays rejected, with today's reason
        why = error_text(exc.detail) if isinstance(exc, MappingError) else _failure(exc)
        with store.transaction() as conn:
            inbox_store.settle_rejected(conn, inbox_id, "rejected", utc_now(), why)
        return "rejected"
    return _admit_read(store, row, delivery)


def _admit_read(store: Store, row: inbox_store.InboxRow, delivery: Delivery) -> Readmitted:
    """Make a rejected delivery read now pending, or settle it when its event came again."""
    with store.transaction() as conn:
        again = inbox_store.seen_before(conn, row.source, delivery.dedup_ids, every=delivery.batch)
        if again and inbox_store.settle_rejected(
            conn, row.id, "applied", utc_now(), ALREADY_RECEIVED
        ):
            return "duplicate"
        if not again and inbox_store.readmit(
            conn, row.id, delivery.topic, delivery.dedup_ids, utc_now()
        ):
            return "pending"
    settled = inbox_store.delivery(store.conn, row.id)  # readmitted elsewhere meanwhile
    return "missing" if settled is None else settled.status


class InboxPruner:
    """Deletes applied deliveries older than the retention (``inbox.purge``), at most once an
    hour, as deliveries are applied; a retention of 0 days keeps them forever."""

    every_seconds = 3600.0

    def __init__(self, store: Store, retention_days: int) -> None:
        self.store = store
        self.retention_days = retention_days
        self._last = float("-inf")

    def maybe_purge(self, now: float) -> int:
        """Purge if the last purge is an hour old; return how many deliveries went."""
        if self.retention_days <= 0 or now - self._last < self.every_seconds:
            return 0
        self._last = now
        before = cutoff(datetime.fromtimestamp(now, UTC), self.retention_days)
        with self.store.transaction() as conn:
            return inbox_store.purge(conn, before)


RETRY_FIRST_SECONDS = 5.0  # a delivery whose vendor could not be reached waits this long,
RETRY_MAX_SECONDS = 600.0  # twice as long after each further failure, at most this long


def retry_delay(attempts: int) -> float:
    """Seconds a delivery waits after its ``attempts``-th failed try (a vendor call that failed,
    or a pass its records kept moving under; 1, 2, ...)."""
    return min(RETRY_FIRST_SECONDS * 2.0 ** max(attempts - 1, 0), RETRY_MAX_SECONDS)


def apply_pending(
    store: Store,
    connectors: Mapping[str, Connector],
    ctx: IngestContext,
    limit: int = 100,
    now: float | None = None,
    gate: OnePass | None = None,
) -> int:
    """Apply the stored deliveries that are due at ``now`` (POSIX seconds, default the
    current time) in arrival order; return how many were applied.

    A delivery whose vendor call fails with ``RetriableError`` (a refetch answered 429/503)
    stays pending and is left out of the passes before its next attempt (``retry_delay``), so
    it neither holds up the deliveries behind it nor calls the vendor on every pass. Arrival
    order is not relied on: vendors send out of order anyway, and an older copy never replaces
    a newer one. With a server's ``gate`` one pass runs at a time (``one_pass.OnePass``).
    """
    one_pass = partial(_apply_due, store, connectors, ctx, limit, now, gate)
    return one_pass() if gate is None else gate.run(one_pass)


def _apply_due(
    store: Store,
    connectors: Mapping[str, Connector],
    ctx: IngestContext,
    limit: int,
    now: float | None,
    gate: OnePass | None,
) -> int:
    at = time.time() if now is None else now
    applied = 0
    for row in inbox_store.pending(store.conn, limit, _iso(at)):
        if gate is not None and gate.stopped:  # its server is shutting down: the rest waits
            break
        connector = connectors.get(row.source)
        if connector is None:
            _mark(store, row.id, "failed", f"no connector configured for {row.source}")
            continue
        applied += _apply_one(store, connector, row, ctx, at)
    return applied


def _apply_one(
    store: Store, connector: Connector, row: inbox_store.InboxRow, ctx: IngestContext, at: float
) -> int:
    """Apply one delivery; it is settled again (``settle_ties``, ``_settle_removal_ties``) when
    another writer stored a copy of one of its records, of the same second as its own, after it
    was settled (``moved_since``), and waits for a later pass (as after a failed vendor call)
    when that keeps happening."""
    for _ in range(SETTLE_ATTEMPTS):
        settled = _settled(store, connector, row, ctx, at)
        if settled is None:
            return 0
        applied = _write(store, connector, row, ctx, settled)
        if applied is not None:
            return applied
    _retry_later(store, row, "its records kept changing while it was applied", at)
    return 0


class _Settled(msgspec.Struct):
    """A delivery parsed and its records settled, ready to be written."""

    delivery: Delivery
    batch: list[RawPayload | Prepared]
    missed: list[tuple[str, str]]
    removals: list[tuple[str, str, str]]
    seen: Seen


def _settled(
    store: Store, connector: Connector, row: inbox_store.InboxRow, ctx: IngestContext, at: float
) -> _Settled | None:
    """The delivery parsed, refetched and settled; ``None`` when that failed (the row is then
    marked for a retry or as failed)."""
    source = connector.source
    try:
        refuse_unstorable_text(source, row.body)  # stored by a version that let it in
        delivery = connector.parse_webhook(row.headers, row.body)
        fetched = _refetch(connector, delivery.refetch)
        missed = [key for key, found in fetched.items() if found is None]
        objects = list(delivery.objects) + [o for o in fetched.values() if o is not None]
        items = [
            # A deletion happened no later than its notice arrived: without a time of its own
            # it would carry none, and any older copy of the object would bring it back.
            from_vendor(source, o, _dated(o, delivery.occurred_at, row.received_at))
            for o in objects
        ]
        seen: Seen = {}
        settled = settle_ties(store, connector, items, ctx, fetched, missed, seen)
        removals, restored = _settle_removal_ties(store, connector, delivery.remove, ctx, seen)
    except RetriableError as exc:
        _retry_later(store, row, error_text(exc.detail), at, exc.extra.get("retry_after"))
        return None
    except UnstorableText as exc:  # it would fail every time: kept raw, as at the intake
        _mark(store, row.id, "rejected", error_text(exc.detail))
        return None
    except Exception as exc:  # any failure is recorded on the row, never lost
        _mark(store, row.id, "failed", _failure(exc))
        return None
    return _Settled(delivery, [*settled, *restored], missed, removals, seen)


def _write(
    store: Store,
    connector: Connector,
    row: inbox_store.InboxRow,
    ctx: IngestContext,
    settled: _Settled,
) -> int | None:
    """Write a settled delivery in one transaction: 1 when applied, 0 when not (settled by
    another applier, or failed and marked), ``None`` when one of its records moved since it
    was settled (nothing written)."""
    source, delivery, batch = connector.source, settled.delivery, settled.batch
    missed, removals = settled.missed, settled.removals
    try:
        with store.transaction() as conn:
            if not inbox_store.is_pending(conn, row.id):
                return 0  # another applier (a concurrent request, a second worker) settled it
            if moved_since(conn, settled.seen):
                return None
            report = ingest_batch(store, batch, ctx)
            about_erased = bool(report.suppressed)
            for asked in delivery.access_requests:
                request = erased_request(conn, source, asked, ctx.region)
                about_erased |= request is not asked
                access_requests.add(conn, source, request, row.received_at, row.id)
            inbox_store.note_records(conn, row.id, _named_records(source, delivery))
            # Settled before an erasure below blanks the deliveries naming the person, this one
            # included: it stays applied.
            skipped = _skipped(delivery.problems, source, missed)
            inbox_store.mark(conn, row.id, "applied", utc_now(), skipped)
            if delivery.erase or removals or delivery.remove_source:
                now = utc_now()
                keys = [RecordKey(source, kind, ext) for kind, ext in delivery.erase]
                emails = delivery.erase_emails
                changed = (
                    erase_records(
                        conn, keys, ctx.region, now, ctx.thresholds, links=ctx.links, emails=emails
                    )
                    if keys
                    else set()
                )
                gone = _not_newer(conn, source, removals)
                changed |= (
                    remove_records(conn, gone, ctx.region, now, ctx.thresholds) if gone else set()
                )
                if delivery.remove_source:
                    changed |= remove_source(conn, source, ctx.region, now, ctx.thresholds)
                    cursor_store.reset_cursors(conn, source)
                for profile_id in changed:
                    profiles.bump_version(conn, profile_id, now)
                materialize(conn, changed, ctx.links, now, ctx.region)
            # About an erased person, or an erasure request: the body is not kept either.
            if about_erased or delivery.erase:
                inbox_store.forget_body(conn, row.id)
    except sqlite3.OperationalError as exc:  # busy or locked: rolled back, tried again later
        _mark(store, row.id, "pending", _failure(exc))
        return 0
    except Exception as exc:  # rolled back; recorded on the row, and the next rows still go on
        _mark(store, row.id, "failed", _failure(exc))
        return 0
    if delivery.erase or delivery.remove_source:  # no trace in free pages or the WAL
        compact(store)
    return 1


def _named_records(source: str, delivery: Delivery) -> list[str]:
    """The records a delivery names (``suppression.record_value``): those it carries (by their
    ``id``), asks to fetch, erase or remove, and those its access requests are about."""
    named = [(o.kind, o.payload.get("id")) for o in delivery.objects]
    named += delivery.refetch + delivery.erase
    named += [(kind, external_id) for kind, external_id, _ in delivery.remove]
    named += [(asked.kind, asked.external_id) for asked in delivery.access_requests]
    return [
        record_value(RecordKey(source, kind, str(external_id)))
        for kind, external_id in named
        if external_id is not None and str(external_id)
    ]


def _not_newer(
    conn: sqlite3.Connection, source: str, removals: list[tuple[str, str, str]]
) -> dict[RecordKey, str | None]:
    """The removed records whose stored copy is not newer than their deletion, each with the
    deletion's time: a deletion delivered after a restore that happened later leaves the
    restored record alone. A tie reaches here only once the vendor has said the record is gone
    (``_settle_removal_ties``)."""
    deleted = {RecordKey(source, kind, external_id): at for kind, external_id, at in removals}
    stored = stored_states(conn, deleted)
    gone: dict[RecordKey, str | None] = {}
    for key, deleted_at in deleted.items():
        state = stored.get(key)
        stored_at = state.updated_at if state is not None else None
        if not (stored_at and deleted_at and stored_at > deleted_at):
            gone[key] = deleted_at or None
    return gone


def _settle_removal_ties(
    store: Store,
    connector: Connector,
    removals: list[tuple[str, str, str]],
    ctx: IngestContext,
    seen: Seen,
) -> tuple[list[tuple[str, str, str]], list[Prepared]]:
    """``removals`` less those that tie with a live stored copy and that the vendor still has
    live, and the vendor's current copies of those.

    A tie is a stored copy of the deletion's second: HubSpot times a deletion and a restore to
    the millisecond, but both are kept to the second, so which came last cannot be told from
    them (a deletion at .100 delivered after a restore at .900 would remove the live contact).
    The vendor is asked, as ``settle_ties`` does for live copies: one it no longer has, or
    has deleted, is removed. ``RetriableError`` (the vendor cannot be reached) leaves the
    delivery pending. What was read is added to ``seen`` (``moved_since``).
    """
    tied = _tied_removals(store.conn, connector.source, removals, seen)
    kept: list[tuple[str, str, str]] = []
    restored: list[Prepared] = []
    for kind, external_id, deleted_at in removals:
        current = (
            connector.fetch_one(kind, external_id)
            if RecordKey(connector.source, kind, external_id) in tied
            else None
        )
        if current is None or current.deleted:
            kept.append((kind, external_id, deleted_at))
        else:
            live = prepare(from_vendor(connector.source, current), ctx)
            restored.append(live)
            note_written(seen, live)
    return kept, restored


def _tied_removals(
    conn: sqlite3.Connection, source: str, removals: list[tuple[str, str, str]], seen: Seen
) -> set[RecordKey]:
    """The removed records whose stored copy is live and dated the deletion's very time."""
    deleted = {RecordKey(source, kind, external_id): at for kind, external_id, at in removals}
    stored = stored_states(conn, deleted)
    seen.update({key: (fingerprint(stored.get(key)), at, None) for key, at in deleted.items()})
    return {
        key
        for key, deleted_at in deleted.items()
        if (state := stored.get(key)) is not None
        and not state.deleted
        and deleted_at
        and state.updated_at == deleted_at
    }


def _refetch(connector: Connector, wanted: list[tuple[str, str]]) -> Fetched:
    """The vendor's current copy of each (kind, external_id) in ``wanted``, ``None`` where
    the vendor no longer has it; each is fetched once."""
    return {key: connector.fetch_one(*key) for key in dict.fromkeys(wanted)}


def _skipped(problems: list[str], source: str, missed: list[tuple[str, str]]) -> str | None:
    """The note kept on an applied delivery: what could not be read, and which records the
    vendor answered "not found" when asked for their current copy (by kind and vendor id only:
    whatever is stored about them is kept as it was)."""
    notes = list(problems)
    if missed:
        records = ", ".join(f"{kind} {ext}" for kind, ext in dict.fromkeys(missed))
        notes.append(f"not found at {source} when refetched, stored copy kept: {records}")
    return "; ".join(notes) or None


def _retry_later(
    store: Store, row: inbox_store.InboxRow, error: str, at: float, asked: float | None = None
) -> None:
    """Leave the delivery pending until its next attempt is due: ``retry_delay``, or the
    seconds the vendor ``asked`` (a 429's ``Retry-After``) when longer, up to the longest
    delay (asking sooner spends a request the vendor said it would refuse)."""
    attempts = row.attempts + 1
    wait = retry_delay(attempts)
    if isinstance(asked, int | float) and asked > wait:
        wait = min(float(asked), RETRY_MAX_SECONDS)
    due = _iso(at + wait)
    log.warning(
        "webhook delivery %d pending (attempt %d, next at %s): %s", row.id, attempts, due, error
    )
    with store.transaction() as conn:
        inbox_store.retry_later(conn, row.id, due, error)


def _iso(at: float) -> str:
    """POSIX seconds as the inbox's ISO-8601 UTC times."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _mark(store: Store, inbox_id: int, status: str, error: str | None) -> None:
    if error:
        log.warning("webhook delivery %d %s: %s", inbox_id, status, error)
    with store.transaction() as conn:
        inbox_store.mark(conn, inbox_id, status, utc_now(), error)


def _dated(obj: VendorObject, occurred_at: str | None, received_at: str) -> str | None:
    """When a delivered object was observed: its own time, else the delivery's, else (for a
    deletion notice only) when the delivery arrived."""
    return obj.observed_at or occurred_at or (received_at if obj.deleted else None)
