"""``POST /v1/escalations``: the handoff a human agent needs when a bot escalates."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from context_service.api.auth import Forbidden, bearer_token, principal_of
from context_service.api.identify import Identifiers, find, thresholds_of
from context_service.api.limits import MAX_ESCALATION_BYTES
from context_service.audience import FieldPolicy, HeldRecords, View
from context_service.errors import AmbiguousIdentifier
from context_service.handoff import (
    Handoff,
    NoteFailed,
    NotePoster,
    Turn,
    build_handoff,
    escalation_key,
    no_ticket_reason,
    render_text,
    who_of,
)
from context_service.llm.client import LlmClient
from context_service.llm.handoff import llm_handoff
from context_service.models import Snapshot
from context_service.store import Store
from context_service.tools import ToolBox
from context_service.tools.notes import BEING_POSTED, PostedNotes
from context_service.tools.refusals import refuse_an_activity_id
from context_service.tools.service import seen_by
from context_service.trust import ESCALATIONS_WRITE, Read, Trust

log = logging.getLogger("context_service.api.escalations")
_decode_snapshot = msgspec.json.Decoder(Snapshot).decode


class EscalationBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A customer identifier, the conversation so far and why the bot escalates."""

    customer: Identifiers
    transcript: Annotated[list[Turn], msgspec.Meta(max_length=200)] = []
    # Not blank: a reason of spaces only says nothing to the person taking over.
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"\S")]
    summary: Literal["deterministic", "llm"] = "deterministic"
    post_note: bool = False


class NoteResult(msgspec.Struct, omit_defaults=True):
    """What happened to the internal note; ``retryable``: not posted, and sending the same
    escalation again may post it (it is still posted once)."""

    posted: bool
    ticket: str | None = None
    error: str | None = None
    retryable: bool = False


class EscalationResponse(msgspec.Struct):
    """The handoff, its text, and how the summary and the note were made."""

    profile_id: str
    version: int
    handoff: Handoff
    text: str
    summary: dict[str, Any]
    note: NoteResult | None


@post(
    "/v1/escalations",
    sync_to_thread=True,
    summary="Escalation handoff for a human agent",
    opt={"scope": ESCALATIONS_WRITE},
    request_max_body_size=MAX_ESCALATION_BYTES,
)
def create_escalation(
    request: Request,  # type: ignore[type-arg]
    store: NamedDependency[Store],
    data: JSONBody[EscalationBody],
) -> Response[bytes]:
    """Who this is (and how sure we are), what they want, what the bot tried or promised,
    the account facts that bear on it, a next step and a priority.

    ``summary: "llm"`` adds the LLM's version (deterministic text and ``fallback`` when it
    fails, fails the note checks, or none is configured); ``post_note: true`` posts the text as
    an internal note on the customer's open Zendesk ticket when Zendesk is configured (the one
    the conversation names when several are open; none, said why, when it names none of
    them), once: the same escalation sent again (a retry whose answer was lost) does not post
    it a second time.

    Only a trusted-backend key may escalate (403 otherwise, as the ``create_escalation``
    tool); the key's field policy for the ``escalation`` audience applies to every part of the
    handoff: hidden fields are left out, contacts are hidden or masked as it says.
    """
    state = request.app.state
    principal = principal_of(request)
    # The rule of the create_escalation tool (api/guarded_tools.py, GuardedToolBox.call): the
    # handoff holds account facts and this body carries no end-user proof, so only a trusted
    # backend may escalate. Checked, like the audience, before the lookup: a 403 never says
    # who exists.
    if not principal.trusted_backend:
        raise Forbidden("POST /v1/escalations needs a trusted-backend key")
    policy: FieldPolicy = state.field_policy
    key = bearer_token(request.headers.get("authorization")) if policy.restricts_keys() else None
    view = policy.view("escalation", key)
    customer = data.customer
    try:
        if customer.source is not None and customer.external_id is not None:
            refuse_an_activity_id(store.conn, customer.source, customer.external_id)
        found = find(store, state.settings.default_region, customer, thresholds_of(state.settings))
    except AmbiguousIdentifier as exc:  # its candidates as the escalation view reads them
        raise seen_by(exc, [view]) from None
    trust: Trust = state.trust
    trust.record(Read(principal.name, found.stored.profile_id, "escalation", True, "escalation"))
    snap = _decode_snapshot(found.stored.json)
    region = state.settings.default_region
    who = who_of(snap, view, found.matched_by, found.confidence)
    held = HeldRecords(store.conn, region)  # an order the customer names, past the lists
    handoff = build_handoff(snap, who, data.transcript, data.reason, view, region=region, held=held)
    text = render_text(handoff)
    client: LlmClient | None = state.llm_client if data.summary == "llm" else None
    block = llm_handoff(client, snap, view, data.transcript, data.reason, text, region=region)
    if data.summary == "deterministic":
        block = msgspec.structs.replace(block, fallback=None)
    # The notes this app posted (stored as digests), shared with the create_escalation tool.
    toolbox: ToolBox = state.toolbox
    escalation = escalation_key(data.transcript, data.reason)
    note = (
        _post_note(
            state.note_poster,
            toolbox.posted,
            handoff,
            view,
            body=block.text,
            escalation=escalation,
            no_ticket=no_ticket_reason(snap, view),
        )
        if data.post_note
        else None
    )
    body = EscalationResponse(
        profile_id=snap.profile_id,
        version=snap.version,
        handoff=handoff,
        text=text,
        summary=msgspec.to_builtins(block),
        note=note,
    )
    return Response(msgspec.json.encode(body), media_type="application/json", status_code=201)


