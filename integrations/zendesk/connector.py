"""The Zendesk Support connector: organizations, users and tickets; webhooks; refetches.

Streams, in dependency order (see ``integrations.zendesk.streams`` for cursors and paging):

* ``organizations``: time-based export ``/api/v2/incremental/organizations.json``; on a run
  that resumes, each changed organization is followed by its members, whose company it is
  (``integrations.zendesk.organizations``);
* ``users``: cursor-based export ``/api/v2/incremental/users/cursor.json``, with the users'
  organizations side-loaded (``include=organizations``) for their company and, with
  ``user_identities=True`` (the default), their identities (``include=identities``) for their
  secondary emails and phones; on the export, on a user's refetch and on an organization's
  member list alike (``integrations.zendesk.sideloads``);
* ``tickets``: cursor-based export ``/api/v2/incremental/tickets/cursor.json``, each ticket with
  its newest comments attached for the mapper's last public comment.

A first run starts at ``start_time`` (0: a full backfill); later runs resume from the committed
cursors. Auth is ``Authorization: Basic base64("{email}/token:{api_token}")``; the token, the
encoded header and the webhook secret are redacted from every error and log line. Requests to
the incremental exports are paced to ``incremental_per_minute`` (10 by Zendesk's rules, more with
the High Volume add-on) on the injected clock and ``sleep``; 429s with ``Retry-After`` and 5xx
are retried by ``VendorHttp`` with ``policy`` (patient: a sync run waits). ``fetch_one`` serves
webhook deliveries only, so it uses ``refetch_policy`` (``REFETCH_POLICY``: no wait of more
than a few seconds in-line; a longer ``Retry-After`` leaves the delivery pending for the inbox
to try again later, while the deliveries behind it are applied).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from context_service.errors import ConfigurationError, FatalError, MappingError
from integrations._connector import Delivery, Stream, VendorObject
from integrations._convert import iso_utc
from integrations._http import REFETCH_POLICY, RetryPolicy, VendorHttp
from integrations.zendesk.api import RateLimiter, ZendeskApi
from integrations.zendesk.mapping import SOURCE
from integrations.zendesk.organizations import WithMembers
from integrations.zendesk.sideloads import user_sideloads, with_user_sideloads
from integrations.zendesk.streams import (
    CursorExportStream,
    ExportOptions,
    TimeExportStream,
    with_comments,
)
from integrations.zendesk.webhooks import (
    TICKET_REQUESTER,
    TOLERANCE_SECONDS,
    parse_delivery,
    verify_signature,
)

__all__ = [
    "INCREMENTAL_PER_MINUTE",
    "MAX_PAGE_SIZE",
    "ZendeskConnector",
    "basic_auth",
    "zendesk_base_url",
]

INCREMENTAL_PER_MINUTE = 10
MAX_PAGE_SIZE = 1000  # the incremental exports' per_page maximum
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# mapper kind -> (REST collection, the key of the object in a single-object answer)
_RESOURCES = {
    "organization": ("organizations", "organization"),
    "user": ("users", "user"),
    "ticket": ("tickets", "ticket"),
}


def zendesk_base_url(subdomain: str | None, base_url: str | None) -> str | None:
    """``base_url`` if given, else ``https://{subdomain}.zendesk.com`` (a full host kept)."""
    if base_url:
        return base_url.rstrip("/")
    host = (subdomain or "").strip().removeprefix("https://").removeprefix("http://").strip("/")
    if not host:
        return None
    return f"https://{host if '.' in host else f'{host}.zendesk.com'}"


def basic_auth(email: str, api_token: str) -> str:
    """The ``Authorization`` value for API-token auth: ``Basic base64("{email}/token:{token}")``."""
    raw = f"{email}/token:{api_token}".encode()
    return f"Basic {base64.b64encode(raw).decode()}"


