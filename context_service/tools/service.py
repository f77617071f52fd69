"""The seam between consumers (tool calls, the MCP server, the sidebar widget) and the store.

Everything that shows a customer to a model or a person outside ``GET /v1/context`` fetches it
through ``find_stored``; ``ToolBox.call`` runs a tool by name on decoded arguments. When the
audience renderers (chatbot, sidebar) land, they plug in here and nowhere else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from context_service.errors import (
    AmbiguousIdentifier,
    ContextServiceError,
    InvalidIdentifier,
    ProfileNotFound,
)
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


class UnknownTool(ContextServiceError):
    """No tool has this name."""

    status_code = 404
    title = "Unknown tool"


class InvalidToolArguments(ContextServiceError):
    """The arguments do not match the tool's schema."""

    status_code = 400
    title = "Invalid tool arguments"


class ToolUnavailable(ContextServiceError):
    """The tool is declared but this server cannot run it."""

    status_code = 501
    title = "Tool not available"


class CustomerMatch(msgspec.Struct):
    """One profile an identifier points at."""

    profile_id: str
    name: str | None
    emails: list[str]
    why: str


class _Identity(msgspec.Struct):
    name: str | None = None
    emails: list[str] = []


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


def customer_context(conn: sqlite3.Connection, args: GetCustomerContext, region: str) -> str:
    """``get_customer_context``: the prompt-ready text snapshot, or the JSON one."""
    stored = find_stored(conn, args, region)
    return stored.text if args.format == "text" else stored.json.decode()


def find_customers(conn: sqlite3.Connection, ref: CustomerRef, region: str) -> list[CustomerMatch]:
    """``find_customer``: every profile the identifier belongs to (none, one or several)."""
    try:
        stored = find_stored(conn, ref, region)
    except ProfileNotFound:
        return []
    except AmbiguousIdentifier as exc:
        return [_candidate(conn, c) for c in exc.extra.get("candidates", [])]
    identity = _decode_identity(stored.json).identity
    return [CustomerMatch(stored.profile_id, identity.name, identity.emails, "matches")]


def _candidate(conn: sqlite3.Connection, candidate: Mapping[str, Any]) -> CustomerMatch:
    profile_id = str(candidate["profile_id"])
    stored = lookup.by_profile_id(conn, profile_id)
    identity = _decode_identity(stored.json).identity
    return CustomerMatch(profile_id, identity.name, identity.emails, str(candidate["why"]))


def create_escalation(conn: sqlite3.Connection, args: CreateEscalation, region: str) -> str:
    """``create_escalation``: not wired yet; the customer is still looked up, so bad input says so.

    The escalation service (``POST /v1/escalations``) is built separately; until it exists this
    answers a clear "not available" instead of pretending a person was notified.
    """
    find_stored(conn, args, region)
    raise ToolUnavailable(
        "create_escalation is not available on this server yet: no escalation service is "
        "configured. Tell the customer a person will follow up, or hand over in your helpdesk."
    )


def decode_arguments(spec: ToolSpec, arguments: Mapping[str, Any] | None) -> CustomerRef:
    """Arguments as the tool's Struct, with the same rules its JSON schema states."""
    try:
        return msgspec.convert(dict(arguments or {}), spec.args)
    except msgspec.ValidationError as exc:
        raise InvalidToolArguments(f"{spec.name}: {exc}") from exc


Handler = Callable[[sqlite3.Connection, Any, str], str]


def _find_text(conn: sqlite3.Connection, args: FindCustomer, region: str) -> str:
    return msgspec.json.encode(find_customers(conn, args, region)).decode()


HANDLERS: dict[str, Handler] = {
    "get_customer_context": customer_context,
    "find_customer": _find_text,
    "create_escalation": create_escalation,
}


class ToolBox:
    """Runs the tools against one store; what every transport (HTTP, MCP) calls."""

    def __init__(self, conn: sqlite3.Connection, region: str) -> None:
        self.conn = conn
        self.region = region

    def call(self, name: str, arguments: Mapping[str, Any] | None) -> str:
        """Run tool ``name``; its result as text. Raises a ``ContextServiceError`` on failure."""
        spec = tool_named(name)
        if spec is None:
            raise UnknownTool(f"no tool named {name!r}")
        return HANDLERS[name](self.conn, decode_arguments(spec, arguments), self.region)
