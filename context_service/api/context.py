"""``GET /v1/context`` and ``POST /v1/context/lookup``: one customer's context.

With no ``audience``, ``max_tokens`` or ``summary`` and format json or text, the answer is the
stored, pre-encoded snapshot row (the hot path: no decoding, no rendering; a ``GET`` of it is
answered by ``context_fast.StoredContext`` ahead of the handler, with the same checks). Anything
else decodes that row and renders the audience's context per request (``context_service.audience``),
with an optional summary (deterministic, or an LLM's through the cache).

``audience=chatbot`` is answered in full only for a trusted-backend key or a verified end user
(``user_hash`` or ``user_token``, see ``context_service.trust.verify``); anyone else gets the
unverified answer (``trust.chatbot``). ``X-Context-Verification`` says which mode applied.
Every answer is recorded in the read audit.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Annotated, Any, Literal

import msgspec
from anyio import to_thread
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from context_service.api.auth import bearer_token, principal_of
from context_service.api.context_fast import (
    MAX_PARAM,
    MAX_SHORT_PARAM,
    StoredContext,
    body_digest,
    entity_tag,
)
from context_service.api.identify import Found, Identifiers, find, no_match, thresholds_of
from context_service.audience import (
    MAX_TOKENS,
    MIN_TOKENS,
    Audience,
    ContextRequest,
    FieldPolicy,
    HeldRecords,
    build_context,
)
from context_service.audience.policy import FULL, View
from context_service.errors import AmbiguousIdentifier
from context_service.identity.normalize import normalize_email
from context_service.llm import Summarizer
from context_service.models import Snapshot
from context_service.snapshot import lookup
from context_service.snapshot.links import DashboardLinks
from context_service.snapshot.proved import proved_part, proved_records
from context_service.store import Store, profiles
from context_service.store.snapshots import StoredSnapshot
from context_service.sync import utc_now
from context_service.tools.confidence import names_an_account
from context_service.tools.service import seen_by
from context_service.trust import CONTEXT_LOOKUP, CONTEXT_READ, Claimed, Proof, Read, Trust
from context_service.trust.chatbot import Decision, decide, read_mode, unverified_body

Format = Literal["json", "text", "markdown"]
SummaryParam = Literal["none", "deterministic", "llm"]
MaxTokens = Annotated[int, msgspec.Meta(ge=MIN_TOKENS, le=MAX_TOKENS)]
UserHash = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
UserToken = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
_DIRECT = frozenset({"email", "phone"})  # lookups a proof can vouch for (plus "<source> id")
_decode_snapshot = msgspec.json.Decoder(Snapshot).decode


class ContextOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How to render: audience, format, token budget, summary."""

    audience: Audience | None = None
    format: Format = "json"
    max_tokens: MaxTokens | None = None
    summary: SummaryParam = "none"

    def is_stored_form(self) -> bool:
        """Whether the stored row answers as is (the hot path)."""
        plain = self.audience is None and self.max_tokens is None and self.summary == "none"
        return plain and self.format != "markdown"


class LookupBody(Identifiers, kw_only=True, forbid_unknown_fields=True):
    """``POST /v1/context/lookup``: identifiers and rendering options in one JSON object."""

    audience: Audience | None = None
    format: Format = "json"
    max_tokens: MaxTokens | None = None
    summary: SummaryParam = "none"
    user_hash: UserHash | None = None
    user_token: UserToken | None = None


def claimed_of(conn: sqlite3.Connection, ids: Identifiers, found: Found) -> Claimed:
    """What a proof must vouch for: the one identifier of a direct lookup (never a search).

    A vendor id is claimed as ``"<source>:<external_id>"``, and only when it names a person
    record of the profile found (``_person_of``): a proof for a site user ``1001`` must not
    unlock Zendesk ticket ``1001`` or Stripe invoice ``1001`` of someone else.
    """
    if found.matched_by == "email" and ids.email is not None:
        if _holds_email(conn, ids.email, found.stored.profile_id):
            return Claimed("email", ids.email)
        # Found through the mailbox (``maya.patel+x@`` finds ``maya.patel@``, Gmail's dots):
        # a site may keep such addresses apart, so a proof for this one vouches for nobody.
        return Claimed("mailbox", "")
    if found.matched_by == "phone" and ids.phone is not None:
        return Claimed("phone", ids.phone)
    if found.focus is not None and ids.source is not None and ids.external_id is not None:
        if _person_of(conn, ids.source, ids.external_id, found.stored.profile_id):
            return Claimed("source_id", f"{ids.source}:{ids.external_id}")
        return Claimed("record", "")
    return Claimed("search" if found.matched_by not in _DIRECT else found.matched_by, "")


