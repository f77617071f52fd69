"""The seam between consumers (tool calls, the MCP server, the sidebar widget) and the store.

Everything that shows a customer to a model or a person outside ``GET /v1/context`` fetches it
through ``find_stored``; ``ToolBox.call`` runs a tool by name on decoded arguments. Tools render
through the audiences of ``context_service.audience`` (``chatbot`` for context, ``escalation``
for handoffs) under the field policy, exactly as ``/v1/context`` and ``/v1/escalations`` do.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from context_service.audience import (
    Audience,
    ContextRequest,
    FieldPolicy,
    HeldRecords,
    View,
    build_context,
)
from context_service.errors import (
    AmbiguousIdentifier,
    ContextServiceError,
    InvalidIdentifier,
    ProfileNotFound,
)
from context_service.handoff import (
    NotePoster,
    Who,
    build_handoff,
    escalation_key,
    no_ticket_reason,
    render_text,
    who_of,
)
from context_service.identity.pairs import Thresholds
from context_service.identity.search import (
    Candidate,
    PartialIdentity,
    is_common_name,
    search,
)
from context_service.identity.state import load_model
from context_service.models import Snapshot
from context_service.snapshot import lookup
from context_service.store.snapshots import StoredSnapshot
from context_service.tools.confidence import (
    Confidence,
    Grading,
    grading_for,
    rival_of,
)
from context_service.tools.notes import PostedNotes, post_note
from context_service.tools.refusals import (
    a_number_names_no_one,
    gives_a_number,
    refuse_a_number_alone,
    refuse_an_activity_id,
    refuse_one_name_alone,
)
from context_service.tools.schemas import (
    MOST_CANDIDATES,
    TOOLS,
    CreateEscalation,
    CustomerRef,
    FindCustomer,
    GetCustomerContext,
    ToolSpec,
    tool_named,
)

log = logging.getLogger(__name__)
_FIND_CUSTOMER = next(spec for spec in TOOLS if spec.name == "find_customer")

_decode_snapshot = msgspec.json.Decoder(Snapshot).decode
SEARCH_FLOOR = 0.01  # candidates less likely than this are not worth naming
# The same floor as the lookup's 409 (``api.identify``): a customer the other details point at
# this faintly is still named when the email or phone given is someone else's.
NAMING_FLOOR = 0.001
SEARCH_LIMIT = MOST_CANDIDATES
# The audiences each tool answers for: a key limited to others is refused (403, before any
# lookup), and their views, with the key's own limits, apply to all the tool shows, the names
# of its matches and of a 409's candidates included. ``find_customer`` answers the chatbot, as
# ``get_customer_context`` does (and the read audit records it).
TOOL_AUDIENCES: dict[str, tuple[Audience, ...]] = {
    "get_customer_context": ("chatbot",),
    "find_customer": ("chatbot",),
    "create_escalation": ("escalation", "chatbot"),
}


class UnknownTool(ContextServiceError):
    """No tool has this name."""

    status_code = 404
    title = "Unknown tool"

    @classmethod
    def named(cls, name: str) -> UnknownTool:
        """The error for ``name``, quoted at most 64 characters long (the rest is left out:
        the detail goes back into a model's context)."""
        shown = repr(name[:64]) + ("..." if len(name) > 64 else "")
        return cls(f"no tool named {shown}; the tools are {', '.join(t.name for t in TOOLS)}")


class InvalidToolArguments(ContextServiceError):
    """The arguments do not match the tool's schema."""

    status_code = 400
    title = "Invalid tool arguments"


class CustomerMatch(msgspec.Struct, omit_defaults=True):
    """One profile the details point at (no contact details: the caller knows the one), and
    how sure that is (``confidence``, as ``CONFIDENCE_MEANING`` says). A ``low`` match is shown
    without its ``profile_id`` (``openable``)."""

    profile_id: str | None
    name: str | None
    why: str
    confidence: Confidence
    probability: float | None = None


class _Identity(msgspec.Struct):
    name: str | None = None


class _IdentityOnly(msgspec.Struct):
    identity: _Identity


_decode_identity = msgspec.json.Decoder(_IdentityOnly).decode


def shows_names(views: Sequence[View]) -> bool:
    """Whether every one of ``views`` shows the customer's name (``identity.names``)."""
    return all(view.shows("identity.names") for view in views)


def seen_by(exc: AmbiguousIdentifier, views: Sequence[View]) -> AmbiguousIdentifier:
    """The 409 as a caller with these ``views`` may read it: when one of them hides
    ``identity.names``, each candidate's ``name`` is ``null`` (as in that view's JSON
    snapshot), the rest (``profile_id``, ``why``, ``probability``) as it was; else ``exc``
    itself. Candidates carry no email or phone, so the contact rules have nothing to mask."""
    candidates = exc.extra.get("candidates")
    if not candidates or shows_names(views):
        return exc
    seen = AmbiguousIdentifier(exc.detail)
    seen.extra = {**exc.extra, "candidates": [{**c, "name": None} for c in candidates]}
    return seen


def for_a_model(exc: AmbiguousIdentifier, views: Sequence[View]) -> AmbiguousIdentifier:
    """A tool's 409 (``seen_by``) with no candidate's ``profile_id``: none of them is the
    customer (the details name several), and a model given their ids could open any of them
    when the customer insists; it asks for another detail instead, as for a ``low`` match of
    ``find_customer`` (``openable``)."""
    seen = seen_by(exc, views)
    candidates = seen.extra.get("candidates")
    if not candidates:
        return seen
    stripped = AmbiguousIdentifier(seen.detail)
    stripped.extra = {**seen.extra, "candidates": [{**c, "profile_id": None} for c in candidates]}
    return stripped


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


def find_stored_for_a_model(
    conn: sqlite3.Connection, ref: CustomerRef, region: str
) -> StoredSnapshot:
    """``find_stored`` for a tool, whose arguments a model fills in from what the customer
    typed: the vendor id of an order, ticket or invoice is refused (``refuse_an_activity_id``),
    as the same number given as ``order_number`` alone would be. The widget and
    ``GET /v1/context``, called by programs with ids of their own, take any vendor id."""
    if ref.source is not None and ref.external_id is not None:
        refuse_an_activity_id(conn, ref.source, ref.external_id)
    return find_stored(conn, ref, region)


def customer_context(box: ToolBox, args: GetCustomerContext, key: str | None) -> str:
    """``get_customer_context``: the ``chatbot`` audience's context, fitted to ``max_tokens``."""
    view = box.policy.view("chatbot", key)  # before the lookup: a 403 never says who exists
    stored = find_stored_for_a_model(box.conn, args, box.region)
    snap = _decode_snapshot(stored.json)
    held = HeldRecords(box.conn, box.region)  # the record looked up, past the snapshot's lists
    focus, source = (args.external_id, args.source) if args.source else (None, None)
    if args.order_number is not None:  # the customer's own order only; another's names nothing
        order = held.order_key(snap, args.order_number)
        if order is not None:
            focus, source = order.external_id, order.source
    wanted = ContextRequest("chatbot", args.format, args.max_tokens, focus, None, source)
    return build_context(snap, wanted, view, held=held).body


def find_customers(
    conn: sqlite3.Connection,
    ref: FindCustomer,
    region: str,
    thresholds: Thresholds | None = None,
) -> list[CustomerMatch]:
    """``find_customer``: every profile the details point at (none, one or several), each
    with a confidence word calibrated on the identity ``thresholds``."""
    partial = ref.partial()
    if partial is not None:
        return _search_naming_no_one_by_a_number(
            conn, ref, partial, region, thresholds or Thresholds()
        )
    if ref.source is not None and ref.external_id is not None:  # a 409, not "no one" below
        refuse_an_activity_id(conn, ref.source, ref.external_id)
    try:
        stored = find_stored(conn, ref, region)
    except ProfileNotFound:
        return []
    except AmbiguousIdentifier as exc:
        return _sharers(conn, exc.extra.get("candidates", []))
    name = _decode_identity(stored.json).identity.name
    return [CustomerMatch(stored.profile_id, name, "matches", "exact")]


def _search_naming_no_one_by_a_number(
    conn: sqlite3.Connection,
    ref: FindCustomer,
    partial: PartialIdentity,
    region: str,
    thresholds: Thresholds,
) -> list[CustomerMatch]:
    """``_search``, except that details holding an order, ticket or invoice number either name
    the customer (the one match, ``exact`` or ``high``) or name no one (409): another match, or
    none, would say whose the number is, or that it is no one's (``POST /v1/context/lookup``
    answers alike)."""
    if not gives_a_number(partial):
        return _search(conn, ref, partial, region, thresholds)
    try:
        found = _search(conn, ref, partial, region, thresholds)
    except AmbiguousIdentifier:
        raise a_number_names_no_one(partial) from None
    if not found or found[0].confidence not in ("exact", "high"):
        raise a_number_names_no_one(partial)
    return found[:1]


def _search(
    conn: sqlite3.Connection,
    ref: FindCustomer,
    partial: PartialIdentity,
    region: str,
    thresholds: Thresholds,
) -> list[CustomerMatch]:
    """Scored search of the identity engine (``identity.search``): candidates, best first."""
    if ref.profile_id is not None or ref.source is not None or ref.external_id is not None:
        raise InvalidIdentifier(
            "profile_id and source/external_id cannot be mixed with other details"
        )
    refuse_one_name_alone(partial)
    refuse_a_number_alone(conn, partial)
    found = search(conn, partial, load_model(conn), region)
    holders = lookup.sole_holders(conn, partial.email, partial.phone, region)
    held = {stored.profile_id for stored in holders.values()}
    if len(held) > 1:  # as POST /v1/context/lookup
        return [_holder(conn, stored.profile_id, field) for field, stored in holders.items()]
    likely = [c for c in found if c.probability >= SEARCH_FLOOR]
    if not likely and is_common_name(conn, partial, region):  # too many to look at, not no one
        given = " and ".join(f for f in PartialIdentity.__struct_fields__ if getattr(partial, f))
        raise AmbiguousIdentifier(
            f"the {given} given could be many different customers; ask for another detail",
            candidates=[],
        )
    grading = grading_for(conn, partial, holders, region, thresholds)
    named = [c for c in found if c.probability >= NAMING_FLOOR]
    if named and grading.held_by_others(named[0].profile_id):  # as POST /v1/context/lookup
        return _contact_of_another(conn, grading, named[0])
    if named:
        refuse_a_number_alone(conn, partial, named[0], grading)
    others = _held_by_another(holders)  # said of every candidate that holds neither
    matches = [
        _scored(conn, c, grading, "" if c.profile_id in held else others)
        for c in likely[:SEARCH_LIMIT]
    ]
    if rival_of(likely, thresholds) is not None:
        # Several customers the details name (POST /v1/context/lookup answers 409): none of
        # them is the answer, whatever each scores on its own.
        return [msgspec.structs.replace(match, confidence="low") for match in matches]
    return matches


def _holder(conn: sqlite3.Connection, profile_id: str, field: str) -> CustomerMatch:
    other = "phone" if field == "email" else "email"
    why = f"holds the {field} given; the {other} given is another customer's"
    return CustomerMatch(profile_id, _name_of(conn, profile_id), why, "low")


def _contact_of_another(
    conn: sqlite3.Connection, grading: Grading, best: Candidate
) -> list[CustomerMatch]:
    """The customer the rest of the details point at, then the customers who hold the email or
    phone given that it lacks (one alone, or several: a household's line, a shared mailbox);
    none with a probability, so none reads as the answer: naming the first would show their
    data to whoever holds another customer's contact."""
    fields = grading.held_by_others(best.profile_id)
    holding = grading.holders_for(fields)
    whose = "another customer's" if len(holding) == 1 else "other customers'"
    note = f"the {' and '.join(fields)} given {'is' if len(fields) == 1 else 'are'} {whose}"
    other = _scored(conn, best, Grading(grading.thresholds, None, {}), note)
    matches = [CustomerMatch(other.profile_id, other.name, other.why, "low")]
    for holder, given in list(holding.items())[: SEARCH_LIMIT - 1]:
        why = f"holds the {' and '.join(given)} given; the other details point at another customer"
        matches.append(CustomerMatch(holder, _name_of(conn, holder), why, "low"))
    return matches


def _held_by_another(holders: dict[str, StoredSnapshot]) -> str:
    """What to say of a candidate that is not the customer the email or phone given names on
    its own (empty when neither names one)."""
    if not holders:
        return ""
    verb = "are" if len(holders) > 1 else "is"
    return f"the {' and '.join(holders)} given {verb} another customer's"


def _scored(
    conn: sqlite3.Connection, candidate: Candidate, grading: Grading, note: str = ""
) -> CustomerMatch:
    """A scored candidate with its evidence (and what ``grading`` and ``note`` say, if
    anything) as the why, and its confidence."""
    evidence = [f"{k}: {v}" for k, v in sorted(candidate.evidence.items())]
    notes = [", ".join(evidence), grading.note(candidate.profile_id), note]
    why = "; ".join(filter(None, notes))
    name = _name_of(conn, candidate.profile_id)
    confidence = grading.confidence(candidate)
    return CustomerMatch(
        candidate.profile_id, name, why, confidence, round(candidate.probability, 4)
    )


def _name_of(conn: sqlite3.Connection, profile_id: str) -> str | None:
    """The name on the profile's snapshot."""
    return _decode_identity(lookup.by_profile_id(conn, profile_id).json).identity.name


def _sharers(conn: sqlite3.Connection, candidates: list[Mapping[str, Any]]) -> list[CustomerMatch]:
    """The customers who share the one identifier given, ``SEARCH_LIMIT`` at most (the answer
    must not grow with the store); when there are more, each ``why`` says how many share it."""
    more = len(candidates) > SEARCH_LIMIT
    note = f"; {len(candidates)} customers share it, {SEARCH_LIMIT} named here" if more else ""
    return [_candidate(conn, c, note) for c in candidates[:SEARCH_LIMIT]]


def _candidate(
    conn: sqlite3.Connection, candidate: Mapping[str, Any], note: str = ""
) -> CustomerMatch:
    profile_id = str(candidate["profile_id"])
    why = str(candidate["why"]) + note
    return CustomerMatch(profile_id, _name_of(conn, profile_id), why, "low")


def create_escalation(box: ToolBox, args: CreateEscalation, key: str | None) -> str:
    """``create_escalation``: the deterministic handoff of ``POST /v1/escalations``, posted as
    an internal note on the customer's open ticket when a helpdesk is configured.

    The note is written for agents (``escalation`` audience); the copy returned to the bot is
    built for the ``chatbot`` audience (contacts masked and the CRM owner hidden by default).
    Each leaves out what its view, with the key's own limits, hides.
    """
    agents_view = box.policy.view("escalation", key)  # before the lookup: never who exists
    bot_view = box.policy.view("chatbot", key)
    snap = _decode_snapshot(find_stored_for_a_model(box.conn, args, box.region).json)
    held = HeldRecords(box.conn, box.region)  # an order the customer names, past the lists
    who = _who(snap, args, agents_view)
    handoff = build_handoff(
        snap, who, args.transcript, args.reason, agents_view, region=box.region, held=held
    )
    outcome = "note not requested"
    if args.post_note:
        shown = bot_view.shows("support.tickets")  # else the bot is not told the ticket id
        text = render_text(handoff)
        escalation = escalation_key(args.transcript, args.reason)
        no_ticket = no_ticket_reason(snap, agents_view)
        outcome = post_note(
            box.notes, box.posted, handoff, text, agents_view, shown, escalation, no_ticket
        )
    bot_who = _who(snap, args, bot_view)
    for_bot = build_handoff(
        snap, bot_who, args.transcript, args.reason, bot_view, region=box.region, held=held
    )
    return f"Escalation prepared ({outcome}).\n\n{render_text(for_bot)}"


def _who(snap: Snapshot, ref: CustomerRef, view: View) -> Who:
    """As ``POST /v1/escalations`` says it (``handoff.who_of``): found by one identifier that
    only this customer holds (``find_stored``), an ``exact`` match."""
    given = next((n for n in ("email", "phone", "profile_id") if getattr(ref, n) is not None), None)
    return who_of(snap, view, given or f"{ref.source} id", "exact")


def decode_arguments(spec: ToolSpec, arguments: Mapping[str, Any] | None) -> CustomerRef:
    """Arguments as the tool's Struct, with the same rules its JSON schema states."""
    try:
        return msgspec.convert(dict(arguments or {}), spec.args)
    except msgspec.ValidationError as exc:
        raise InvalidToolArguments(f"{spec.name}: {exc}") from exc


Handler = Callable[["ToolBox", Any, str | None], str]


def find_matches(
    box: ToolBox, arguments: Mapping[str, Any] | None, key: str | None
) -> list[CustomerMatch]:
    """``find_customer``'s matches for its raw ``arguments``, each with its ``profile_id`` (for
    the read audit: every profile whose name the answer shows); ``matches_text`` is the
    answer."""
    args = decode_arguments(_FIND_CUSTOMER, arguments)
    assert isinstance(args, FindCustomer)  # the spec's own Struct
    return _matches(box, args, key)


def _matches(box: ToolBox, args: FindCustomer, key: str | None) -> list[CustomerMatch]:
    """The matches, named only when the key's chatbot view shows names (else
    ``"name": null``: the same fields either way)."""
    named = shows_names(box.views("find_customer", key))  # before the lookup: a 403 says nothing
    found = find_customers(box.conn, args, box.region, box.thresholds)
    if not named:
        found = [msgspec.structs.replace(match, name=None) for match in found]
    return found


def matches_text(matches: list[CustomerMatch]) -> str:
    """``find_customer``'s answer: the matches as JSON, a ``low`` one without its id."""
    return msgspec.json.encode([openable(match) for match in matches]).decode()


def _find_text(box: ToolBox, args: FindCustomer, key: str | None) -> str:
    return matches_text(_matches(box, args, key))


def openable(match: CustomerMatch) -> CustomerMatch:
    """``match`` without its ``profile_id`` when it is ``low``: not the customer unless another
    detail says so, so a model has no id to open their context with (a customer who says "yes,
    that's me, look me up" on a name alone would otherwise be shown a stranger's account)."""
    return msgspec.structs.replace(match, profile_id=None) if match.confidence == "low" else match


HANDLERS: dict[str, Handler] = {
    "get_customer_context": customer_context,
    "find_customer": _find_text,
    "create_escalation": create_escalation,
}


class ToolBox:
    """Runs the tools against one store; what every transport (HTTP, MCP) calls.

    ``policy`` is the field policy of ``/v1/context`` (default: the built-in audience rules);
    ``notes`` posts escalation handoffs to the helpdesk (none: handoffs are only returned);
    ``thresholds`` are the identity thresholds (``CONTEXT_SERVICE_IDENTITY_LINK_THRESHOLD``,
    ``..._REVIEW_THRESHOLD``) that ``find_customer``'s confidence words are calibrated on.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        region: str,
        policy: FieldPolicy | None = None,
        notes: NotePoster | None = None,
        *,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.conn = conn
        self.region = region
        self.policy = policy or FieldPolicy()
        self.notes = notes
        self.thresholds = thresholds or Thresholds()
        self.posted = PostedNotes(conn)

    def views(self, name: str, key: str | None) -> list[View]:
        """The field views of tool ``name``'s audiences (``TOOL_AUDIENCES``) for ``key``;
        raises ``AccessDenied`` (403) for an audience the key may not ask for."""
        return [self.policy.view(audience, key) for audience in TOOL_AUDIENCES[name]]

    def call(self, name: str, arguments: Mapping[str, Any] | None, key: str | None = None) -> str:
        """Run tool ``name`` for the caller's API ``key`` (its field-policy grant, if any);
        its result as text. Raises a ``ContextServiceError`` on failure: a 409's candidates
        are named only when the tool's views show names (``seen_by``)."""
        spec = tool_named(name)
        if spec is None:
            raise UnknownTool.named(name)
        views = self.views(name, key)  # before any lookup: a 403 never says who exists
        try:
            return HANDLERS[name](self, decode_arguments(spec, arguments), key)
        except AmbiguousIdentifier as exc:
            raise for_a_model(exc, views) from None
