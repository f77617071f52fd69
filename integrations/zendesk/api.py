"""Zendesk Support API access: authenticated GETs, pacing of the incremental exports, comments.

Every request goes through ``VendorHttp`` (retries on 429/5xx/timeouts, honouring
``Retry-After``, which Zendesk may send lowercase with a ``text/plain`` body). On top of that,
requests to ``/api/v2/incremental/`` are paced by ``RateLimiter``: Zendesk allows 10 of them per
minute (more with the High Volume API add-on), separately from the account's per-minute limit.
The limiter waits on the injected clock and ``sleep``, so tests never really sleep. Zendesk
counts every request, retries included, so a retry of an export request made inside
``VendorHttp`` takes a limiter token too, after its ``Retry-After`` or backoff wait: export
requests go through a copy of the ``VendorHttp`` whose retry wait ends with ``acquire``.

``ZendeskApi.latest_comments`` serves the mapper's "last public comment" (see
``integrations.zendesk.streams``): newest first, one page of up to 100, further pages only while
no public comment has been found; returned oldest first, as the mapper reads them. With cursor
pagination (``page[size]``) the order is asked with ``sort=-created_at``: ``sort_order`` belongs
to offset pagination and is not honoured with a cursor
(developer.zendesk.com/documentation/api-basics/pagination/comparing-cursor-pagination-and-offset-pagination),
and the comments are put in order here as well, whatever order they came in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from context_service.errors import ConfigurationError, FatalError, RetriableError
from integrations._http import VendorHttp, vendor_json
from integrations._pagination import LoopGuard

__all__ = [
    "COMMENTS_PAGE_SIZE",
    "COMMENT_FIELDS",
    "INCREMENTAL_PREFIX",
    "RateLimiter",
    "ZendeskApi",
]

INCREMENTAL_PREFIX = "/api/v2/incremental/"
COMMENTS_PAGE_SIZE = 100  # cursor pagination's page[size] maximum
COMMENTS_NEWEST_FIRST = ("sort", "-created_at")  # cursor pagination's sort parameter
# The comment fields kept on a ticket's attached ``comments`` (what the mapper and a reader need;
# ``via`` tells a merge's system comment and the ticket it names).
COMMENT_FIELDS = ("id", "author_id", "public", "body", "created_at", "via")


class RateLimiter:
    """At most ``limit`` requests in any ``period`` seconds, waiting on an injected clock.

    A token bucket of ``limit`` tokens in which each spent token comes back exactly ``period``
    seconds after it was spent: a burst of ``limit`` goes at once, and any window of ``period``
    seconds never holds more than ``limit`` requests (a plain refilling bucket would allow twice
    that in the first window). Time spent in ``sleep`` counts as passed even when the injected
    clock does not move (a test's recording ``sleep``).
    """

    def __init__(
        self,
        limit: int,
        period: float,
        now: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        if limit < 1 or period <= 0:
            raise ConfigurationError(f"rate limit must be positive, not {limit}/{period} s")
        self.limit = limit
        self.period = period
        self._now = now
        self._sleep = sleep
        self._sent: deque[float] = deque()

    def acquire(self) -> float:
        """Wait until one more request fits in the window; return the seconds waited."""
        current = max(self._now(), self._sent[-1]) if self._sent else self._now()
        self._expire(current)
        waited = 0.0
        if len(self._sent) >= self.limit:
            waited = self._sent[0] + self.period - current
            self._sleep(waited)
            current += waited
            self._expire(current)
        self._sent.append(current)
        return waited

    def _expire(self, current: float) -> None:
        while self._sent and self._sent[0] <= current - self.period:
            self._sent.popleft()


class CursorMeta(msgspec.Struct):
    """The ``meta`` of a cursor-paginated list (comments, an organization's members)."""

    has_more: bool = False
    after_cursor: str | None = None


class _CommentsPage(msgspec.Struct):
    comments: list[dict[str, Any]]


class ZendeskApi:
    """GETs to one Zendesk account: JSON objects back, incremental exports paced.

    ``missing_setting`` names what the connector lacks (credentials, a subdomain); while it is
    set every call raises ``ConfigurationError`` and nothing is sent.
    """

    def __init__(
        self, http: VendorHttp, limiter: RateLimiter, *, missing_setting: str | None = None
    ) -> None:
        self.http = http
        self.limiter = limiter
        self._missing = missing_setting
        self._export_http = _retries_paced(http, limiter)

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        """``GET path`` as a JSON object; ``FatalError`` for anything else."""
        if self._missing:
            raise ConfigurationError(f"zendesk: {self._missing}")
        http = self.http
        if path.startswith(INCREMENTAL_PREFIX):
            self.limiter.acquire()
            http = self._export_http
        response = http.request("GET", path, params=params)
        try:
            body = vendor_json(response.content)
        except msgspec.DecodeError as exc:
            raise FatalError(f"zendesk GET {path}: malformed JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise FatalError(f"zendesk GET {path}: the answer is not a JSON object")
        return body

    def get_or_none(
        self, path: str, params: list[tuple[str, str]] | None = None
    ) -> dict[str, Any] | None:
        """``get``, but ``None`` when Zendesk says the object does not exist: 404 with its own
        error body, ``{"error": "RecordNotFound", ...}``.

        Any other 404 (a proxy's or a gateway's page, a wrong ``CONTEXT_SERVICE_ZENDESK_BASE_URL``)
        says nothing about the object; taking it for a deletion would delete the stored user or
        ticket a webhook names. It is a ``RetriableError``: the delivery stays pending (a sync
        stops) and the stored data is kept.
        """
        try:
            return self.get(path, params)
        except FatalError as exc:
            if exc.extra.get("status") != 404:
                raise
            if record_not_found(exc.extra.get("body")):
                return None
            raise RetriableError(
                f"zendesk GET {path}: HTTP 404 that is not Zendesk's RecordNotFound (a proxy or "
                "a wrong CONTEXT_SERVICE_ZENDESK_BASE_URL?); nothing deleted, tried again later: "
                f"{exc.detail}"
            ) from exc

    def cursor_pages(
        self, path: str, params: list[tuple[str, str]], what: str
    ) -> Iterator[dict[str, Any]]:
        """The pages of a cursor-paginated list (``page[after]`` from ``meta.after_cursor``),
        raw and in order, until one without ``meta.has_more``; no more after a 404 (the ticket
        or organization is gone). ``what`` names the list if its cursors go round in a loop."""
        guard = LoopGuard(f"zendesk {what}")
        after: str | None = None
        while True:
            guard.check(after)
            raw = self.get_or_none(path, params + ([("page[after]", after)] if after else []))
            if raw is None:
                return
            yield raw
            meta = _cursor_meta(raw, path)
            if not meta.has_more:
                return
            after = meta.after_cursor
            if not after:
                raise FatalError(f"zendesk {path}: has_more without an after_cursor")

    def latest_comments(self, ticket_id: str) -> list[dict[str, Any]] | None:
        """A ticket's newest comments, oldest first: one page, more only until one is public.

        ``None`` when the ticket is gone (404). Comments are trimmed to ``COMMENT_FIELDS``.
        """
        path = f"/api/v2/tickets/{ticket_id}/comments.json"
        params = [COMMENTS_NEWEST_FIRST, ("page[size]", str(COMMENTS_PAGE_SIZE))]
        newest_first: list[dict[str, Any]] | None = None
        for raw in self.cursor_pages(path, params, f"comments of ticket {ticket_id}"):
            comments = _comments_of(raw, path)
            newest_first = (newest_first or []) + [_trim(comment) for comment in comments]
            if any(c.get("public") is True for c in comments):
                break
        return None if newest_first is None else sorted(newest_first, key=_created_order)


def _cursor_meta(raw: dict[str, Any], path: str) -> CursorMeta:
    try:
        return msgspec.convert(raw.get("meta", {}), CursorMeta)
    except msgspec.ValidationError as exc:
        raise FatalError(f"zendesk {path}: malformed page meta: {exc}") from exc


def _comments_of(raw: dict[str, Any], path: str) -> list[dict[str, Any]]:
    try:
        return msgspec.convert(raw, _CommentsPage).comments
    except msgspec.ValidationError as exc:
        raise FatalError(f"zendesk {path}: malformed comments page: {exc}") from exc


def _retries_paced(http: VendorHttp, limiter: RateLimiter) -> VendorHttp:
    """A ``VendorHttp`` like ``http`` whose every retry, after its wait, takes a limiter token.

    ``VendorHttp`` calls ``sleep`` exactly once before each retry, so a sleep that ends with
    ``limiter.acquire`` counts each retried export request as the request Zendesk counts.
    """

    def wait_then_acquire(seconds: float) -> None:
        http.sleep(seconds)
        limiter.acquire()

    return http.copy(sleep=wait_then_acquire)


def _created_order(comment: dict[str, Any]) -> tuple[str, int]:
    """Oldest first: ``created_at`` (ISO-8601 UTC sorts as text), then the comment id."""
    created, ident = comment.get("created_at"), comment.get("id")
    number = ident if isinstance(ident, int) and not isinstance(ident, bool) else 0
    return (created if isinstance(created, str) else "", number)


def _trim(comment: dict[str, Any]) -> dict[str, Any]:
    return {name: comment[name] for name in COMMENT_FIELDS if name in comment}


def record_not_found(body: Any) -> bool:
    """Whether an error answer's body (its text) is Zendesk's own "no such record": a JSON
    object whose ``error`` is ``RecordNotFound``. An HTML page, an empty body or another error
    (``InvalidEndpoint``: a wrong path) is not."""
    if not isinstance(body, str | bytes) or not body:
        return False
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False
    return isinstance(decoded, dict) and decoded.get("error") == "RecordNotFound"
