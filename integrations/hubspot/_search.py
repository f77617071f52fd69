"""Incremental CRM streams over ``POST /crm/v3/objects/{type}/search``, past the 10,000 cap.

Only search filters on modification time (``lastmodifieddate`` for contacts,
``hs_lastmodifieddate`` for everything else), and one query never returns more than 10,000
results: paging further is answered 400. So every page here is a fresh query that starts where
the last page ended (keyset paging), and ``after`` is never sent:

* **main**: ``modified GTE since AND modified LTE upper``, sorted by ``modified`` ascending.
  A full page ending at ``t`` moves ``since`` to ``t`` (inclusive: same-millisecond records are
  never lost; those already emitted in this run are skipped by id).
* **tie-break**: when a full page holds nothing but ``since`` itself (more records share one
  timestamp than a page holds: HubSpot's bulk updates touch thousands at once), the stream
  switches to ``modified EQ since AND hs_object_id GT after_id`` sorted by ``hs_object_id``,
  page after page, then continues the main query at ``since + 1`` ms.

``upper`` is the run's start less ``settle`` seconds, so a run ends, and records still being
indexed are left to the next run. Cursor: ``{"since": <ms>, "after_id": <id>}``, committed per
page; it only ever moves forward. Searches return no associations; the connector adds them.
Each record's ``hs_merged_object_ids`` go out beside it as deletion notices (``merge_notices``).

A result without a numeric id is emitted as it is, without associations (ingest keeps it raw,
as a rejected record, and reports it), once a run. Paging needs no id but in the tie-break,
which goes on from the page's highest id: a result without one that ends the page is read again
at the top of the next page (and not emitted twice), and no record is skipped, as every one
after that id comes next. Only a full tie-break page with no id at all is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol, TypeVar

import msgspec

from context_service.errors import FatalError
from integrations._connector import Page, VendorObject
from integrations._convert import iso_utc
from integrations._pagination import LoopGuard
from integrations.hubspot.mapping import MERGED_IDS_PROPERTY
from integrations.hubspot.webhooks import deletion_notice

__all__ = [
    "ObjectSpec",
    "SearchCursor",
    "SearchStream",
    "highest_id",
    "merge_notices",
    "modified_ms",
    "object_id",
    "parse_ms",
]

Json = dict[str, Any]


class ObjectSpec(msgspec.Struct, frozen=True):
    """One CRM object type: stream name, mapper kind, API type, cursor property, associations."""

    stream: str
    kind: str
    object_type: str
    modified: str
    associations: tuple[str, ...] = ()


class SearchCursor(msgspec.Struct, omit_defaults=True):
    """Everything modified before ``since`` is done, and at ``since`` every id <= ``after_id``."""

    since: int = 0
    after_id: int | None = None


class Searcher(Protocol):
    """What the stream needs from the connector."""

    page_size: int

    def search(self, spec: ObjectSpec, body: Json) -> list[Json]:
        """One search request's results."""
        ...

    def complete(self, spec: ObjectSpec, results: list[Json]) -> list[Json]:
        """The results with what search leaves out (associations, labels) added."""
        ...

    def followers(self, spec: ObjectSpec, changed: list[Json]) -> list[VendorObject]:
        """Other records to emit again because these changed (a company's contacts)."""
        ...


def modified_ms(obj: Json, prop: str) -> int | None:
    """The object's modification time in epoch ms (property, else ``updatedAt``), if readable."""
    properties = obj.get("properties")
    candidates = [properties.get(prop) if isinstance(properties, dict) else None]
    candidates.append(obj.get("updatedAt"))
    for value in candidates:
        if isinstance(value, str) and value.strip():
            parsed = parse_ms(value.strip())
            if parsed is not None:
                return parsed
    return None


def parse_ms(value: str) -> int | None:
    """Epoch ms from digits or an ISO-8601 time; ``None`` when it is neither."""
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def object_id(obj: Json) -> int | None:
    """A result's numeric id; ``None`` when it has none (a result kept raw, see above)."""
    raw = obj.get("id")
    text = str(raw) if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
    return int(text) if text.isascii() and text.isdigit() else None


