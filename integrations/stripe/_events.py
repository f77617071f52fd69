"""The Stripe ``events`` stream: changes after the backfills, through the Events API.

Cursor ``{"created": <unix>, "ids": ["evt_..."]}``: the newest event applied and the ids already
applied at that second (ties are broken by id). Events are listed in slices of ``created``
time per group of at most 20 types, oldest first; see ``connector`` for the whole design.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from context_service.errors import FatalError, MappingError
from integrations._connector import Page, VendorObject
from integrations._convert import iso_utc
from integrations._pagination import decode_cursor, encode_cursor
from integrations.stripe._whole import whole_charges
from integrations.stripe.mapping import UNPLACED_REFUND_KIND
from integrations.stripe.webhooks import (
    LISTED_EVENT_TYPES,
    Event,
    chargeless_refund,
    charges_to_refresh,
    decode_event,
    event_objects,
    expanded_id,
    placed_refund_notices,
    placed_refunds,
    refunds_incomplete,
)

if TYPE_CHECKING:
    from integrations.stripe.connector import StripeConnector

_T = TypeVar("_T")
Json = dict[str, Any]

EVENT_WINDOW_SECONDS = 30 * 86_400  # "List events, going back up to 30 days"
EVENTS_MARGIN_SECONDS = 300  # lookback for a first events run (clock skew, slow backfill pages)
# Events younger than this at the start of a run wait for the next one (see the module docstring).
EVENTS_SETTLE_SECONDS = 60
IDLE_ADVANCE_SECONDS = 86_400  # an idle events cursor moves up to now - margin once a day
MAX_TYPES_PER_REQUEST = 20  # Stripe accepts at most 20 `types[]` per events request
WINDOW_NOTE = "events cursor older than Stripe's 30-day window: full backfill required"


class _EventsCursor(msgspec.Struct, omit_defaults=True):
    created: int
    ids: list[str] = []
    id: str | None = None  # accepted on input ({"created", "id"}), never written


class _Group(msgspec.Struct):
    """One request's worth of event types, listed slice by slice."""

    types: tuple[str, ...]
    listed_to: int  # every event of these types created before this second has been listed
    width: int  # the next slice's width in seconds
    held: list[Event] = []  # listed, new, not emitted yet; oldest first


def _batched(items: Iterable[_T], size: int) -> Iterator[tuple[_T, ...]]:
    """``itertools.batched`` (Python 3.12) for 3.11."""
    iterator = iter(items)
    while chunk := tuple(islice(iterator, size)):
        yield chunk


def _event_ids(state: _EventsCursor) -> set[str]:
    return set(state.ids) | ({state.id} if state.id else set())


def _advance(state: _EventsCursor, chunk: tuple[Event, ...]) -> _EventsCursor:
    """The cursor after applying ``chunk`` (ascending): newest second and its ids."""
    last = chunk[-1].created
    ids = [event.id for event in chunk if event.created == last]
    if last == state.created:
        ids = sorted(_event_ids(state)) + ids
    return _EventsCursor(created=last, ids=ids)


def _is_new(event: Event, state: _EventsCursor, seen: set[str]) -> bool:
    return event.created > state.created or (
        event.created == state.created and event.id not in seen
    )