def _holds_email(conn: sqlite3.Connection, email: str, profile_id: str) -> bool:
    """Whether a record of ``profile_id`` holds this very address (normalized: case and
    domain typos aside), not only one of the same mailbox."""
    normalized = normalize_email(email)
    row = conn.execute(
        "SELECT 1 FROM identifiers i JOIN profile_members m ON m.record_id = i.record_id "
        "WHERE i.kind = 'email' AND i.value = ? AND m.profile_id = ? LIMIT 1",
        (normalized, profile_id),
    ).fetchone()
    return row is not None


def _person_of(conn: sqlite3.Connection, source: str, external_id: str, profile_id: str) -> bool:
    """Whether ``source`` id ``external_id`` is a person record (Shopify or Stripe customer,
    HubSpot contact, Zendesk user, spreadsheet row) that ``profile_id`` holds, resolved as the
    lookup resolves it: live records first, else the record a vendor merge folded it into.
    An order, ticket, invoice, subscription, charge, deal or company never is."""
    return any(
        kind in lookup.PERSON_KINDS and profiles.profile_of(conn, record_id) == profile_id
        for record_id, kind in lookup.live_records(conn, source, external_id)
    )


def chatbot_decision(request: Request[Any, Any, Any], claimed: Claimed, proof: Proof) -> Decision:
    """Verified, trusted backend or unverified, for a chatbot request."""
    trust: Trust = request.app.state.trust
    return decide(trust.verifier, principal_of(request), claimed, proof)


def _unverified(
    request: Request[Any, Any, Any], found: Found, fmt: Format, decision: Decision, channel: str
) -> Response[bytes]:
    trust: Trust = request.app.state.trust
    who = principal_of(request).name
    trust.record(Read(who, found.stored.profile_id, "chatbot", False, channel, decision.mode))
    body, media = unverified_body(fmt, trust.guidance, decision.reason)
    return Response(
        body, media_type=media, headers={"X-Context-Audience": "chatbot", **decision.headers()}
    )


def _matched_text(found: Found) -> str:
    """How the customer was found, for the identity line: ``email``, or for a search the
    details used and how sure it is: ``name and order_number, high confidence`` (at the link
    threshold), or ``email and name, exact match`` (the email or phone names this customer
    alone and nothing given disagrees), the words ``find_customer`` uses."""
    if found.probability is None:
        return found.matched_by
    if found.confidence == "exact":
        return f"{found.matched_by}, exact match"
    return f"{found.matched_by}, {found.confidence} confidence"


def _headers(stored: StoredSnapshot, rendering: str) -> dict[str, str]:
    return {
        "ETag": entity_tag(stored.profile_id, stored.version, rendering),
        "X-Profile-Id": stored.profile_id,
        "X-Profile-Version": str(stored.version),
    }


def render(stored: StoredSnapshot, fmt: Format) -> Response[bytes]:
    """The stored snapshot in the requested format, with its version in the headers."""
    headers = _headers(stored, fmt)
    if fmt == "text":
        return Response(stored.text.encode(), media_type="text/plain", headers=headers)
    return Response(stored.json, media_type="application/json", headers=headers)


def allowed_view(request: Request[Any, Any, Any], options: ContextOptions) -> View:
    """The caller's field view for what it asked, checked before any lookup: a key limited to
    other audiences gets 403 whether or not the customer exists, so it never learns who does."""
    policy: FieldPolicy = request.app.state.field_policy
    key = bearer_token(request.headers.get("authorization")) if policy.restricts_keys() else None
    return policy.view(FULL if options.is_stored_form() else options.audience or "agent", key)


