"""Zendesk's incremental exports as resumable streams.

* ``organizations``: the time-based export ``GET /api/v2/incremental/organizations.json``
  (organizations have no cursor-based one). Request ``start_time``, get ``organizations``,
  ``end_time``, ``next_page``, ``end_of_stream``; the next ``start_time`` is ``end_time``, so
  organizations updated at that second come back on the next page. Cursor:
  ``{"start_time": <unix>, "ids": ["<id>", ...]}``, the ids already emitted with
  ``updated_at == start_time``; those are skipped (dedup on id and ``updated_at``). A page that
  brings nothing new at the same second (more objects share that second than a page holds, and
  all of them are already seen) moves on to the next second; a request that would repeat an
  earlier state is a loop, stopped by ``LoopGuard``.
* ``users`` and ``tickets``: the cursor-based exports ``GET /api/v2/incremental/{users,tickets}/
  cursor.json``. The very first run sends ``start_time`` (the configured start, 0 for a full
  backfill); every page's ``after_cursor`` is committed with it and every later run continues
  with ``cursor=<after_cursor>``, never re-seeding ``start_time`` from the clock (Airbyte
  #28173). Paging stops at ``end_of_stream``; its ``after_cursor`` is kept for the next run.
  Cursor: ``{"after_cursor": "..."}`` (``{"start_time": <unix>}`` until Zendesk returns one);
  tickets also record ``generated``, the highest ``generated_timestamp`` committed: the export
  matches tickets on ``generated_timestamp`` (system updates bump only that), so it says how far
  the stream has read even when ``updated_at`` did not move.

Side-loads: the user export asks for the users' side-loads (``include=identities,organizations``;
the incremental user export takes the users sideloads), one request per page instead of one per
user; each user gets its identities and its organization attached (``sideloads``), for the
mapper's extra emails and phones and its company. A page that side-loads none leaves the users
as they are.

Zendesk refuses a ``start_time`` within the last minute ("Data isn't provided for the most recent
minute"), so a first start is clamped to now - 60 s and a time-based stream whose next
``start_time`` is that recent stops until the next run. One response can hold the same object
twice (zendesk_api_client_rb #251): a page keeps one copy per id, the newest by the position
the export matches it on (``generated_timestamp`` for tickets, ``updated_at`` otherwise: users and
organizations have no ``generated_timestamp``); of two copies at one position, the later one.

Last public comment: the ticket export carries no comments, so each exported ticket that is not
deleted gets ``comments`` attached from ``GET /api/v2/tickets/{id}/comments.json?sort=-created_at``
(one request per changed ticket, usually one page; see ``ZendeskApi.latest_comments``). Only
changed tickets are fetched, because only they are exported; a ticket seen twice in one run with
the same ``updated_at`` is fetched once. ``fetch_comments=False`` turns this off, and the mapper
then falls back to the description.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from context_service.errors import FatalError
from integrations._connector import Page, VendorObject
from integrations._pagination import LoopGuard, decode_cursor, encode_cursor
from integrations.zendesk.api import ZendeskApi
from integrations.zendesk.sideloads import with_user_sideloads

__all__ = [
    "MIN_AGE_SECONDS",
    "CursorExportStream",
    "ExportOptions",
    "TimeExportStream",
    "has_id",
    "unique_by_id",
    "with_comments",
]

log = logging.getLogger("integrations.zendesk")

MIN_AGE_SECONDS = 60  # start_time "must be at least one minute in the past"
_COMMENT_CACHE_SIZE = 10_000  # tickets whose comments a run remembers (a bound, not a tuning)

_C = TypeVar("_C")


@dataclass(frozen=True)
class ExportOptions:
    """What every export stream shares: ``per_page``, the first run's start and the clock."""

    page_size: int
    first_start: int
    now: Callable[[], float]


class _TimeCursor(msgspec.Struct, omit_defaults=True):
    start_time: int
    ids: list[str] = []


class _ExportCursor(msgspec.Struct, omit_defaults=True):
    after_cursor: str | None = None
    start_time: int | None = None
    generated: int | None = None


class _TimeBody(msgspec.Struct):
    end_time: int | None = None
    end_of_stream: bool = False


class _CursorBody(msgspec.Struct):
    after_cursor: str | None = None
    end_of_stream: bool = False


def _convert(raw: dict[str, Any], into: type[_C], stream: str) -> _C:
    try:
        return msgspec.convert(raw, into)
    except msgspec.ValidationError as exc:
        raise FatalError(f"zendesk {stream}: malformed export page: {exc}") from exc