class EventsStream:
    """Changes since the cursor, from ``GET /v1/events``, emitted oldest first."""

    name = "events"

    def __init__(self, connector: StripeConnector) -> None:
        self._connector = connector

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """New events' objects, ``page_size`` events a page; a stale cursor yields one note."""
        now = self._connector.now()
        state = decode_cursor(cursor, _EventsCursor, f"stripe {self.name}")
        start = state or _EventsCursor(created=self._connector.first_events_start(now))
        if now - start.created > EVENT_WINDOW_SECONDS:
            yield Page([], None, note=WINDOW_NOTE)
            return
        horizon, emitted = int(now) - EVENTS_SETTLE_SECONDS, False
        fetched: dict[str, VendorObject | None] = {}  # charges fetched during this run
        for events in self._slices(start, horizon):
            for chunk in _batched(events, self._connector.page_size):
                start, emitted = _advance(start, chunk), True
                yield self._page(chunk, encode_cursor(start), fetched)
        quiet = _quiet_cursor(state, start, now, emitted=emitted)
        if quiet is not None:
            yield Page([], encode_cursor(quiet))

    def _page(
        self, chunk: tuple[Event, ...], cursor: str, fetched: dict[str, VendorObject | None]
    ) -> Page:
        """The objects of ``chunk``'s events, and the whole copy of each charge whose refunds
        they changed, which replaces the events' copies of it.

        The whole copy is the page's own when it shows every refund (``whole_charges``), else
        the current one, fetched once a run (``fetched``): observed after the run started, it
        is newer than every event the run lists, so later pages leave their copies of it out.
        A refund that names no charge is placed on its payment intent's charge when a copy on
        the page lists it, else emitted as a ``refund`` (kept raw) with a note. When a charge
        is gone (404) its events' copies that lack refunds are left out (they would replace
        the refunds already stored) and it is noted.
        Every refund a charge shows on this page ends its copy kept raw, if one is stored
        (``placed_refund_notices``).
        """
        chargeless = self._chargeless(chunk)
        fresh, new = self._charges(chunk, chargeless, fetched)
        objects = [
            obj for event in chunk for obj in event_objects(event) if not _superseded(obj, fresh)
        ]
        current = [obj for obj in new.values() if obj is not None]
        notices = _placed_notices(chunk, current)
        placed = {notice.payload["id"] for notice in notices}  # a refund never loses its charge
        unplaced = [
            (VendorObject(UNPLACED_REFUND_KIND, refund, observed_at=iso_utc(event.created)), charge)
            for event, refund, charge in chargeless
            if refund["id"] not in placed and not _shows(fresh.get(charge or ""), refund)
        ]
        notes = [_gone_note(charge) for charge, obj in new.items() if obj is None]
        notes += [unplaced_note(obj.payload, charge) for obj, charge in unplaced]
        kept_raw = [obj for obj, _ in unplaced]
        return Page(objects + kept_raw + current + notices, cursor, note="; ".join(notes) or None)

    def _chargeless(self, chunk: tuple[Event, ...]) -> list[tuple[Event, Json, str | None]]:
        """Each refund on the page that names no charge, with its payment intent's charge."""
        found: list[tuple[Event, Json, str | None]] = []
        for event in chunk:
            refund = chargeless_refund(event)
            if refund is not None:
                found.append((event, refund, self._connector.refund_charge(refund)))
        return found

    def _charges(
        self,
        chunk: tuple[Event, ...],
        chargeless: list[tuple[Event, Json, str | None]],
        fetched: dict[str, VendorObject | None],
    ) -> tuple[dict[str, VendorObject | None], dict[str, VendorObject | None]]:
        """The whole copy of each charge whose refunds the page changed (``None``: gone), and
        of those the ones this page emits: all but the charges fetched on an earlier page."""
        intents = [charge for _, _, charge in chargeless if charge is not None]
        wanted = [*(c for event in chunk for c in charges_to_refresh(event)), *intents]
        whole = {c: obj for c, obj in whole_charges(chunk).items() if c not in intents}
        new = {
            c: whole[c] if c in whole else self._fetch(c, fetched)
            for c in dict.fromkeys(wanted)
            if c not in fetched
        }
        return {**{c: fetched[c] for c in wanted if c in fetched}, **new}, new

    def _fetch(self, charge: str, fetched: dict[str, VendorObject | None]) -> VendorObject | None:
        """The charge's current copy with all its refunds, remembered for the rest of the run."""
        fetched[charge] = self._connector.fetch_one("charge", charge)
        return fetched[charge]

    def _slices(self, state: _EventsCursor, horizon: int) -> Iterator[list[Event]]:
        """The new events of ``[state.created, horizon)``, oldest first, in batches.

        Each type group is listed on its own, one slice at a time; a batch is every held event
        created before the second that all groups have been listed to, so it is complete.
        """
        groups = [
            _Group(types, state.created, horizon - state.created)
            for types in _batched(LISTED_EVENT_TYPES, MAX_TYPES_PER_REQUEST)
        ]
        frontier = state.created
        while frontier < horizon:
            for group in groups:
                if group.listed_to == frontier:
                    self._extend(group, state, horizon)
            frontier = min(group.listed_to for group in groups)
            ready: dict[str, Event] = {}
            for group in groups:
                ready.update((event.id, event) for event in group.held if event.created < frontier)
                group.held = [event for event in group.held if event.created >= frontier]
            yield sorted(ready.values(), key=lambda event: event.created)

    def _extend(self, group: _Group, state: _EventsCursor, horizon: int) -> None:
        """List ``group``'s next slice, one page at most (one second is paged through), and hold
        its new events; a slice with more than a page is narrowed and listed again."""
        low, page_size = group.listed_to, self._connector.page_size
        while True:
            high = min(low + group.width, horizon)
            listed, complete = self._list(low, high, group.types, whole=high - low <= 1)
            if complete:
                break
            group.width = _narrowed(low, high, min(event.created for event in listed))
        seen = _event_ids(state)
        group.held.extend(
            event
            for event in reversed(listed)
            if low <= event.created < high and _is_new(event, state, seen)
        )
        group.listed_to = high
        group.width = _widened(high - low, len(listed), page_size)

    def _list(
        self, low: int, high: int, types: tuple[str, ...], *, whole: bool
    ) -> tuple[list[Event], bool]:
        """The events of ``types`` created in ``[low, high)``, newest first, and whether that is
        all of them: unless ``whole``, only the first page is fetched."""
        params = (
            ("created[gte]", str(low)),
            ("created[lt]", str(high)),
            *(("types[]", name) for name in types),
        )
        name = f"{self.name}[{types[0]}..]"
        events: list[Event] = []
        for body in self._connector.list_pages("/v1/events", params, name, None):
            events.extend(_decode_listed(obj, name) for obj in body.data)
            if body.has_more and not whole:
                return events, False
        return events, True


