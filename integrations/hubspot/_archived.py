"""Deletions without webhooks: archived CRM objects listed with ``archived=true``.

The search API never returns archived (deleted) records, so without this a contact, company or
deal deleted in HubSpot while webhooks were not configured, or whose ``*.deletion`` delivery was
lost past HubSpot's retries, would stay live in the store. ``GET /crm/v3/objects/{type}
?archived=true&limit=100&after=...`` lists what sits in the recycling bin (HubSpot keeps archived
records restorable for 90 days), each with ``archivedAt``; ``ArchivedStream`` turns each into a
deletion notice (``tombstone``) dated by its ``archivedAt`` (or its ``updatedAt``, if later), so
an older copy never brings it back and a restore, which sets a newer modification time, does.

Cost: the list cannot be filtered by time, so each listing reads every archived object of the
type (one request per 100, paced and retried like every other request of the connector). A
stream lists at most once per ``every_seconds`` (an hour by default), and on every full sync
(its cursor is then ``None``). Its cursor records the newest deletion time already emitted
(``since``, ms) and when the last listing started (``listed``, ms); a listing emits only the
objects deleted after ``since``, so a second run is a no-op. ``since`` never moves past the
run's start less the settle time, so an object whose archiving is still being indexed is not
skipped. While paging the cursor also holds ``high`` (newest time seen) and ``after``. An
archived object listed without an id names no record to delete: it is left out, and the page's
note says so (the listing pages by ``after``, so the rest goes on).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import msgspec

from context_service.errors import FatalError
from integrations._connector import Page, VendorObject
from integrations._convert import iso_utc
from integrations._pagination import LoopGuard
from integrations.hubspot._search import ObjectSpec, decode_cursor, encode_cursor, parse_ms

__all__ = [
    "LIST_LIMIT",
    "ArchivedCursor",
    "ArchivedStream",
    "Lister",
    "deleted_ms",
    "listed_results",
    "next_after",
    "tombstone",
    "with_ids",
]

log = logging.getLogger("integrations.hubspot")

Json = dict[str, Any]
LIST_LIMIT = 100  # the list endpoints' ``limit`` maximum


class ArchivedCursor(msgspec.Struct, omit_defaults=True):
    """Deletions at or before ``since`` are emitted; the last listing started at ``listed``."""

    since: int = 0
    listed: int | None = None
    high: int | None = None
    after: str | None = None


class Lister(Protocol):
    """What the stream needs from the connector."""

    page_size: int

    def get_json(self, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        """A paced GET, decoded."""
        ...


def deleted_ms(obj: Json) -> int | None:
    """When an archived object was deleted, in epoch ms: ``archivedAt``, or ``updatedAt`` if
    later (the newest state HubSpot reports for it); ``None`` when neither is readable."""
    values = [obj.get("archivedAt"), obj.get("updatedAt")]
    times = [parse_ms(v.strip()) for v in values if isinstance(v, str) and v.strip()]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def tombstone(kind: str, obj: Json, *, only_if_stored: bool = False) -> VendorObject:
    """The deletion notice of one archived object, dated by ``deleted_ms``; with
    ``only_if_stored`` it deletes a stored record and stores nothing for any other."""
    when = _deleted_at(obj, f"archived {kind}")
    payload = {"id": str(obj["id"]), "archived": True, "archivedAt": obj.get("archivedAt")}
    return VendorObject(
        kind, payload, observed_at=iso_utc(when), deleted=True, only_if_stored=only_if_stored
    )


class ArchivedStream:
    """One object type's archived records as deletion notices (see the module docstring)."""

    def __init__(
        self,
        lister: Lister,
        spec: ObjectSpec,
        now_ms: Callable[[], int],
        upper_ms: Callable[[], int],
        every_seconds: float,
    ) -> None:
        self.name = f"{spec.stream}_archived"
        self.spec = spec
        self._lister = lister
        self._now_ms = now_ms
        self._upper_ms = upper_ms
        self._every_ms = int(every_seconds * 1000)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages of deletions newer than the cursor; nothing when the last listing is recent."""
        state = decode_cursor(cursor, self.name, ArchivedCursor)
        started = self._now_ms()
        if self._listed_recently(state, started):
            return
        listed = state.listed if state.after is not None and state.listed else started
        yield from self._listing(state, listed)

    def _listed_recently(self, state: ArchivedCursor, now: int) -> bool:
        """A listing finished less than ``every_seconds`` before ``now`` (none in progress)."""
        finished = state.after is None and state.listed is not None
        return finished and now - (state.listed or 0) < self._every_ms

    def _listing(self, state: ArchivedCursor, listed: int) -> Iterator[Page]:
        high = state.high if state.high is not None else state.since
        upper = self._upper_ms()
        guard = LoopGuard(self.name)
        after = state.after
        while True:
            guard.check(after)
            body = self._lister.get_json(self._path(), self._params(after))
            objects, note = with_ids(listed_results(body, self.name), self.name)
            times = [_deleted_at(obj, self.name) for obj in objects]
            high = max([high, *times])
            fresh = [o for o, t in zip(objects, times, strict=True) if t > state.since]
            after = next_after(body)
            if after is not None:
                following = ArchivedCursor(state.since, listed, high, after)
            else:
                following = ArchivedCursor(min(high, max(upper, state.since)), listed)
            notices = [tombstone(self.spec.kind, o, only_if_stored=True) for o in fresh]
            yield Page(notices, encode_cursor(following), note=note)
            if after is None:
                return

    def _path(self) -> str:
        return f"/crm/v3/objects/{self.spec.object_type}"

    def _params(self, after: str | None) -> list[tuple[str, str]]:
        limit = min(self._lister.page_size, LIST_LIMIT)
        params = [("archived", "true"), ("limit", str(limit)), ("properties", "hs_object_id")]
        return params + ([("after", after)] if after else [])


def _deleted_at(obj: Json, stream: str) -> int:
    when = deleted_ms(obj)
    if when is None:
        raise FatalError(f"hubspot {stream}: {obj.get('id')!r} has no archivedAt or updatedAt")
    return when


def listed_results(body: Any, stream: str) -> list[Json]:
    """The ``results`` of a list answer, each an object (``FatalError`` if not). A result
    without an id is kept: a record is then stored raw, as rejected, and reported; where an
    id is needed, ``with_ids`` leaves it out and says so."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise FatalError(f"hubspot {stream}: the answer has no list of results")
    return results


def has_id(obj: Json) -> bool:
    """Whether a result has an id (a number, or a non-empty string)."""
    ident = obj.get("id")
    return isinstance(ident, str | int) and not isinstance(ident, bool) and str(ident) != ""


def with_ids(results: list[Json], stream: str) -> tuple[list[Json], str | None]:
    """The results that have an id, and a note (also logged) on those left out, if any: a
    deletion or a label that names no id has nothing to apply to."""
    kept = [obj for obj in results if has_id(obj)]
    if len(kept) == len(results):
        return kept, None
    note = f"hubspot {stream}: {len(results) - len(kept)} result(s) without an id left out"
    log.warning("%s", note)
    return kept, note


def next_after(body: Json) -> str | None:
    """The ``paging.next.after`` of a list answer: the next page's cursor, if any."""
    paging = body.get("paging")
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return str(after) if after is not None else None