def _items(raw: dict[str, Any], key: str, stream: str) -> list[dict[str, Any]]:
    """The page's objects; ``FatalError`` when the page has no list of objects.

    An object without an id is kept: paging needs no id (the exports page by time or by
    cursor), and ingest stores it raw, as a rejected record reported with the run (its key a
    hash of the payload), while the rest of the page and the streams after it go on. Refusing
    the page would stop the source on every run, as the cursor could never move past it.
    """
    items = raw.get(key)
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise FatalError(f"zendesk {stream}: the page has no `{key}` list of objects")
    return items


def has_id(item: dict[str, Any]) -> bool:
    """Whether an object carries an id to key it by (as ``ingest`` keys a record: a number or
    a non-empty string)."""
    ident = item.get("id")
    return isinstance(ident, int | str) and not isinstance(ident, bool) and str(ident) != ""


def _raw_key(item: dict[str, Any]) -> bytes:
    """What tells apart two objects without an id: their whole content."""
    return msgspec.json.encode(item, order="deterministic")


def _unseen_raw(items: list[dict[str, Any]], seen: set[bytes]) -> list[dict[str, Any]]:
    """``items`` less the objects without an id already in ``seen`` (which gets the rest): a
    time-based export hands back its last second again, and one such object, counted as new
    every time, would keep a page of nothing new from moving on."""
    kept = []
    for item in items:
        if not has_id(item):
            key = _raw_key(item)
            if key in seen:
                continue
            seen.add(key)
        kept.append(item)
    return kept


def _unix(value: Any) -> int | None:
    """An ISO-8601 ``updated_at`` as unix seconds; ``None`` when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _generated(item: dict[str, Any]) -> int:
    value = item.get("generated_timestamp")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def unique_by_id(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One copy per id, in first-seen order: the newest by ``_position`` (the later listed of
    two at one position). Objects without an id are kept, one copy of each content."""
    kept: dict[str | bytes, dict[str, Any]] = {}
    for item in items:
        key: str | bytes = str(item["id"]) if has_id(item) else _raw_key(item)
        if key not in kept or (_position(item) or 0) >= (_position(kept[key]) or 0):
            kept[key] = item
    return list(kept.values())


def with_comments(ticket: dict[str, Any], comments: list[dict[str, Any]] | None) -> dict[str, Any]:
    """``ticket`` with its ``comments`` attached; without its description when they are gone.

    ``None`` (the comments answered 404: the ticket was deleted meanwhile) leaves no comments,
    and the description is dropped as well: it is the ticket's first comment, possibly an
    agent's private note, which the mapper would otherwise show as the last public comment.
    """
    if comments is None:
        return {name: value for name, value in ticket.items() if name != "description"}
    return {**ticket, "comments": comments}


