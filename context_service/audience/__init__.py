"""Audience contexts: a snapshot selected, ordered, policed and fitted to a token budget.

``build_context(snapshot, request, view)`` is the one entry point: it turns the snapshot into
facts the view allows (``facts``), places them in the audience's sections (``specs``,
``compose.place``), drops whole facts by priority until the rendering fits ``max_tokens``
(``compose.fit``, counted with ``tokens.count_tokens``) and renders text, markdown or JSON
(``render``).
"""

from __future__ import annotations

import msgspec

from context_service.audience.compose import BudgetTooSmall, fit, place
from context_service.audience.contacts import (
    activity_as_viewed,
    snapshot_as_viewed,
    text_as_viewed,
)
from context_service.audience.facts import Fact, focus_facts, snapshot_facts
from context_service.audience.focus import HeldRecords
from context_service.audience.policy import (
    AUDIENCES,
    AccessDenied,
    Audience,
    FieldPolicy,
    View,
    load_policy,
)
from context_service.audience.render import Format, Header, omitted_counts, renderer_for
from context_service.audience.segments import CustomerText, Line, customer, unquote
from context_service.audience.specs import SPECS
from context_service.audience.tokens import ENCODING_NAME, count_tokens
from context_service.models import Activity, Snapshot

__all__ = [
    "AUDIENCES",
    "ENCODING_NAME",
    "MAX_TOKENS",
    "MIN_TOKENS",
    "AccessDenied",
    "Audience",
    "BudgetTooSmall",
    "ContextRequest",
    "FieldPolicy",
    "Format",
    "HeldRecords",
    "RenderedContext",
    "SummaryBlock",
    "View",
    "build_context",
    "count_tokens",
    "load_policy",
]

MIN_TOKENS = 60
MAX_TOKENS = 32_000
_MEDIA = {
    "json": "application/json",
    "text": "text/plain",  # Litestar adds "; charset=utf-8" to text types
    "markdown": "text/markdown",
}


class ContextRequest(msgspec.Struct, frozen=True):
    """What the caller asked for.

    ``focus``: the vendor id looked up (the order in question), ``focus_source`` its source
    (where ``build_context`` reads it when the snapshot's capped lists leave it out).
    ``matched``: how the customer was found and how sure that is (``email``; ``name and
    order_number, medium confidence``), said on the identity line so that a bot knows whether
    to double-check who it talks to.
    """

    audience: Audience = "agent"
    format: Format = "text"
    max_tokens: int | None = None
    focus: str | None = None
    matched: str | None = None
    focus_source: str | None = None


class SummaryBlock(msgspec.Struct, frozen=True):
    """A summary to put on top: its text, where it came from, and why an LLM was not used."""

    text: str
    source: str  # "deterministic", "llm" or "llm-cache"
    fallback: str | None = None
    prompt_version: str | None = None


class RenderedContext(msgspec.Struct):
    """The rendered context and what was left out of it: ``omitted`` counts, per kind, the
    facts the budget dropped and those past their kind's cap (``X-Context-Omitted``)."""

    body: str
    media_type: str
    tokens: int
    omitted: list[tuple[str, int]]


def build_context(
    snapshot: Snapshot,
    request: ContextRequest,
    view: View,
    summary: SummaryBlock | None = None,
    held: HeldRecords | None = None,
) -> RenderedContext:
    """Select, order, police, fit and render one audience's context of a snapshot.

    The customer's own contacts in free text are shown as the view shows the contact fields
    (``contacts.snapshot_as_viewed``), and so is a given summary's text. The record looked up
    (``request.focus``) is always in question: when the snapshot's capped lists leave it out
    (an order older than the newest 10), it is read from ``held`` (``focus``).
    """
    spec = SPECS[request.audience]
    own_text = text_as_viewed(snapshot, view)
    focus_item = _focus_item(snapshot, request, held)
    if focus_item is not None:
        focus_item = activity_as_viewed(focus_item, snapshot, view)
    snapshot = snapshot_as_viewed(snapshot, view)
    if summary is not None:
        summary = msgspec.structs.replace(summary, text=own_text(summary.text))
    facts = snapshot_facts(snapshot, view, request.matched)
    if focus_item is not None:
        facts.extend(focus_facts(focus_item, snapshot, view))
    if summary is not None:
        name = snapshot.identity.name if view.shows("identity.names") else None
        facts.append(_summary_fact(summary, name))
    header = Header(
        snapshot.profile_id,
        snapshot.version,
        snapshot.generated_at,
        request.audience,
        request.max_tokens,
    )
    renderer = renderer_for(request.format, header, spec)
    placed = place(facts, spec, request.focus, fold=request.format != "json")
    fitted = fit(placed, request.max_tokens, renderer, count_tokens)
    return RenderedContext(
        body=fitted.body,
        media_type=_MEDIA[request.format],
        tokens=fitted.tokens,
        omitted=omitted_counts([*fitted.omitted, *fitted.unlisted]),
    )


def _focus_item(
    snapshot: Snapshot, request: ContextRequest, held: HeldRecords | None
) -> Activity | None:
    """The record looked up, read from the store when the snapshot does not list it."""
    if held is None or request.focus is None or request.focus_source is None:
        return None
    return held.focus(snapshot, request.focus_source, request.focus)


def _summary_fact(summary: SummaryBlock, name: str | None) -> Fact:
    line: Line
    if summary.source == "deterministic":
        # The name is matched before the lines are joined: a name with a line break in it
        # would no longer be the text's prefix, and would be rendered bare.
        if name and summary.text.startswith(name):
            rest = summary.text[len(name) :].replace("\n", " ")
            line = ("Summary: ", customer(name, 120), *unquote(rest))
        else:
            line = ("Summary: ", *unquote(summary.text.replace("\n", " ")))
    else:
        generated = CustomerText(summary.text, label="llm-generated")
        line = ("Summary (LLM, from the data below; check it against the data): ", generated)
    data = msgspec.to_builtins(summary)
    return Fact("summary", line, data)
