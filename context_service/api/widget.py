"""The helpdesk sidebar widget: ``GET /widget`` (signed link) and ``POST /v1/widget/url``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from context_service.api.auth import bearer_token, principal_of
from context_service.audience import FieldPolicy, View
from context_service.errors import AmbiguousIdentifier, ContextServiceError
from context_service.settings import Settings
from context_service.store import Store
from context_service.tools import CustomerRef, find_stored
from context_service.tools.service import seen_by
from context_service.tools.typed import typed
from context_service.trust import CONTEXT_READ, Read, Trust
from context_service.widget import (
    OPERATOR_LINK,
    Minter,
    WidgetLinkRejected,
    bind,
    link_key,
    linked_profile,
    live_minter,
    minter_tag,
    profile_url,
    render_error,
    security_headers,
    widget_page,
)


class WidgetUrlRequest(CustomerRef, kw_only=True, forbid_unknown_fields=True):
    """Which customer the link shows (one identifier) and how long it stays valid."""

    ttl_seconds: Annotated[int, msgspec.Meta(ge=10, le=86400)] | None = None

    def __post_init__(self) -> None:
        """The email and phone without the characters no reader sees (``identify.typed``)."""
        for name in ("email", "phone"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, typed(value))


class WidgetUrl(msgspec.Struct):
    """A signed widget link and when it stops working."""

    url: str
    expires_at: str
    profile_id: str


def _html(status: int, body: str, settings: Settings) -> Response[bytes]:
    return Response(
        body.encode(),
        status_code=status,
        media_type=MediaType.HTML,
        headers=security_headers(settings.widget_frame_ancestors),
    )


@get("/widget", sync_to_thread=False, include_in_schema=True, summary="Sidebar customer card")
def get_widget(request: Request, store: NamedDependency[Store]) -> Response[bytes]:  # type: ignore[type-arg]
    """The customer card as HTML, for a helpdesk iframe; authorized by its signed link.

    No API key: the link carries an HMAC over the profile id it names (or, in a link minted
    before links named profiles, the email or phone), the minting key's view and its expiry.
    An expired, tampered or re-targeted link (a signature reused for another customer)
    answers a small HTML error page (400/403), a profile erased since 404, never the card; a
    merged-away id shows the profile it was merged into, and after a split the profile that
    holds its records again (as ``GET /v1/context?profile_id=`` does). A valid link may be
    opened again until it expires (a helpdesk reloads its sidebar). The card shows what both
    the ``sidebar`` audience's field policy and the view in the link allow. Each card shown is
    recorded in the read audit under the name of the key that minted its link (``cli`` for a
    link an operator minted with ``widget-url``).
    """
    settings: Settings = request.app.state.settings
    try:
        key = link_key(settings.widget_secret, store, mint=False)
    except ContextServiceError as exc:
        return _html(
            exc.status_code, render_error(exc.status_code, exc.title, exc.detail), settings
        )
    now = datetime.now(UTC)
    view = request.app.state.field_policy.view("sidebar", None)
    query = request.query_params.multi_items()
    page = widget_page(
        store.conn,
        query,
        key,
        settings.default_region,
        now,
        view,
        minter=lambda by: live_minter(store.conn, key, by, settings.api_keys),
        key_view=lambda minter: _sidebar_limits_now(request.app.state.field_policy, minter),
    )
    if page.profile_id is not None:
        # under the key that minted the link (its name, never the key), so the audit tells
        # which integration's links were opened; a link without one is an operator's
        trust: Trust = request.app.state.trust
        reader = page.minted_by or OPERATOR_LINK
        trust.record(Read(reader, page.profile_id, "sidebar", True, "widget"))
    return _html(page.status, page.html, settings)


def _sidebar_limits_now(policy: FieldPolicy, minter: Minter) -> View | None:
    """The policy file's current ``sidebar`` limits for the key that minted a link (``None``:
    the file names no such key); a key that may no longer ask for the sidebar has its links
    refused. (A stored key's own limits never change, so the link holds them.)"""
    grant = policy.grants.get(minter.fingerprint)
    if grant is None:
        return None
    if grant.audiences is not None and "sidebar" not in grant.audiences:
        raise WidgetLinkRejected("the API key that made this widget link may no longer open it")
    return View(contact=grant.contact or "full", hidden=frozenset(grant.hide))


@post(
    "/v1/widget/url",
    sync_to_thread=False,
    summary="Mint a signed widget link",
    status_code=200,
    opt={"scope": CONTEXT_READ},
)
def mint_widget_url(
    request: Request,  # type: ignore[type-arg]
    store: NamedDependency[Store],
    data: JSONBody[WidgetUrlRequest],
) -> WidgetUrl:
    """A short-lived signed ``/widget`` link for one customer (helpdesk apps call this).

    The customer is looked up first, so an unknown or ambiguous identifier fails here (404,
    409) rather than inside the sidebar; a key that may not ask for the ``sidebar`` audience
    gets 403. The link names the customer by profile id (``p=prof_...``), never by the
    email or phone asked with, so no personal data lands in access logs, browser history or
    error reports; asked for by profile id, it names that very id, even one merged away (an
    alias), so a split that undoes the merge never leaves it on the survivor's card.
    ``profile_id`` in the answer is the profile the link shows now. It carries the key's own
    ``sidebar`` view (contact handling and hidden fields, under the signature), so the card
    never shows more than this key could read, and ``by``, a tag of the key keyed with the
    signing key (``widget.link_keys``: nothing in a link lets anyone test guesses of a key).
    """
    settings: Settings = request.app.state.settings
    policy: FieldPolicy = request.app.state.field_policy
    minting_key = bearer_token(request.headers.get("authorization"))
    view = policy.view("sidebar", minting_key)
    try:
        stored = find_stored(store.conn, data, settings.default_region)
    except AmbiguousIdentifier as exc:  # its candidates as the key's sidebar view reads them
        raise seen_by(exc, [view]) from None
    ttl = data.ttl_seconds or settings.widget_ttl_seconds
    expires = int(time.time()) + ttl
    base = settings.public_url or str(request.base_url)
    key = link_key(settings.widget_secret, store, mint=True)
    by = minter_tag(key, minting_key) if minting_key else None  # never the key's own hash
    bound = bind(store.conn, data, stored.profile_id, key, settings.default_region)
    named = linked_profile(data, stored.profile_id)  # a merged-away id asked with stays itself
    url = profile_url(base, named, key, expires, view, by, bound)  # no email in it
    trust: Trust = request.app.state.trust  # recorded once the link exists, not before
    trust.record(
        Read(principal_of(request).name, stored.profile_id, "sidebar", True, "widget-link")
    )
    expires_at = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return WidgetUrl(url=url, expires_at=expires_at, profile_id=stored.profile_id)
