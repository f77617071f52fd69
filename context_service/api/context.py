"""``GET /v1/context`` and ``POST /v1/context/lookup``: one customer's context.

With no ``audience``, ``max_tokens`` or ``summary`` and format json or text, the answer is the
stored, pre-encoded snapshot row (the hot path: no decoding, no rendering). Anything else
decodes that row and renders the audience's context per request (``context_service.audience``),
with an optional summary (deterministic, or an LLM's through the cache).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from anyio import to_thread
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from context_service.api.auth import bearer_token
from context_service.api.identify import Found, Identifiers, find
from context_service.audience import (
    MAX_TOKENS,
    MIN_TOKENS,
    Audience,
    ContextRequest,
    FieldPolicy,
    build_context,
)
from context_service.audience.policy import FULL
from context_service.llm import Summarizer
from context_service.models import Snapshot
from context_service.store import Store
from context_service.store.snapshots import StoredSnapshot

Format = Literal["json", "text", "markdown"]
SummaryParam = Literal["none", "deterministic", "llm"]
MaxTokens = Annotated[int, msgspec.Meta(ge=MIN_TOKENS, le=MAX_TOKENS)]
_MAX_PARAM = 320
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


def _headers(stored: StoredSnapshot) -> dict[str, str]:
    return {
        "ETag": f'"{stored.profile_id}.{stored.version}"',
        "X-Profile-Id": stored.profile_id,
        "X-Profile-Version": str(stored.version),
    }


def render(stored: StoredSnapshot, fmt: Format) -> Response[bytes]:
    """The stored snapshot in the requested format, with its version in the headers."""
    headers = _headers(stored)
    if fmt == "text":
        return Response(
            stored.text.encode(), media_type="text/plain; charset=utf-8", headers=headers
        )
    return Response(stored.json, media_type="application/json", headers=headers)


def respond(
    request: Request[Any, Any, Any], found: Found, options: ContextOptions
) -> Response[bytes]:
    """The answer to a context request: the stored row, or an audience rendering."""
    policy: FieldPolicy = request.app.state.field_policy
    key = bearer_token(request.headers.get("authorization")) if policy.restricts_keys() else None
    if options.is_stored_form():
        policy.view(FULL, key)  # raises 403 when this key may not see the full snapshot
        return _matched(render(found.stored, options.format), found)
    audience: Audience = options.audience or "agent"
    view = policy.view(audience, key)
    snap = _decode_snapshot(found.stored.json)
    summary = None
    if options.summary != "none":
        summarizer: Summarizer = request.app.state.summarizer
        summary = summarizer.summary(snap, audience, view, options.summary)
    wanted = ContextRequest(audience, options.format, options.max_tokens, found.focus)
    rendered = build_context(snap, wanted, view, summary)
    headers = _headers(found.stored)
    headers["X-Context-Audience"] = audience
    headers["X-Context-Tokens"] = str(rendered.tokens)
    headers["X-Context-Omitted"] = str(sum(n for _, n in rendered.omitted))
    if summary is not None:
        headers["X-Summary-Source"] = summary.source
        if summary.fallback:
            headers["X-Summary-Fallback"] = summary.fallback
    return _matched(
        Response(rendered.body.encode(), media_type=rendered.media_type, headers=headers), found
    )


def _matched(response: Response[bytes], found: Found) -> Response[bytes]:
    """Say how the customer was found: the details used and, for a search, the probability."""
    response.headers["X-Matched-By"] = found.matched_by
    if found.probability is not None:
        response.headers["X-Match-Probability"] = f"{found.probability:.4f}"
    return response


@get("/v1/context", summary="Customer context snapshot")
async def get_context(
    request: Request,  # type: ignore[type-arg]
    store: NamedDependency[Store],
    email: Annotated[str | None, QueryParameter(max_length=_MAX_PARAM)] = None,
    phone: Annotated[str | None, QueryParameter(max_length=64)] = None,
    profile_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
    source: Annotated[str | None, QueryParameter(max_length=64)] = None,
    external_id: Annotated[str | None, QueryParameter(max_length=_MAX_PARAM)] = None,
    format: FromQuery[Format] = "json",
    audience: FromQuery[Audience | None] = None,
    max_tokens: Annotated[int | None, QueryParameter(ge=MIN_TOKENS, le=MAX_TOKENS)] = None,
    summary: FromQuery[SummaryParam] = "none",
) -> Response[bytes]:
    """Look a customer up by exactly one identifier and return their context.

    Identifiers: ``email``, ``phone`` (any common format), ``profile_id`` (aliases of merged
    profiles resolve), or ``source`` with ``external_id`` (a customer, order, invoice or ticket
    id in that system). ``audience`` (chatbot, agent, sidebar, escalation), ``format`` (json,
    text, markdown), ``max_tokens`` and ``summary`` (deterministic or llm) shape the answer.
    404 when nobody matches, 409 with candidates when several do.
    """
    ids = Identifiers(
        email=email, phone=phone, profile_id=profile_id, source=source, external_id=external_id
    )
    found = find(store, request.app.state.settings.default_region, ids)
    options = ContextOptions(
        audience=audience, format=format, max_tokens=max_tokens, summary=summary
    )
    if options.summary == "llm":  # may wait on the LLM: off the event loop
        return await to_thread.run_sync(respond, request, found, options)
    return respond(request, found, options)


@post(
    "/v1/context/lookup",
    sync_to_thread=True,
    status_code=200,
    summary="Customer context by a JSON body",
)
def lookup_context(
    request: Request,  # type: ignore[type-arg]
    store: NamedDependency[Store],
    data: JSONBody[LookupBody],
) -> Response[bytes]:
    """The same answer as ``GET /v1/context``, for identifiers and options in a JSON body.

    Unknown fields are rejected (400), so a misspelt option never passes silently.
    """
    found = find(store, request.app.state.settings.default_region, data, contacts_mix=True)
    options = ContextOptions(
        audience=data.audience,
        format=data.format,
        max_tokens=data.max_tokens,
        summary=data.summary,
    )
    return respond(request, found, options)
