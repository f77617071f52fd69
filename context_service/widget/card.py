"""From a signed widget link to the HTML page (or a small error page), with its headers."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import msgspec

from context_service.audience import View
from context_service.errors import ConfigurationError, ContextServiceError
from context_service.models import Snapshot
from context_service.settings import FRAME_SOURCE_CHARS
from context_service.store.cursors import last_run_of
from context_service.sync.status import run_view
from context_service.tools import CustomerRef, find_stored
from context_service.widget.binding import check_bound
from context_service.widget.confidence import match_confidence
from context_service.widget.link_keys import Minter
from context_service.widget.render import FULL_VIEW, STYLE_HASH, render_card, render_error
from context_service.widget.signing import (
    PROFILE_PARAM,
    WidgetLinkInvalid,
    WidgetLinkRejected,
    narrow,
    open_link,
)

_decode_snapshot = msgspec.json.Decoder(Snapshot).decode


class WidgetPage(msgspec.Struct, frozen=True):
    """What the widget route answers: a status and a complete HTML document."""

    status: int
    html: str
    profile_id: str | None = None  # the customer shown (for the read audit)
    minted_by: str | None = None  # the name of the live key that minted the link, if one did


def widget_page(
    conn: sqlite3.Connection,
    query: Iterable[tuple[str, str]],
    key: bytes,
    region: str,
    now: datetime,
    view: View = FULL_VIEW,
    minter: Callable[[str], Minter | None] | None = None,
    key_view: Callable[[Minter], View | None] | None = None,
) -> WidgetPage:
    """The card of the customer a signed link names (by profile id, or by the identifier of
    a link minted before links named profiles), or an error page with a 4xx status.

    ``view`` is the ``sidebar`` audience's view now; a link minted by an API key also carries
    that key's view, and the card shows only what both allow (so neither a key's own limits
    nor a policy tightened since the link was minted can be bypassed). ``minter`` finds the
    live key a link names in ``by`` (``link_keys.live_minter``; ``None``: none is live, so a
    revoked key's links are refused), whose name the page carries for the read audit.
    ``key_view`` gives that key's own ``sidebar`` limits of now (``None``: none), so a grant
    tightened since the link was minted applies to it too; it raises ``WidgetLinkRejected``
    when the key may no longer ask for the sidebar at all.
    """
    try:
        link = open_link(query, key, now.timestamp())
        minted_by = minter(link.by) if link.by is not None and minter is not None else None
        if link.by is not None and minter is not None and minted_by is None:
            raise WidgetLinkRejected(
                "the API key that made this widget link has been revoked (or the link was made "
                "before an upgrade); open the customer again"
            )
        limits_now = key_view(minted_by) if minted_by is not None and key_view else None
        stored = find_stored(conn, _ref(link.lookup), region)
        if link.bound is not None:  # a split since must not re-target the link
            check_bound(conn, stored.profile_id, link.bound, key)
    except ContextServiceError as exc:
        return WidgetPage(exc.status_code, render_error(exc.status_code, exc.title, exc.detail))
    snapshot = _decode_snapshot(stored.json)
    audit_url = f"/v1/profiles/{stored.profile_id}/audit"
    confidence = match_confidence(conn, stored.profile_id)
    shown = narrow(narrow(view, link.view), limits_now)
    failing = failing_syncs(conn, {f.source for f in snapshot.freshness}, now)
    html = render_card(snapshot, confidence, audit_url, now, shown, failing=failing)
    name = minted_by.name if minted_by is not None else None
    return WidgetPage(200, html, stored.profile_id, name)


def failing_syncs(conn: sqlite3.Connection, sources: set[str], now: datetime) -> dict[str, str]:
    """Of these sources, each whose last run failed or died (``run_view``: interrupted), with
    when it ended or was last seen."""
    failing: dict[str, str] = {}
    for source in sorted(sources):  # one index search each: a card opens on every ticket
        run = last_run_of(conn, source)
        if run is None or run.mode == "import":
            continue
        shown = run_view(run, now)
        if shown["status"] in ("failed", "interrupted"):
            failing[source] = str(shown.get("last_seen_at") or run.finished_at or run.started_at)
    return failing


def _ref(lookup: dict[str, str]) -> CustomerRef:
    """Whom the link names: its profile id (``p``; a merged-away id resolves as an alias of
    the profile it went into, an erased one to nobody, 404), or, in a link minted before
    links named profiles, the identifier it carries."""
    named = {"profile_id": lookup[PROFILE_PARAM]} if PROFILE_PARAM in lookup else lookup
    try:
        return msgspec.convert(named, CustomerRef)
    except msgspec.ValidationError as exc:
        raise WidgetLinkInvalid(f"bad lookup parameter: {exc}") from exc


def security_headers(frame_ancestors: Sequence[str]) -> dict[str, str]:
    """Headers of every widget response: a strict CSP that still lets helpdesks frame it.

    ``frame-ancestors`` (not ``X-Frame-Options``, which cannot name several origins) lists
    the helpdesk origins allowed to embed the card.
    """
    ancestors = " ".join(_checked_source(source) for source in frame_ancestors) or "'none'"
    csp = (
        f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {ancestors}"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def _checked_source(source: str) -> str:
    """A CSP source expression, refused if it could break out of the header."""
    if not source or not set(source) <= FRAME_SOURCE_CHARS:
        raise ConfigurationError(f"CONTEXT_SERVICE_WIDGET_FRAME_ANCESTORS: bad entry {source!r}")
    return source