def _missing_setting(base: str | None, email: str | None, token: str | None) -> str | None:
    if base is None:
        return "no subdomain or base_url configured"
    if not email or not token:
        return "no API email and token configured"
    return None


class ZendeskConnector:
    """Zendesk Support as a ``Connector``: three export streams, webhooks and ``fetch_one``.

    ``client`` is the one ``httpx.Client`` every request goes through (a default one with a
    30 s timeout when omitted). ``start_time`` is where a first run of each stream starts
    (unix seconds; clamped to a minute ago). ``user_identities=True`` side-loads users'
    identities (secondary emails and phones). ``fetch_comments=False`` skips the per-ticket
    comments request. Deliveries are refused while ``webhook_secret`` is unset. ``policy`` is
    how hard the exports retry, ``refetch_policy`` how hard ``fetch_one`` does (webhooks).
    """

    source = SOURCE

    def __init__(
        self,
        subdomain: str | None = None,
        email: str | None = None,
        api_token: str | None = None,
        webhook_secret: str | None = None,
        base_url: str | None = None,
        client: httpx.Client | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        page_size: int = MAX_PAGE_SIZE,
        start_time: int = 0,
        incremental_per_minute: int = INCREMENTAL_PER_MINUTE,
        fetch_comments: bool = True,
        user_identities: bool = True,
        policy: RetryPolicy | None = None,
        refetch_policy: RetryPolicy = REFETCH_POLICY,
        webhook_tolerance: float = TOLERANCE_SECONDS,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ConfigurationError(
                f"zendesk page_size must be 1..{MAX_PAGE_SIZE}, not {page_size}"
            )
        base = zendesk_base_url(subdomain, base_url)
        headers = {"Accept": "application/json"}
        if email and api_token:
            headers["Authorization"] = basic_auth(email, api_token)
        self.http = VendorHttp(
            client or httpx.Client(timeout=DEFAULT_TIMEOUT),
            base_url=base or "",
            headers=headers,
            secrets=[s for s in (api_token, webhook_secret, headers.get("Authorization")) if s],
            policy=policy,
            sleep=sleep,
        )
        limiter = RateLimiter(incremental_per_minute, 60.0, now, sleep)
        missing = _missing_setting(base, email, api_token)
        self.api = ZendeskApi(self.http, limiter, missing_setting=missing)
        # A delivery's refetch gives up at once where a sync would wait: the inbox retries it.
        refetch_http = self.http.copy(policy=refetch_policy)
        self.refetch_api = ZendeskApi(refetch_http, limiter, missing_setting=missing)
        self.page_size = page_size
        self.start_time = max(0, start_time)
        self.fetch_comments = fetch_comments
        self.user_identities = user_identities
        self.now = now
        self._webhook_secret = webhook_secret
        self._tolerance = webhook_tolerance

    def streams(self) -> list[Stream]:
        """``organizations``, ``users``, then ``tickets`` (people before their tickets)."""
        options = ExportOptions(self.page_size, self.start_time, self.now)
        sideload = user_sideloads(self.user_identities)
        organizations = TimeExportStream(
            self.api,
            options,
            name="organizations",
            kind="organization",
            path="/api/v2/incremental/organizations.json",
        )
        return [
            WithMembers(organizations, self.api, sideload),
            CursorExportStream(
                self.api,
                options,
                name="users",
                kind="user",
                path="/api/v2/incremental/users/cursor.json",
                sideload=sideload,
            ),
            CursorExportStream(
                self.api,
                options,
                name="tickets",
                kind="ticket",
                path="/api/v2/incremental/tickets/cursor.json",
                comments=self.fetch_comments,
            ),
        ]

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        """Raise ``WebhookRejected`` unless the signature matches and its timestamp is fresh."""
        verify_signature(self._webhook_secret, headers, raw_body, now, self._tolerance)

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """Ids to refetch (or deletions) from an event or trigger body; ``MappingError`` if bad."""
        return parse_delivery(headers, raw_body)

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        """``GET /api/v2/{kind}s/{id}.json`` (tickets with comments, users with their
        side-loads, as the exports bring them); a deletion when 404. ``TICKET_REQUESTER`` names
        a ticket and fetches its requester: a trigger delivery names nothing else.

        Zendesk answers a request it refuses for lack of permission with 403 Forbidden and one
        for a record that does not exist with 404 ``RecordNotFound``
        (developer.zendesk.com/api-reference/introduction/requests, "Status codes"). So when a
        ``user.merged``-style event, a trigger or any refetch names a ticket, user or
        organization that now answers 404, the record is gone at Zendesk (deleted, merged away
        or purged): the stored copy becomes a deletion notice, in the shape webhook deletions
        use, observed now, so an older copy cannot bring it back and a restore, which Zendesk
        stamps with a newer ``updated_at``, does. The notice deletes a stored record only
        (``only_if_stored``): a ``*.created`` event can be refetched before Zendesk serves the
        new record, and a tombstone dated now would make the export's copy, dated by its
        creation, stale, hiding the new record until edited. (A soft-deleted user answers 200 with
        ``active: false``, which the mapper already treats as deleted.) An id that is not a
        Zendesk id (not all digits) names nothing we could hold: ``None``. A ticket whose
        comments answer 404 (deleted meanwhile) loses its description too (``with_comments``),
        so an agent's private first comment is never shown as the last public comment.
        """
        if kind == TICKET_REQUESTER:
            return self._requester_of(external_id)
        if kind not in _RESOURCES:
            raise MappingError(f"unknown zendesk kind {kind!r}", source=SOURCE, kind=kind)
        if not (external_id.isascii() and external_id.isdigit()):
            return None
        obj = self._current(kind, external_id)
        if obj is None:
            return self._gone(kind, external_id)
        if kind == "ticket" and self.fetch_comments and obj.get("status") != "deleted":
            comments = self.refetch_api.latest_comments(quote(external_id, safe=""))
            obj = with_comments(obj, comments)
        return VendorObject(kind, obj)

    def _current(self, kind: str, external_id: str) -> dict[str, Any] | None:
        """The object as ``GET /api/v2/{kind}s/{id}.json`` answers it now (a user with its
        side-loads attached); ``None`` when Zendesk answers 404."""
        collection, key = _RESOURCES[kind]
        path = f"/api/v2/{collection}/{quote(external_id, safe='')}.json"
        params = [user_sideloads(self.user_identities)] if kind == "user" else None
        body = self.refetch_api.get_or_none(path, params)
        if body is None:
            return None
        obj = body.get(key)
        if not isinstance(obj, dict):
            raise FatalError(f"zendesk {kind} {external_id}: the answer has no `{key}` object")
        return with_user_sideloads(obj, body) if kind == "user" else obj

    def _requester_of(self, ticket_id: str) -> VendorObject | None:
        """The current requester of ticket ``ticket_id``, fetched as ``fetch_one`` fetches a
        user; ``None`` when the ticket is gone or names none (the ticket's own refetch records
        what became of it). One request more than the ticket's own refetch."""
        ticket = self._current("ticket", ticket_id)
        requester = ticket.get("requester_id") if ticket else None
        if isinstance(requester, bool) or not isinstance(requester, int | str):
            return None
        text = str(requester).strip()
        return self.fetch_one("user", text) if text.isdigit() else None

    def _gone(self, kind: str, external_id: str) -> VendorObject | None:
        """The deletion notice of a record Zendesk answered 404 for, observed now, for a
        stored record only (none is kept for an id never stored: see ``fetch_one``)."""
        if not external_id.isdigit():
            return None
        observed = iso_utc(self.now())
        payload = {"id": external_id}
        return VendorObject(
            kind, payload, observed_at=observed, deleted=True, only_if_stored=True, from_lookup=True
        )