def highest_id(results: list[Json], what: str) -> int:
    """The highest numeric id among ``results``, where keyset paging by ``hs_object_id`` goes
    on from; ``FatalError`` when none has one (the next page could only be this one again)."""
    found = [ident for obj in results if (ident := object_id(obj)) is not None]
    if not found:
        raise FatalError(
            f"hubspot {what}: none of the {len(results)} results of a page has a numeric id, "
            "so paging by hs_object_id cannot go on from it"
        )
    return max(found)


def _raw_key(obj: Json) -> bytes:
    """What tells apart two results without an id: their whole content."""
    return msgspec.json.encode(obj, order="deterministic")


CursorT = TypeVar("CursorT", bound=msgspec.Struct)


def decode_cursor(cursor: str | None, stream: str, kind: type[CursorT]) -> CursorT:
    """A stream's stored cursor as its state (a fresh state when there is none yet)."""
    if cursor is None:
        return kind()
    try:
        return msgspec.json.decode(cursor, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FatalError(f"hubspot {stream}: unreadable cursor {cursor[:80]!r}: {exc}") from exc


def encode_cursor(state: msgspec.Struct) -> str:
    """A stream's state as the cursor text committed with its page."""
    return msgspec.json.encode(state).decode()


class SearchStream:
    """One CRM object type, incrementally, through the search API (see the module docstring)."""

    def __init__(
        self,
        searcher: Searcher,
        spec: ObjectSpec,
        upper_ms: Callable[[], int],
        properties: list[str],
    ) -> None:
        self.name = spec.stream
        self.spec = spec
        self._searcher = searcher
        self._upper_ms = upper_ms
        self._properties = properties
        self.page_size = searcher.page_size
        # The runner's reconciliation: it notes when a run starts without a cursor (a full
        # sync, or the first), and once ``completed_listing`` names the kind it looks up
        # each stored record of the kind that listing did not bring. A record HubSpot
        # deleted for good (a GDPR delete, or purged from the recycle bin after 90 days)
        # whose deletion webhook was not subscribed or was lost is listed nowhere else:
        # the lookup's OBJECT_NOT_FOUND retires it (``HubSpotConnector.fetch_one``).
        self.lists_kind = spec.kind
        self.completed_listing: str | None = None
        self._following = True

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages of records modified since the cursor, oldest first, each once per run.

        Every run reaches the end of its window, so ``completed_listing`` names the kind once
        the last page is out; the runner retires only after a listing that began at the top
        (a run without a cursor, or one resuming it), and records modified too recently to be
        in the window are looked up live, not retired.
        """
        self.completed_listing = None
        # From the top (a full or first sync), the streams after this one read every record
        # again anyway: what this one's changes would make them emit again is left to them.
        self._following = cursor is not None
        run = _Run(self, decode_cursor(cursor, self.name, SearchCursor), self._upper_ms())
        yield from run.pages()
        self.completed_listing = self.spec.kind

    def body(self, filters: list[Json], sort: str, limit: int) -> Json:
        """A search request body: one filter group, one ascending sort, the mapper's properties."""
        return {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": self._properties,
            "limit": limit,
        }

    def search(self, body: Json) -> list[Json]:
        """Run one search."""
        return self._searcher.search(self.spec, body)

    def emit(self, results: list[Json], state: SearchCursor) -> Page:
        """A page of ``results`` (completed with associations and labels) and its cursor; a
        result without an id as it is (nothing can be read about it by id)."""
        keyed = [obj for obj in results if object_id(obj) is not None]
        completed = self._searcher.complete(self.spec, keyed) if keyed else []
        objects = [VendorObject(self.spec.kind, obj) for obj in completed]
        objects += [VendorObject(self.spec.kind, obj) for obj in results if object_id(obj) is None]
        for obj in completed:
            objects += merge_notices(self.spec, obj)
        if self._following and completed:
            objects += self._searcher.followers(self.spec, completed)
        return Page(objects, encode_cursor(state))


def merge_notices(spec: ObjectSpec, survivor: Json) -> list[VendorObject]:
    """Deletion notices for the records HubSpot merged into ``survivor`` (its
    ``hs_merged_object_ids``), each naming it as the record it went into, as a ``*.merge``
    webhook's do: without that webhook the merged-away record would stay live beside it.

    Dated by the survivor's modification time (a merge modifies the survivor, and a merged-away
    record is never modified after it), and applied only to a record already stored: the list
    holds every id ever merged in, most of them never held here. Their payload is a webhook
    notice's, so a merge already applied, or listed again on the next change, is unchanged.
    """
    properties = survivor.get("properties")
    listed = properties.get(MERGED_IDS_PROPERTY) if isinstance(properties, dict) else None
    if not isinstance(listed, str):
        return []
    survivor_id = str(survivor["id"]).strip()
    observed_at = iso_utc(modified_ms(survivor, spec.modified))
    gone = dict.fromkeys(part.strip() for part in listed.split(";"))
    return [
        deletion_notice(spec.kind, merged, observed_at, survivor_id, only_if_stored=True)
        for merged in gone
        if merged.isdigit() and merged != survivor_id
    ]


class _Run:
    """The state of one run of a search stream."""

    def __init__(self, stream: SearchStream, state: SearchCursor, upper: int) -> None:
        self.stream = stream
        self.state = state
        self.upper = upper
        self.limit = stream.page_size
        self.prop = stream.spec.modified
        self.emitted: set[int] = set()  # ids already emitted at ``state.since`` in this run
        self.raw: set[bytes] = set()  # results without an id already emitted in this run
        self.yielded: set[str] = set()
        self.done = False
        self.guard = LoopGuard(stream.name)

    def pages(self) -> Iterator[Page]:
        while not self.done:
            tie_break = self.state.after_id is not None
            self.guard.check(encode_cursor(self.state) + (" by id" if tie_break else ""))
            page = self._tie_break() if tie_break else self._main()
            if page is not None:
                self.yielded.add(page.cursor or "")
                yield page

    def _fresh(self, results: list[Json]) -> list[Json]:
        return [
            obj
            for obj in results
            if (ident := object_id(obj)) not in self.emitted
            and (ident is not None or _raw_key(obj) not in self.raw)
        ]

    def _page(self, results: list[Json], state: SearchCursor) -> Page:
        self.state = state
        fresh = self._fresh(results)
        self.raw |= {_raw_key(obj) for obj in fresh if object_id(obj) is None}
        return self.stream.emit(fresh, state)

    def _main(self) -> Page | None:
        """One page of the main query; sets ``done`` when the window is exhausted."""
        since = self.state.since
        filters = [
            {"propertyName": self.prop, "operator": "GTE", "value": str(since)},
            {"propertyName": self.prop, "operator": "LTE", "value": str(self.upper)},
        ]
        results = self.stream.search(self.stream.body(filters, self.prop, self.limit))
        if not results:
            self.done = True
            return None
        last = max(modified_ms(results[-1], self.prop) or since, since)
        full = len(results) >= self.limit
        if full and last == since:  # a full page of one timestamp: break the tie by id
            self.state = SearchCursor(since, 0)
            return None
        at_last = {
            ident
            for o in results
            if (ident := object_id(o)) is not None and modified_ms(o, self.prop) == last
        }
        self.done = not full
        if last > since:
            page = self._page(results, SearchCursor(last))
            self.emitted = at_last
            return page
        return self._rest_at_since(results, at_last)

    def _rest_at_since(self, results: list[Json], at_since: set[int]) -> Page | None:
        """The final page when all that is left sits at ``since``.

        The cursor stays inclusive (``since`` is read again next run) unless this run already
        committed that cursor; then it records the highest id seen at ``since``.
        """
        if not self._fresh(results):
            return None
        state = SearchCursor(self.state.since)
        if encode_cursor(state) in self.yielded and (at_since | self.emitted):
            state = SearchCursor(self.state.since, max(at_since | self.emitted))
        page = self._page(results, state)
        self.emitted |= at_since
        return page

    def _tie_break(self) -> Page | None:
        """One page of ``modified EQ since AND hs_object_id GT after_id`` in id order."""
        since, after_id = self.state.since, self.state.after_id or 0
        filters = [
            {"propertyName": self.prop, "operator": "EQ", "value": str(since)},
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(after_id)},
        ]
        results = self.stream.search(self.stream.body(filters, "hs_object_id", self.limit))
        if len(results) < self.limit:
            page = self._page(results, SearchCursor(since + 1))
            self.emitted = set()
            return page if page.objects else None  # the next page commits the move
        what = f"{self.stream.name} search at {self.prop} {since}"
        return self._page(results, SearchCursor(since, highest_id(results, what)))
