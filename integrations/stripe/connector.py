"""The Stripe connector: backfill streams over the list endpoints, then an events stream.

Stripe objects have ``created`` but no modification time, and list endpoints filter only on
``created``, so changes come from the Events API (30 days of history). The streams, in order:

* ``customers``, ``subscriptions`` (``status=all``), ``invoices``, ``charges``, ``disputes``:
  one full backfill each, newest first as Stripe lists them, ``limit=page_size`` and
  ``starting_after=<last id>``. Cursor while paging: ``{"starting_after": "<id>", "at": <unix>}``;
  once complete: ``{"done": true, "at": <unix>}`` where ``at`` is when that backfill started.
  Charges are listed with ``expand[]=data.refunds``: since API 2022-11-15 a charge carries its
  refunds only when they are expanded, and an expanded list holds 10: the rest of a charge's
  refunds are listed from ``/v1/refunds?charge=<id>`` (``starting_after`` the last one held).
  A done backfill yields nothing on later runs: its changes arrive through ``events``.
* ``events``: cursor ``{"created": <unix>, "ids": ["evt_..."]}``, the newest event applied and the
  ids already applied at that second (ties are broken by id). A first run starts at the earliest
  backfill ``at`` known to this connector (else now) minus ``EVENTS_MARGIN_SECONDS``. Each run lists
  the window ``created[gte]=<created>`` (newest first), then emits the events oldest first.
  Only events created before the run started, less ``EVENTS_SETTLE_SECONDS``, are emitted: the
  types are listed in several requests (at most 20 a request), and an event created while a
  later group is listed would otherwise move the cursor past an event of an earlier group
  created just before it, which that group's listing did not yet see; the next run takes them.
  Each type group lists the window in slices of its own (``created[gte]`` and ``created[lt]``),
  and events are emitted, sorted, once every group has listed past them. A slice must fit in
  one page: a group's first slice is the whole window, so a quiet day (or a quiet 29 days) costs
  one request per group. A slice with more than a page is not paged through (its newest pages
  would be held while its oldest are fetched) but narrowed, to about three quarters of a page at
  the rate its first page showed (an eighth to a half of the slice), and listed again; each
  next slice aims at three quarters of a page at the rate just seen (half to twice as wide).
  Only a slice of one second is paged through, whatever its size. So a run holds about a page
  per group (or one busy second) however long the window, and the cursor moves page by page.
  A charge whose refunds an event changed (a ``refund.*`` event, or a charge event whose
  copy lacks some of its refunds) is emitted whole, with all its refunds, after the page's
  events instead of the events' copies of it: the page's own newest copy when the page shows
  every refund of it (``_whole``: a ``charge.refunded`` comes with its ``refund.created``, so
  a page of first refunds costs no request per charge), else fetched fresh, once a run. A
  refund that names no charge is shown on its payment intent's ``latest_charge`` when that
  charge lists it; otherwise it is emitted as a ``refund`` (kept raw: no charge shows it)
  with a note. Once a charge shows a refund kept raw, a deletion notice for stored records
  only (``placed_refund_notices``, also sent by the ``charges`` backfill and by webhooks)
  replaces the raw copy, which leaves the rejected list. A charge Stripe no longer has
  (404) is noted, and the events' copies of it that lack refunds are left out, so the
  refunds already stored stay.
  When the starting point is older than Stripe's 30-day window the stream yields one page with no
  objects, cursor ``None`` and a note; ``needs_full_backfill`` tells the runner to reset every
  stream and backfill again.

Every request sends ``Authorization: Bearer <key>`` (a redacted secret) and the pinned
``Stripe-Version``; ``Stripe-Should-Retry`` decides retries when Stripe sends it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from context_service.errors import ConfigurationError, FatalError, MappingError
from integrations._connector import Delivery, Page, Stream, VendorObject
from integrations._convert import iso_utc
from integrations._http import Decision, RetryPolicy, VendorHttp, vendor_json
from integrations._pagination import LoopGuard, decode_cursor, encode_cursor
from integrations.stripe._events import (
    EVENT_WINDOW_SECONDS,
    EVENTS_MARGIN_SECONDS,
    EVENTS_SETTLE_SECONDS,
    WINDOW_NOTE,
    EventsStream,
    _EventsCursor,
    unplaced_note,
)
from integrations.stripe.mapping import SOURCE, UNPLACED_REFUND_KIND
from integrations.stripe.webhooks import (
    expanded_id,
    parse_delivery,
    placed_refund_notices,
    placed_refunds,
    verify_signature,
)

log = logging.getLogger(__name__)

__all__ = [
    "API_VERSION",
    "BACKFILL_STREAMS",
    "EVENTS_MARGIN_SECONDS",
    "EVENTS_SETTLE_SECONDS",
    "EVENT_WINDOW_SECONDS",
    "WINDOW_NOTE",
    "StripeConnector",
    "stripe_should_retry",
]

API_VERSION = "2026-06-24.dahlia"

# (stream name, mapper kind, list path, extra query parameters), in dependency order.
BACKFILL_STREAMS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("customers", "customer", "/v1/customers", ()),
    ("subscriptions", "subscription", "/v1/subscriptions", (("status", "all"),)),
    ("invoices", "invoice", "/v1/invoices", ()),
    ("charges", "charge", "/v1/charges", (("expand[]", "data.refunds"),)),
    ("disputes", "dispute", "/v1/disputes", ()),
)
_T = TypeVar("_T")
_C = TypeVar("_C")
_PATHS = {kind: path for _, kind, path, _ in BACKFILL_STREAMS}
# What a retrieve expands: a charge's refunds are listed only when expanded (API 2022-11-15).
_EXPAND: dict[str, list[tuple[str, str]]] = {"charge": [("expand[]", "refunds")]}
_REFUNDS_PATH = "/v1/refunds"
_INTENTS_PATH = "/v1/payment_intents"


def stripe_should_retry(response: httpx.Response) -> Decision:
    """``Stripe-Should-Retry`` on an error response: ``true`` retries, ``false`` never does."""
    if response.is_success:
        return None
    hint = response.headers.get("stripe-should-retry", "").strip().lower()
    return {"true": True, "false": False}.get(hint)


# --- Cursors -------------------------------------------------------------------------------------


class _BackfillCursor(msgspec.Struct, omit_defaults=True):
    starting_after: str | None = None
    created: int | None = None  # the starting_after object's, to resume if it is deleted
    done: bool = False
    at: int | None = None


class _ListBody(msgspec.Struct):
    data: list[dict[str, Any]]
    has_more: bool = False


class _Listed(msgspec.Struct):
    """One page of a list as ``list_pages`` gives it: its objects (an object without an id
    among them), whether more follow, and ``after``, the object the next page starts after
    (the page's last one with an id; ``None`` on the last page)."""

    data: list[dict[str, Any]]
    has_more: bool
    after: dict[str, Any] | None


# --- Streams -------------------------------------------------------------------------------------


class BackfillStream:
    """One list endpoint paged to its end once; later runs yield nothing."""

    def __init__(
        self,
        connector: StripeConnector,
        name: str,
        kind: str,
        path: str,
        params: tuple[tuple[str, str], ...],
    ) -> None:
        self.name = name
        self.kind = kind
        self.path = path
        self.params = params
        self._connector = connector
        # The runner keeps this kind's listing honest: it knows when a listing started from
        # the top, and once the list is at its end (``completed_listing``) it retires what the
        # listing did not bring.
        self.lists_kind = kind
        self.completed_listing: str | None = None

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages from ``cursor`` to the end of the list; nothing when the backfill is done."""
        self.completed_listing = None
        state = decode_cursor(cursor, _BackfillCursor, f"stripe {self.name}") or _BackfillCursor()
        started = self._connector.now()
        at = state.at if state.at is not None else int(started)
        self._connector.backfill_started(self.name, at)
        if state.done:
            self.completed_listing = self.kind
            return
        observed = iso_utc(started)
        pages = self._connector.list_pages(
            self.path, self.params, self.name, state.starting_after, state.created
        )
        for body in pages:
            objects = [
                VendorObject(
                    self.kind, self._connector.completed(self.kind, obj), observed_at=observed
                )
                for obj in body.data
            ]
            objects += [
                notice
                for obj in objects
                for notice in placed_refund_notices(placed_refunds(obj.payload), observed)
            ]
            last = body.after
            following = _BackfillCursor(
                starting_after=None if last is None else str(last["id"]),
                created=None if last is None else _created(last),
                done=last is None,
                at=at,
            )
            if last is None:
                self.completed_listing = self.kind
            yield Page(objects, encode_cursor(following))


def _created(obj: Mapping[str, Any]) -> int | None:
    created = obj.get("created")
    return created if isinstance(created, int) and not isinstance(created, bool) else None


class StripeConnector:
    """Stripe customers, subscriptions, invoices, charges and disputes; events for changes."""

    source = SOURCE

    def __init__(
        self,
        client: httpx.Client,
        *,
        api_key: str | None,
        webhook_secret: str | None,
        base_url: str = "https://api.stripe.com",
        stripe_version: str = API_VERSION,
        page_size: int = 100,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        policy: RetryPolicy | None = None,
    ) -> None:
        if not 1 <= page_size <= 100:
            raise ConfigurationError(f"stripe page_size must be 1..100, not {page_size}")
        headers = {"Stripe-Version": stripe_version}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.http = VendorHttp(
            client,
            base_url=base_url,
            headers=headers,
            secrets=[s for s in (api_key, webhook_secret) if s],
            policy=policy,
            decide=stripe_should_retry,
            sleep=sleep,
        )
        self.page_size = page_size
        self.now = now
        self._has_key = bool(api_key)
        self._webhook_secret = webhook_secret
        self._backfill_at: dict[str, int] = {}

    def streams(self) -> list[Stream]:
        """The five backfill streams (people first), then ``events``."""
        backfills: list[Stream] = [
            BackfillStream(self, name, kind, path, params)
            for name, kind, path, params in BACKFILL_STREAMS
        ]
        return [*backfills, EventsStream(self)]

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        """Raise ``WebhookRejected`` unless ``Stripe-Signature`` is valid and at most 300 s old."""
        verify_signature(self._webhook_secret, headers, raw_body, now)

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """The event's object; ``MappingError`` for malformed bodies and thin (v2) events."""
        return parse_delivery(raw_body)

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        """``GET /v1/<kind>s/<id>`` (a charge with all its refunds); ``None`` when Stripe answers
        404 (``resource_missing``).

        Kind ``refund`` (a refund that named no charge when delivered) answers with the charge
        that shows the refund now (``refund_charge``, when that charge lists it), or the refund
        itself when no charge does: kept raw, as ``map_record`` refuses it, rather than dropped.
        """
        if kind == UNPLACED_REFUND_KIND:
            return self._refund_holder(external_id)
        path = _PATHS.get(kind)
        if path is None:
            raise MappingError(f"unknown stripe kind {kind!r}", source=SOURCE)
        # Dated when it was asked for, as the backfill dates its pages: Stripe objects carry no
        # modification time, so this date is the copy's version, and one taken after the answer
        # could be later than a deletion made while the answer was on its way (the live copy
        # would then outrank the deletion for good).
        asked = iso_utc(self.now())
        payload = self._retrieve(path, external_id, _EXPAND.get(kind))
        if payload is None:
            return None
        deleted = payload.get("deleted") is True
        payload = self.completed(kind, payload)
        return VendorObject(kind, payload, observed_at=asked, deleted=deleted)

    def completed(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` with all it holds: a charge whose expanded ``refunds`` say ``has_more``
        gets the rest from ``GET /v1/refunds?charge=<id>``, so the context lists every refund
        and they add up to ``amount_refunded``."""
        refunds = payload.get("refunds")
        if kind != "charge" or not isinstance(refunds, dict) or refunds.get("has_more") is not True:
            return payload
        if not has_id(payload):
            return payload  # kept raw, as a rejected record: no refunds to list by its id
        held = [r for r in refunds.get("data") or [] if isinstance(r, dict)]
        with_id = [r for r in held if has_id(r)]
        charge = str(payload["id"])
        after = str(with_id[-1]["id"]) if with_id else None
        listed = {str(r["id"]): r for r in with_id}
        idless = [r for r in held if not has_id(r)]
        params = (("charge", charge),)
        for body in self.list_pages(_REFUNDS_PATH, params, f"charge {charge} refunds", after):
            listed.update(
                (str(r["id"]), r) for r in body.data if has_id(r) and str(r["id"]) not in listed
            )
            idless += [r for r in body.data if not has_id(r) and r not in idless]
        whole = {**refunds, "data": [*listed.values(), *idless], "has_more": False}
        return {**payload, "refunds": whole}

    def refund_charge(self, refund: Mapping[str, Any]) -> str | None:
        """The charge a refund paid back: its ``charge``, else its payment intent's
        ``latest_charge`` (``GET /v1/payment_intents/<id>``); ``None`` when neither names one."""
        charge = expanded_id(refund.get("charge"))
        intent_id = expanded_id(refund.get("payment_intent"))
        if charge is not None or intent_id is None:
            return charge
        intent = self._retrieve(_INTENTS_PATH, intent_id)
        return None if intent is None else expanded_id(intent.get("latest_charge"))

    def _refund_holder(self, refund_id: str) -> VendorObject | None:
        """The current copy of the charge that shows a refund, else the refund itself."""
        asked = iso_utc(self.now())  # as ``fetch_one``: dated when asked for
        refund = self._retrieve(_REFUNDS_PATH, refund_id)
        if refund is None:
            return None
        charge = self.refund_charge(refund)
        holder = None if charge is None else self.fetch_one("charge", charge)
        if holder is not None and refund_id in placed_refunds(holder.payload):
            return holder
        log.warning("%s", unplaced_note(refund, charge))
        return VendorObject(UNPLACED_REFUND_KIND, refund, observed_at=asked)

    def _retrieve(
        self, path: str, external_id: str, params: list[tuple[str, str]] | None = None
    ) -> dict[str, Any] | None:
        """``GET <path>/<id>``; ``None`` when Stripe answers 404 ``resource_missing``."""
        try:
            payload = self._get(f"{path}/{quote(external_id, safe='')}", params)
        except FatalError as exc:
            if _stripe_error(exc, 404).get("code") == "resource_missing":
                return None
            raise  # a 404 of another kind (a wrong base URL, a proxy) says nothing of the object
        if not isinstance(payload, dict):
            raise FatalError(f"stripe GET {path}/{external_id}: the answer is not an object")
        return payload

    def needs_full_backfill(self, cursors: Mapping[str, str | None]) -> bool:
        """Whether the events stream would start beyond Stripe's 30-day event window.

        True when the events cursor (or, before the first events run, the earliest backfill
        start) is older than 30 days: changes were lost, so every stream must start over.
        """
        events = decode_cursor(cursors.get("events"), _EventsCursor, "stripe events")
        if events is not None:
            start: int | None = events.created
        else:
            start = _earliest_start(cursors)
        return start is not None and self.now() - start > EVENT_WINDOW_SECONDS

    # --- used by the streams ---

    def backfill_started(self, stream: str, at: int) -> None:
        """Remember when ``stream``'s current backfill started (a first events run starts there)."""
        self._backfill_at[stream] = at

    def first_events_start(self, now: float) -> int:
        """Where a cursor-less events run starts: the earliest backfill start, less a margin."""
        earliest = min(self._backfill_at.values(), default=int(now))
        return min(earliest, int(now)) - EVENTS_MARGIN_SECONDS

    def list_pages(
        self,
        path: str,
        params: tuple[tuple[str, str], ...],
        stream: str,
        after: str | None,
        after_created: int | None = None,
    ) -> Iterator[_Listed]:
        """A list endpoint's pages from ``starting_after=after`` until ``has_more`` is false.

        An object without an id is listed like the others (ingest keeps it raw, as a rejected
        record, and reports it). The next page starts after the page's last object that has an
        id: when objects without one end the page, that page starts with them again (as they
        are then: what they were is left out, so each is given once) and goes on past them. A
        page with more to come and no id at all cannot be listed past: ``FatalError``.

        Stripe refuses a ``starting_after`` object that has been deleted since (400
        ``resource_missing``): the list then goes on from that object's second
        (``created[lte]=after_created``; the objects of that second already read are read again,
        which changes nothing), or from the top when its second is not known (a cursor written
        before it was kept). Without this, a deleted draft invoice at a page boundary would stop
        the backfill, and every stream after it, for good.
        """
        guard = LoopGuard(stream)
        query_params = list(params)
        given: list[dict[str, Any]] = []  # the objects without an id that ended the last page
        while True:
            guard.check(after)
            query = [("limit", str(self.page_size)), *query_params]
            if after is not None:
                query.append(("starting_after", after))
            try:
                body = self._list_body(path, query, stream)
            except FatalError as exc:
                if after is None or not _missing_starting_after(exc):
                    raise
                log.warning("stripe %s: %s was deleted; listing on from its second", stream, after)
                after = None
                if after_created is not None:
                    query_params = [*params, ("created[lte]", str(after_created))]
                continue
            resume = _resume_point(body, stream)
            data = [obj for obj in body.data if has_id(obj) or obj not in given]
            yield _Listed(data, body.has_more, resume)
            if resume is None:
                return
            given = body.data[_position(body.data, resume) + 1 :]
            after, after_created = str(resume["id"]), _created(resume)

    def _list_body(self, path: str, query: list[tuple[str, str]], stream: str) -> _ListBody:
        raw = self._get(path, query)
        try:
            body = msgspec.convert(raw, _ListBody)
        except msgspec.ValidationError as exc:
            raise FatalError(f"stripe {stream}: malformed list page: {exc}") from exc
        if body.has_more and not body.data:
            raise FatalError(f"stripe {stream}: has_more with an empty page")
        return body

    def _get(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        if not self._has_key:
            raise ConfigurationError("no Stripe API key configured")
        response = self.http.request("GET", path, params=params)
        try:
            return vendor_json(response.content)
        except msgspec.DecodeError as exc:
            raise FatalError(f"stripe GET {path}: malformed JSON: {exc}") from exc


def has_id(obj: Mapping[str, Any]) -> bool:
    """Whether a listed object has an id (Stripe's are non-empty strings)."""
    ident = obj.get("id")
    return isinstance(ident, str) and ident != ""


def _resume_point(body: _ListBody, stream: str) -> dict[str, Any] | None:
    """The object the next page starts after: the page's last one with an id; ``None`` on the
    last page. ``FatalError`` when more follow and no object on the page has an id."""
    if not body.has_more:
        return None
    found: dict[str, Any] | None = next((o for o in reversed(body.data) if has_id(o)), None)
    if found is None:
        raise FatalError(
            f"stripe {stream}: none of the {len(body.data)} objects of a page has an id, so "
            "the list cannot go on from it (starting_after)"
        )
    return found


def _position(data: list[dict[str, Any]], obj: dict[str, Any]) -> int:
    """Where ``obj`` itself (not an equal copy) is in ``data``."""
    return next(i for i, item in enumerate(data) if item is obj)


def _missing_starting_after(exc: FatalError) -> bool:
    """Whether Stripe refused the request because its ``starting_after`` object is gone."""
    error = _stripe_error(exc, 400, 404)
    return error.get("code") == "resource_missing" and error.get("param") == "starting_after"


def _stripe_error(exc: FatalError, *statuses: int) -> dict[str, Any]:
    """The ``error`` object of Stripe's answer when its status is one of ``statuses``, or
    ``{}`` (another status, or a body that is not Stripe's error shape)."""
    if exc.extra.get("status") not in statuses:
        return {}
    try:
        error = msgspec.json.decode(str(exc.extra.get("body", ""))).get("error", {})
    except (msgspec.DecodeError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def _earliest_start(cursors: Mapping[str, str | None]) -> int | None:
    """The earliest backfill ``at`` in ``cursors``, less the events margin."""
    starts = []
    for name, *_ in BACKFILL_STREAMS:
        state = decode_cursor(cursors.get(name), _BackfillCursor, f"stripe {name}")
        if state is not None and state.at is not None:
            starts.append(state.at)
    return min(starts) - EVENTS_MARGIN_SECONDS if starts else None
