"""The seam between consumers (tool calls, the MCP server, the sidebar widget) and the store.

Everything that shows a customer to a model or a person outside ``GET /v1/context`` fetches it
through ``find_stored``; ``ToolBox.call`` runs a tool by name on decoded arguments. Tools render
through the audiences of ``context_service.audience`` (``chatbot`` for context, ``escalation``
for handoffs) under the field policy, exactly as ``/v1/context`` and ``/v1/escalations`` do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from context_service.audience import ContextRequest, FieldPolicy, View, build_context
from context_service.audience.facts import visible_contacts
from context_service.errors import (
    AmbiguousIdentifier,
    ContextServiceError,
    InvalidIdentifier,
    ProfileNotFound,
)
from context_service.handoff import Handoff, NoteFailed, NotePoster, Who, build_handoff, render_text
from context_service.identity.search import Candidate, PartialIdentity, search
from context_service.identity.state import load_model
from context_service.models import Snapshot
from context_service.snapshot import lookup
from context_service.store.snapshots import StoredSnapshot
from context_service.tools.schemas import (
    CreateEscalation,
    CustomerRef,
    FindCustomer,
    GetCustomerContext,
    ToolSpec,
    tool_named,
)

_decode_snapshot = msgspec.json.Decoder(Snapshot).decode
SEARCH_FLOOR = 0.01  # candidates less likely than this are not worth naming
SEARCH_LIMIT = 5


class UnknownTool(ContextServiceError):
    """No tool has this name."""

    status_code = 404
    title = "Unknown tool"


class InvalidToolArguments(ContextServiceError):
    """The arguments do not match the tool's schema."""

    status_code = 400
    title = "Invalid tool arguments"


class CustomerMatch(msgspec.Struct, omit_defaults=True):
    """One profile the details point at (no contact details: the caller knows the one)."""

    profile_id: str
    name: str | None
    why: str
    probability: float | None = None


class _Identity(msgspec.Struct):
    name: str | None = None


class _IdentityOnly(msgspec.Struct):
    identity: _Identity


_decode_identity = msgspec.json.Decoder(_IdentityOnly).decode


def find_stored(conn: sqlite3.Connection, ref: CustomerRef, region: str) -> StoredSnapshot:
    """The materialized snapshot of the one customer ``ref`` names.

    Raises ``InvalidIdentifier`` (none or several identifiers, malformed), ``ProfileNotFound``
    or ``AmbiguousIdentifier`` (with ``candidates``), exactly like ``GET /v1/context``.
    """
    given = [v for v in (ref.email, ref.phone, ref.profile_id) if v is not None]
    pair = ref.source is not None or ref.external_id is not None
    if len(given) + int(pair) != 1:
        raise InvalidIdentifier(
            "give exactly one identifier: email, phone, profile_id, or source with external_id"
        )
    if ref.email is not None:
        return lookup.by_email(conn, ref.email)
    if ref.phone is not None:
        return lookup.by_phone(conn, ref.phone, region)
    if ref.profile_id is not None:
        return lookup.by_profile_id(conn, ref.profile_id)
    if not ref.source or not ref.external_id:
        raise InvalidIdentifier("source and external_id must be given together")
    return lookup.by_source_id(conn, ref.source, ref.external_id)


def customer_context(box: ToolBox, args: GetCustomerContext, key: str | None) -> str:
    """``get_customer_context``: the ``chatbot`` audience's context, fitted to ``max_tokens``."""
    view = box.policy.view("chatbot", key)  # before the lookup: a 403 never says who exists
    stored = find_stored(box.conn, args, box.region)
    focus = args.external_id if args.source else None
    wanted = ContextRequest("chatbot", args.format, args.max_tokens, focus)
    return build_context(_decode_snapshot(stored.json), wanted, view).body


def find_customers(conn: sqlite3.Connection, ref: FindCustomer, region: str) -> list[CustomerMatch]:
    """``find_customer``: every profile the details point at (none, one or several)."""
    partial = ref.partial()
    if partial is not None:
        return _search(conn, ref, partial, region)
    try:
        stored = find_stored(conn, ref, region)
    except ProfileNotFound:
        return []
    except AmbiguousIdentifier as exc:
        return [_candidate(conn, c) for c in exc.extra.get("candidates", [])]
    name = _decode_identity(stored.json).identity.name
    return [CustomerMatch(stored.profile_id, name, "matches")]


def _search(
    conn: sqlite3.Connection, ref: FindCustomer, partial: PartialIdentity, region: str
) -> list[CustomerMatch]:
    """Scored search of the identity engine (``identity.search``): candidates, best first."""
    if ref.profile_id is not None or ref.source is not None or ref.external_id is not None:
        raise InvalidIdentifier(
            "profile_id and source/external_id cannot be mixed with other details"
        )
    found = search(conn, partial, load_model(conn), region)
    holders = lookup.sole_holders(conn, partial.email, partial.phone, region)
    if len({held.profile_id for held in holders.values()}) > 1:  # as POST /v1/context/lookup
        return [_holder(conn, held.profile_id, field) for field, held in holders.items()]
    return [_scored(conn, c) for c in found if c.probability >= SEARCH_FLOOR][:SEARCH_LIMIT]