def respond(
    request: Request[Any, Any, Any],
    found: Found,
    options: ContextOptions,
    decision: Decision | None = None,
    channel: str = "context",
    store: Store | None = None,
) -> Response[bytes]:
    """The answer to a context request: the stored row, or an audience rendering.

    ``decision`` is the verification mode of a chatbot request (``None`` for other audiences).
    ``store``: where a rendering reads the record looked up when the snapshot's capped lists
    leave it out (an order older than the newest 10), so that it is always in question.
    """
    policy: FieldPolicy = request.app.state.field_policy
    key = bearer_token(request.headers.get("authorization")) if policy.restricts_keys() else None
    trust: Trust = request.app.state.trust
    principal = principal_of(request)
    reader = principal.name
    if options.is_stored_form():
        policy.view(FULL, key)  # raises 403 when this key may not see the full snapshot
        mode = read_mode(principal, None)  # as ``context_fast`` records it
        trust.record(Read(reader, found.stored.profile_id, FULL, True, channel, mode))
        return _matched(render(found.stored, options.format), found)
    audience: Audience = options.audience or "agent"
    view = policy.view(audience, key)
    if decision is not None and not decision.verified:
        return _unverified(request, found, options.format, decision, channel)
    mode = read_mode(principal, decision)
    trust.record(Read(reader, found.stored.profile_id, audience, True, channel, mode))
    snap = _decode_snapshot(found.stored.json)
    proved = _proved_part(request, store, found, decision)
    part = None if proved is None else proved[0]
    if part is not None:
        snap = part
    summary = None
    if options.summary != "none":
        summarizer: Summarizer = request.app.state.summarizer
        summary = summarizer.summary(snap, audience, view, options.summary, _part_key(part))
    wanted = ContextRequest(
        audience,
        options.format,
        options.max_tokens,
        found.focus,
        _matched_text(found),
        found.focus_source,
    )
    only = None if proved is None else proved[1]
    rendered = build_context(snap, wanted, view, summary, _held(request, store, only))
    body = rendered.body.encode()
    headers = _headers(found.stored, body_digest(body))
    headers["X-Context-Audience"] = audience
    headers["X-Context-Tokens"] = str(rendered.tokens)
    headers["X-Context-Omitted"] = str(sum(n for _, n in rendered.omitted))
    if summary is not None:
        headers["X-Summary-Source"] = summary.source
        if summary.fallback:
            headers["X-Summary-Fallback"] = summary.fallback
    if decision is not None:
        headers.update(decision.headers())
    if part is not None:
        headers[PART_HEADER] = "proved"
    return _matched(Response(body, media_type=rendered.media_type, headers=headers), found)


PART_HEADER = "X-Context-Part"  # "proved": the records a proof vouched for, not the whole


def _proved_part(
    request: Request[Any, Any, Any], store: Store | None, found: Found, decision: Decision | None
) -> tuple[Snapshot | None, frozenset[int]] | None:
    """For an end user verified by a proof, the person records it vouches for and, when the
    profile has others, the snapshot of that part (``snapshot.proved``; ``None``: the stored
    snapshot is all of it); ``None`` for anyone else, who reads the whole profile."""
    if decision is None or decision.vouches is None:
        return None
    if store is None:  # never: both routes pass their store; fail closed rather than open
        raise RuntimeError("a verified end user's answer needs the store")
    settings = request.app.state.settings
    region, links = settings.default_region, DashboardLinks.from_settings(settings)
    profile_id, claimed = found.stored.profile_id, decision.vouches
    proved = proved_records(store.conn, claimed.kind, claimed.value, profile_id, region)
    return proved_part(store.conn, profile_id, proved, links, utc_now(), region), proved


def _part_key(part: Snapshot | None) -> str:
    """Which records a part shows, for the summary cache (empty for the whole profile)."""
    if part is None:
        return ""
    keys = sorted(f"{m.source}:{m.kind}:{m.external_id}" for m in part.members)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def _held(
    request: Request[Any, Any, Any], store: Store | None, only: frozenset[int] | None = None
) -> HeldRecords | None:
    """Where a rendering reads a record the snapshot does not list (``audience.focus``): one
    the profile's person records own, or with ``only`` those of a proved part."""
    if store is None:
        return None
    settings = request.app.state.settings
    links = DashboardLinks.from_settings(settings)
    return HeldRecords(store.conn, settings.default_region, links, only)


def _find_for(
    request: Request[Any, Any, Any],
    audience: Audience | None,
    view: View,
    store: Store,
    ids: Identifiers,
    *,
    contacts_mix: bool = False,
) -> Found:
    """``find``, except that a chatbot key that is no trusted backend never learns who else
    matched: its 409 keeps the count but not the candidates' names and ids, and is a 404 like
    finding no one when no candidate is likely enough to say an account exists (as
    ``find_customer`` tells such a key: a name alone must not tell customers from others).
    Anyone else's 409 lists the candidates as the caller's ``view`` (``allowed_view``) may read
    them: without their names when it hides ``identity.names``."""
    settings = request.app.state.settings
    thresholds = thresholds_of(settings)
    try:
        return find(store, settings.default_region, ids, thresholds, contacts_mix=contacts_mix)
    except AmbiguousIdentifier as exc:
        if audience != "chatbot" or principal_of(request).trusted_backend:
            raise seen_by(exc, [view]) from None
        candidates = exc.extra.get("candidates", [])
        if not candidates:  # its detail names no one (a common name, a number alone)
            raise
        partial = ids.partial(contacts_mix=contacts_mix)
        if (
            partial is not None
            and candidates
            and not names_an_account(candidates, thresholds.review)
        ):
            raise no_match(partial) from None
        count = len(candidates)
        raise AmbiguousIdentifier(
            f"these details match {count} customers; ask the customer for another detail"
            " (an order number or the email they signed up with)",
            candidates=[],
        ) from None