def _superseded(obj: VendorObject, fresh: Mapping[str, VendorObject | None]) -> bool:
    """Whether an event's copy of a charge gives way: to the charge's current copy, or, when
    Stripe no longer has the charge, because it lacks refunds the stored copy holds."""
    charge = obj.payload.get("id")
    if obj.kind != "charge" or not isinstance(charge, str) or charge not in fresh:
        return False
    return fresh[charge] is not None or refunds_incomplete(obj.payload)


def _placed_notices(chunk: Iterable[Event], current: Iterable[VendorObject]) -> list[VendorObject]:
    """One notice for each refund a charge shows on this page (an event's refund that names
    its charge, a refund on an event's or a fetched copy of a charge), dated by the newest
    copy that shows it."""
    latest: dict[str, VendorObject] = {}
    shown = [(event.data.object, iso_utc(event.created)) for event in chunk]
    shown += [(obj.payload, obj.observed_at) for obj in current]
    for payload, observed in shown:
        for notice in placed_refund_notices(placed_refunds(payload), observed):
            latest.pop(str(notice.payload["id"]), None)
            latest[str(notice.payload["id"])] = notice
    return list(latest.values())


def _gone_note(charge: str) -> str:
    return (
        f"stripe charge {charge}: not found when refetched for its refunds (404); "
        "its stored copy was kept"
    )


def _shows(charge: VendorObject | None, refund: Mapping[str, Any]) -> bool:
    """Whether a charge's copy lists the refund."""
    return charge is not None and refund.get("id") in placed_refunds(charge.payload)


def unplaced_note(refund: Mapping[str, Any], charge: str | None = None) -> str:
    """Why a refund is kept raw: it names no charge, and no charge lists it (its payment
    intent names none, or ``charge``, its intent's charge, does not list it)."""
    intent = expanded_id(refund.get("payment_intent"))
    if charge is not None:
        whose = f"and its payment intent's charge {charge} does not list it"
    else:
        whose = f"nor does its payment intent {intent}" if intent else "and no payment intent"
    return f"stripe refund {refund.get('id')}: names no charge, {whose}; kept raw, on no charge"


def _narrowed(low: int, high: int, oldest: int) -> int:
    """The width to list from ``low`` after ``[low, high)`` had more than a page, whose first
    (newest) page reached back to ``oldest``: three quarters of the time that page spanned,
    so about three quarters of a page at its rate, but from an eighth to a half of the slice."""
    width = high - low
    return max(1, min(max((high - max(oldest, low)) * 3 // 4, width // 8), width // 2))


def _widened(width: int, count: int, page_size: int) -> int:
    """The next slice's width after ``width`` seconds held ``count`` events: about three
    quarters of a page at that rate, but from half to twice ``width`` (twice when empty)."""
    if count == 0:
        return 2 * width
    aim = width * 3 * page_size // (4 * count)
    return max(1, width // 2, min(aim, 2 * width))


def _quiet_cursor(
    state: _EventsCursor | None, start: _EventsCursor, now: float, *, emitted: bool
) -> _EventsCursor | None:
    """The cursor to store once a run has listed every event up to its horizon (``None``: keep
    the one stored last).

    A cursor whose newest event is a day old moves up to now less the margin, whether or not
    this run applied events (all of them older than that, so none is listed again), so a quiet
    account does not drift out of the 30-day window; a first run that found nothing stores its
    starting point.
    """
    if start.created < now - IDLE_ADVANCE_SECONDS:
        return _EventsCursor(created=int(now) - EVENTS_MARGIN_SECONDS)
    return start if state is None and not emitted else None


def _decode_listed(obj: dict[str, Any], stream: str) -> Event:
    try:
        return decode_event(obj)
    except MappingError as exc:
        raise FatalError(f"stripe {stream}: malformed event {obj.get('id')!r}: {exc}") from exc


# --- The connector -------------------------------------------------------------------------------