def _post_note(
    poster: NotePoster | None,
    posted: PostedNotes,
    handoff: Handoff,
    view: View,
    *,
    body: str,
    escalation: str,
    no_ticket: str,
) -> NoteResult:
    """Post ``body`` (the summary) on the handoff's ticket unless this escalation's note is
    there already; ``no_ticket`` says why not when the handoff names no ticket (none open, or
    several and the conversation names none: ``handoff.no_ticket_reason``). ``escalation``
    (``_escalation_key``) names the escalation: it is the same for a retried request, while
    an LLM's wording, or the facts of the account, may not be."""
    if poster is None:
        return NoteResult(posted=False, error="no helpdesk configured for notes")
    if not view.shows("support.tickets"):
        return NoteResult(posted=False, error="support tickets are hidden from this API key")
    ticket = handoff.open_ticket
    if ticket is None:
        return NoteResult(posted=False, error=no_ticket)
    claimed = posted.claim(ticket, escalation)
    if claimed == "posted":
        error = "the same internal note was already posted on this ticket; not posted again"
        return NoteResult(posted=False, ticket=ticket, error=error)
    if claimed == "pending":  # not posted yet, and it may fail: the caller may ask again
        error = f"{BEING_POSTED}; send the same escalation again in a moment"
        return NoteResult(posted=False, ticket=ticket, error=error, retryable=True)
    return _attempt(poster, posted, ticket, body=body, escalation=escalation)


def _attempt(
    poster: NotePoster, posted: PostedNotes, ticket: str, *, body: str, escalation: str
) -> NoteResult:
    """Post the claimed note; on any failure release the claim, so that a retry posts it, and
    answer why (the escalation itself never fails because of the note)."""
    try:
        poster.post_internal_note(ticket, body)
    except NoteFailed as exc:
        posted.release(ticket, escalation)
        return NoteResult(posted=False, ticket=ticket, error=str(exc), retryable=exc.retryable)
    except Exception:  # a plug-in's own failure: the escalation is still answered
        log.exception("posting the escalation note on ticket %s failed", ticket)
        posted.release(ticket, escalation)
        error = "the helpdesk note failed unexpectedly (logged); not posted"
        return NoteResult(posted=False, ticket=ticket, error=error, retryable=True)
    posted.confirm(ticket, escalation)
    return NoteResult(posted=True, ticket=ticket)