def _matched(response: Response[bytes], found: Found) -> Response[bytes]:
    """Say how the customer was found: the details used and, for a search, the probability."""
    response.headers["X-Matched-By"] = found.matched_by
    if found.probability is not None:
        response.headers["X-Match-Probability"] = f"{found.probability:.4f}"
    return response


@get(
    "/v1/context",
    summary="Customer context snapshot",
    opt={"scope": CONTEXT_READ},
    middleware=[StoredContext],  # the stored row without the handler machinery (same checks)
)
async def get_context(
    request: Request,  # type: ignore[type-arg]
    store: NamedDependency[Store],
    email: Annotated[str | None, QueryParameter(max_length=MAX_PARAM)] = None,
    phone: Annotated[str | None, QueryParameter(max_length=MAX_SHORT_PARAM)] = None,
    profile_id: Annotated[str | None, QueryParameter(max_length=MAX_SHORT_PARAM)] = None,
    source: Annotated[str | None, QueryParameter(max_length=MAX_SHORT_PARAM)] = None,
    external_id: Annotated[str | None, QueryParameter(max_length=MAX_PARAM)] = None,
    format: FromQuery[Format] = "json",
    audience: FromQuery[Audience | None] = None,
    max_tokens: Annotated[int | None, QueryParameter(ge=MIN_TOKENS, le=MAX_TOKENS)] = None,
    summary: FromQuery[SummaryParam] = "none",
    user_hash: Annotated[str | None, QueryParameter(min_length=1, max_length=128)] = None,
    user_token: Annotated[str | None, QueryParameter(min_length=1, max_length=4096)] = None,
) -> Response[bytes]:
    """Look a customer up by exactly one identifier and return their context.

    Identifiers: ``email``, ``phone`` (any common format), ``profile_id`` (aliases of merged
    profiles resolve), or ``source`` with ``external_id`` (a customer, order, invoice or ticket
    id in that system). ``audience`` (chatbot, agent, sidebar, escalation), ``format`` (json,
    text, markdown), ``max_tokens`` and ``summary`` (deterministic or llm) shape the answer.
    404 when nobody matches, 409 with candidates when several do.

    For ``audience=chatbot``, ``user_hash`` or ``user_token`` prove who the end user is; without
    a valid one (and a key that is no trusted backend) the answer is the unverified context.
    """
    ids = Identifiers(
        email=email, phone=phone, profile_id=profile_id, source=source, external_id=external_id
    )
    options = ContextOptions(
        audience=audience, format=format, max_tokens=max_tokens, summary=summary
    )
    view = allowed_view(request, options)
    found = _find_for(request, audience, view, store, ids)
    decision = None
    if audience == "chatbot":
        proof = Proof(user_hash=user_hash, user_token=user_token)
        decision = chatbot_decision(request, claimed_of(store.conn, ids, found), proof)
    if options.summary == "llm":  # may wait on the LLM: off the event loop
        return await to_thread.run_sync(
            respond, request, found, options, decision, "context", store
        )
    return respond(request, found, options, decision, store=store)


@post(
    "/v1/context/lookup",
    sync_to_thread=True,
    status_code=200,
    summary="Customer context by a JSON body",
    opt={"scope": CONTEXT_LOOKUP},
)
def lookup_context(
    request: Request,  # type: ignore[type-arg]
    store: NamedDependency[Store],
    data: JSONBody[LookupBody],
) -> Response[bytes]:
    """The same answer as ``GET /v1/context``, for identifiers and options in a JSON body.

    Unknown fields are rejected (400), so a misspelt option never passes silently.
    """
    options = ContextOptions(
        audience=data.audience,
        format=data.format,
        max_tokens=data.max_tokens,
        summary=data.summary,
    )
    view = allowed_view(request, options)
    found = _find_for(request, data.audience, view, store, data, contacts_mix=True)
    decision = None
    if data.audience == "chatbot":
        proof = Proof(user_hash=data.user_hash, user_token=data.user_token)
        decision = chatbot_decision(request, claimed_of(store.conn, data, found), proof)
    return respond(request, found, options, decision, channel="lookup", store=store)