class TimeExportStream:
    """A time-based incremental export (organizations), deduplicated at page boundaries."""

    def __init__(
        self, api: ZendeskApi, options: ExportOptions, *, name: str, kind: str, path: str
    ) -> None:
        self.name = name
        self.kind = kind
        self.path = path
        self.options = options
        self._api = api

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages from ``start_time`` until ``end_of_stream``; each cursor resumes after it."""
        latest = int(self.options.now()) - MIN_AGE_SECONDS
        state = decode_cursor(cursor, _TimeCursor, f"zendesk {self.name}")
        state = state or _TimeCursor(start_time=min(self.options.first_start, latest))
        guard = LoopGuard(f"zendesk {self.name}")
        seen_raw: set[bytes] = set()
        while state.start_time <= latest:
            guard.check(encode_cursor(state))
            raw = self._api.get(self.path, self._params(state.start_time))
            body = _convert(raw, _TimeBody, self.name)
            items = unique_by_id(_items(raw, self.name, self.name))
            fresh = [item for item in items if not _already_seen(item, state)]
            fresh = _unseen_raw(fresh, seen_raw)
            following = _following(state, items, body.end_time)
            if not fresh and following == state and not body.end_of_stream:
                following = self._past_full_second(state, len(items))
            if fresh or following != state:
                objects = [VendorObject(self.kind, item) for item in fresh]
                yield Page(objects, encode_cursor(following))
            if body.end_of_stream:
                return
            state = following

    def _params(self, start_time: int) -> list[tuple[str, str]]:
        return [("start_time", str(start_time)), ("per_page", str(self.options.page_size))]

    def _past_full_second(self, state: _TimeCursor, count: int) -> _TimeCursor:
        """The cursor one second on, when a page held only objects already seen at its second.

        Zendesk hands back every object of the page's last second, so the next ``start_time``
        can repeat the same second; once all of them are seen, the next second is where the
        rest begins.
        """
        log.warning(
            "zendesk %s: %d objects share second %d; continuing after it",
            self.name,
            count,
            state.start_time,
        )
        return _TimeCursor(start_time=state.start_time + 1)


def _already_seen(item: dict[str, Any], state: _TimeCursor) -> bool:
    if not has_id(item):
        return False
    updated = _unix(item.get("updated_at"))
    return str(item["id"]) in state.ids and updated is not None and updated <= state.start_time


def _following(
    state: _TimeCursor, items: list[dict[str, Any]], end_time: int | None
) -> _TimeCursor:
    """The cursor after a page: ``start_time = end_time`` and the ids updated at that second."""
    if end_time is None or end_time < state.start_time:
        end_time = state.start_time
    at_end = {
        str(item["id"])
        for item in items
        if has_id(item) and _unix(item.get("updated_at")) == end_time
    }
    if end_time == state.start_time:
        at_end |= set(state.ids)
    return _TimeCursor(start_time=end_time, ids=sorted(at_end))


def _position(item: dict[str, Any]) -> int | None:
    """Where the cursor export matches an object: ``generated_timestamp``, else ``updated_at``."""
    return _generated(item) or _unix(item.get("updated_at"))


def _first(state: _ExportCursor, options: ExportOptions) -> int:
    return options.first_start if state.start_time is None else state.start_time


class CursorExportStream:
    """A cursor-based incremental export (users, tickets), resumed from ``after_cursor``.

    ``comments``: each ticket gets its newest comments attached. ``sideload``: the ``include``
    parameter sent (the users'), whose side-loads are attached to each user.
    """

    def __init__(
        self,
        api: ZendeskApi,
        options: ExportOptions,
        *,
        name: str,
        kind: str,
        path: str,
        comments: bool = False,
        sideload: tuple[str, str] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.path = path
        self.options = options
        self.comments = comments
        self.sideload = sideload
        self._api = api
        self._commented: dict[str, list[dict[str, Any]] | None] = {}

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages from the stored ``after_cursor`` (first run: ``start_time``) to the end."""
        state = decode_cursor(cursor, _ExportCursor, f"zendesk {self.name}") or _ExportCursor()
        guard = LoopGuard(f"zendesk {self.name}")
        while True:
            guard.check(state.after_cursor)
            raw = self._api.get(self.path, self._params(state))
            body = _convert(raw, _CursorBody, self.name)
            items = self._with_sideloads(unique_by_id(_items(raw, self.name, self.name)), raw)
            following = self._following(state, body, items)
            if items or following != state:
                yield Page([self._object(item) for item in items], encode_cursor(following))
            if body.end_of_stream:
                return
            if not body.after_cursor:
                raise FatalError(f"zendesk {self.name}: no after_cursor before end_of_stream")
            state = following

    def _params(self, state: _ExportCursor) -> list[tuple[str, str]]:
        if state.after_cursor:
            position = ("cursor", state.after_cursor)
        else:
            start = _first(state, self.options)
            latest = int(self.options.now()) - MIN_AGE_SECONDS
            position = ("start_time", str(min(start, latest)))
        params = [position, ("per_page", str(self.options.page_size))]
        return params + ([self.sideload] if self.sideload else [])

    def _with_sideloads(
        self, items: list[dict[str, Any]], raw: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The users with what the page side-loads attached, when this stream asks for it."""
        if not self.sideload:
            return items
        return [with_user_sideloads(item, raw) for item in items]

    def _following(
        self, state: _ExportCursor, body: _CursorBody, items: list[dict[str, Any]]
    ) -> _ExportCursor:
        """The cursor after a page: its ``after_cursor``; without one, where the page ended.

        Should Zendesk answer ``after_cursor: null``, the next ``start_time`` is the newest
        position read (``generated_timestamp`` for tickets, ``updated_at`` for users), never
        the first run's start again: that would re-export the whole account on every sync.
        Objects at that very second come back once more, which the store's upsert absorbs.
        """
        after = body.after_cursor or state.after_cursor
        generated = max([_generated(item) for item in items] + [state.generated or 0])
        return _ExportCursor(
            after_cursor=after,
            start_time=None if after else self._read_up_to(state, items),
            generated=generated or None,
        )

    def _read_up_to(self, state: _ExportCursor, items: list[dict[str, Any]]) -> int:
        """The newest export position among ``items``, at least where this state starts."""
        positions = [_position(item) for item in items]
        return max([_first(state, self.options), *(p for p in positions if p is not None)])

    def _object(self, item: dict[str, Any]) -> VendorObject:
        if self.comments and item.get("status") != "deleted" and has_id(item):
            item = self._with_comments(item)
        return VendorObject(self.kind, item)

    def _with_comments(self, ticket: dict[str, Any]) -> dict[str, Any]:
        """The ticket with ``comments`` attached (fetched once per ``updated_at`` in a run)."""
        key = f"{ticket['id']}@{ticket.get('updated_at')}"
        if len(self._commented) >= _COMMENT_CACHE_SIZE:
            self._commented.clear()
        if key not in self._commented:
            self._commented[key] = self._api.latest_comments(str(ticket["id"]))
        return with_comments(ticket, self._commented[key])