def _holder(conn: sqlite3.Connection, profile_id: str, field: str) -> CustomerMatch:
    other = "phone" if field == "email" else "email"
    name = _decode_identity(lookup.by_profile_id(conn, profile_id).json).identity.name
    why = f"holds the {field} given; the {other} given is another customer's"
    return CustomerMatch(profile_id, name, why)


def _scored(conn: sqlite3.Connection, candidate: Candidate) -> CustomerMatch:
    name = _decode_identity(lookup.by_profile_id(conn, candidate.profile_id).json).identity.name
    why = ", ".join(f"{k}: {v}" for k, v in sorted(candidate.evidence.items()))
    return CustomerMatch(candidate.profile_id, name, why, round(candidate.probability, 4))


def _candidate(conn: sqlite3.Connection, candidate: Mapping[str, Any]) -> CustomerMatch:
    profile_id = str(candidate["profile_id"])
    name = _decode_identity(lookup.by_profile_id(conn, profile_id).json).identity.name
    return CustomerMatch(profile_id, name, str(candidate["why"]))


def create_escalation(box: ToolBox, args: CreateEscalation, key: str | None) -> str:
    """``create_escalation``: the deterministic handoff of ``POST /v1/escalations``, posted as
    an internal note on the customer's open ticket when a helpdesk is configured.

    The note is written for agents (``escalation`` audience); the copy returned to the bot is
    built for the ``chatbot`` audience (contacts masked and the CRM owner hidden by default).
    Each leaves out what its view, with the key's own limits, hides.
    """
    agents_view = box.policy.view("escalation", key)  # before the lookup: never who exists
    bot_view = box.policy.view("chatbot", key)
    snap = _decode_snapshot(find_stored(box.conn, args, box.region).json)
    handoff = build_handoff(
        snap, _who(snap, args, agents_view), args.transcript, args.reason, agents_view
    )
    outcome = "note not requested"
    if args.post_note:
        shown = bot_view.shows("support.tickets")  # else the bot is not told the ticket id
        outcome = _post_note(box.notes, handoff, render_text(handoff), agents_view, shown)
    for_bot = build_handoff(
        snap, _who(snap, args, bot_view), args.transcript, args.reason, bot_view
    )
    return f"Escalation prepared ({outcome}).\n\n{render_text(for_bot)}"


def _who(snap: Snapshot, ref: CustomerRef, view: View) -> Who:
    matched_by = next(
        n for n in ("email", "phone", "profile_id", "source") if getattr(ref, n) is not None
    )
    sources = ", ".join(sorted({m.source for m in snap.members})) or "no source"
    emails, phones = visible_contacts(snap, view)
    return Who(
        profile_id=snap.profile_id,
        name=snap.identity.name,
        emails=emails,
        phones=phones,
        matched_by=matched_by,
        confidence="high",
        why=f"matched by {matched_by}; one profile across {sources}",
    )


def _post_note(
    poster: NotePoster | None, handoff: Handoff, text: str, view: View, show_id: bool
) -> str:
    """Post ``text`` on the open ticket; what happened, in words for the bot, which hears the
    ticket's id only when ``show_id`` (its own view shows the tickets)."""
    if poster is None:
        return "no helpdesk is configured for notes: hand over in your helpdesk"
    if not view.shows("support.tickets"):
        return "support tickets are hidden from this API key: hand over in your helpdesk"
    ticket_id = handoff.open_ticket
    if ticket_id is None:
        return "the customer has no open ticket to note"
    named = f"ticket {ticket_id}" if show_id else "the customer's open ticket"
    try:
        poster.post_internal_note(ticket_id, text)
    except NoteFailed as exc:
        reason = str(exc) if show_id else str(exc).replace(ticket_id, "(hidden)")
        return f"the note on {named} failed: {reason}"
    return f"internal note posted on {named}"


def decode_arguments(spec: ToolSpec, arguments: Mapping[str, Any] | None) -> CustomerRef:
    """Arguments as the tool's Struct, with the same rules its JSON schema states."""
    try:
        return msgspec.convert(dict(arguments or {}), spec.args)
    except msgspec.ValidationError as exc:
        raise InvalidToolArguments(f"{spec.name}: {exc}") from exc


Handler = Callable[["ToolBox", Any, str | None], str]


def _find_text(box: ToolBox, args: FindCustomer, _key: str | None) -> str:
    return msgspec.json.encode(find_customers(box.conn, args, box.region)).decode()


HANDLERS: dict[str, Handler] = {
    "get_customer_context": customer_context,
    "find_customer": _find_text,
    "create_escalation": create_escalation,
}


class ToolBox:
    """Runs the tools against one store; what every transport (HTTP, MCP) calls.

    ``policy`` is the field policy of ``/v1/context`` (default: the built-in audience rules);
    ``notes`` posts escalation handoffs to the helpdesk (none: handoffs are only returned).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        region: str,
        policy: FieldPolicy | None = None,
        notes: NotePoster | None = None,
    ) -> None:
        self.conn = conn
        self.region = region
        self.policy = policy or FieldPolicy()
        self.notes = notes

    def call(self, name: str, arguments: Mapping[str, Any] | None, key: str | None = None) -> str:
        """Run tool ``name`` for the caller's API ``key`` (its field-policy grant, if any);
        its result as text. Raises a ``ContextServiceError`` on failure."""
        spec = tool_named(name)
        if spec is None:
            raise UnknownTool(f"no tool named {name!r}")
        return HANDLERS[name](self, decode_arguments(spec, arguments), key)
