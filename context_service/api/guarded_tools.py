"""The tools behind the trust rules, for every transport (``/v1/tools/call`` and ``/mcp``).

``GuardedToolBox.call`` checks the calling key's scope per tool (``create_escalation`` needs
``escalations:write``, the others ``context:lookup``), records each read in the audit and keeps
unverified callers to the unverified answer: tool calls carry no end-user proof, so a key that
is not a trusted backend learns only whether an account exists (``get_customer_context``,
``find_customer``) and may not prepare an escalation, whose text holds account facts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import msgspec

from context_service.api.auth import Forbidden
from context_service.audience import FieldPolicy, View
from context_service.errors import AmbiguousIdentifier, AuthenticationFailed
from context_service.handoff import NotePoster
from context_service.identity.pairs import Thresholds
from context_service.tools import CustomerRef, ToolBox, UnknownTool, tool_named
from context_service.tools.confidence import names_an_account
from context_service.tools.schemas import GetCustomerContext
from context_service.tools.service import (
    decode_arguments,
    find_matches,
    find_stored_for_a_model,
    for_a_model,
    matches_text,
)
from context_service.tools.typed import typed_details
from context_service.trust import CONTEXT_LOOKUP, ESCALATIONS_WRITE, Principal, Read, Trust
from context_service.trust.audit import Verification
from context_service.trust.chatbot import unverified_body

_AUDIENCE = {"create_escalation": "escalation"}


class GuardedToolBox(ToolBox):
    """A ``ToolBox`` that applies scopes, the chatbot verification rule and the read audit."""

    def __init__(
        self,
        trust: Trust,
        conn: sqlite3.Connection,
        region: str,
        policy: FieldPolicy | None = None,
        notes: NotePoster | None = None,
        likely: float = 0.5,
        thresholds: Thresholds | None = None,
    ) -> None:
        """``likely`` is the review threshold; ``thresholds`` both identity thresholds, which
        ``find_customer``'s confidence words follow (default: the link threshold's default
        with ``likely`` for review)."""
        default = Thresholds(link=max(Thresholds().link, likely), review=likely)
        super().__init__(conn, region, policy, notes, thresholds=thresholds or default)
        self.trust = trust
        self.likely = likely  # the probability from which a match says an account exists

    def call(self, name: str, arguments: Mapping[str, Any] | None, key: str | None = None) -> str:
        """Run tool ``name`` for the key ``key`` under the trust rules (see module doc)."""
        principal = self.trust.keyring.peek(key) if key else None
        if principal is None:
            raise AuthenticationFailed("missing or invalid API key")
        spec = tool_named(name)
        if spec is None:  # before any rule: a name that is no tool never gets an answer
            raise UnknownTool.named(name)
        needed = ESCALATIONS_WRITE if name == "create_escalation" else CONTEXT_LOOKUP
        if needed not in principal.scopes:
            raise Forbidden(f"this API key lacks the scope '{needed}' for tool {name}")
        if not principal.trusted_backend and name == "create_escalation":
            raise Forbidden("create_escalation needs a trusted-backend key")
        # The tool's audiences (``TOOL_AUDIENCES``: find_customer's too), checked before the
        # lookup, so a 403 never says who exists; their views name a 409's candidates or not.
        views = self.views(name, key)
        if isinstance(arguments, Mapping):  # a detail pasted with a zero-width or bidi mark
            arguments = typed_details(arguments)
        if name == "find_customer":
            return self._find(principal, arguments, key)
        args = decode_arguments(spec, arguments)
        profile_id = self._profile_of_for(principal, args, views)
        if not principal.trusted_backend:
            self._record(principal, name, [profile_id], verified=False)
            return _unverified(args, self.trust.guidance)
        result = super().call(name, arguments, key)
        self._record(principal, name, [profile_id], verified=True)
        return result

    def _find(
        self, principal: Principal, arguments: Mapping[str, Any] | None, key: str | None
    ) -> str:
        """``find_customer``: the matches for a trusted backend, only "an account exists" else;
        either way each matched profile is in the read audit (unverified for the latter)."""
        try:
            found = find_matches(self, arguments, key)
        except AmbiguousIdentifier as exc:
            raise for_a_model(exc, self.views("find_customer", key)) from None
        trusted = principal.trusted_backend
        ids: list[str | None] = [match.profile_id for match in found]
        self._record(principal, "find_customer", ids, verified=trusted)
        result = matches_text(found)
        if trusted:
            return result
        answer = {
            "verification": "unverified",
            "account_exists": self._exists(msgspec.json.decode(result)),
        }
        return msgspec.json.encode(answer).decode()

    def _exists(self, matches: Any) -> bool:
        """Whether the matches name an account (``names_an_account``): an exact match, one
        without a probability, or one at least as likely as the review threshold."""
        return names_an_account(matches if isinstance(matches, list) else [], self.likely)

    def _profile_of_for(
        self, principal: Principal, args: CustomerRef, views: list[View]
    ) -> str | None:
        """The profile the call is about, except that a key that is no trusted backend never
        learns who else matched: its 409 keeps the count but not the candidates' names and
        ids (as ``GET /v1/context`` answers a chatbot key); a trusted backend's lists them as
        its ``views`` may read them (no names when one hides ``identity.names``)."""
        try:
            return find_stored_for_a_model(self.conn, args, self.region).profile_id
        except AmbiguousIdentifier as exc:
            if principal.trusted_backend:
                raise for_a_model(exc, views) from None
            count = len(exc.extra.get("candidates", []))
            if not count:  # its detail names no one (a common name, a number alone)
                raise
            raise AmbiguousIdentifier(
                f"these details match {count} customers; ask the customer for another detail",
                candidates=[],
            ) from None

    def _record(
        self, principal: Principal, name: str, profile_ids: list[str | None], *, verified: bool
    ) -> None:
        audience = _AUDIENCE.get(name, "chatbot")
        # Tool calls carry no end user's proof: only a trusted backend gets the full answer.
        mode: Verification = "trusted_backend" if verified else "unverified"
        reads = [
            Read(principal.name, p, audience, verified, f"tool:{name}", mode)
            for p in profile_ids
            if p
        ]
        if reads:
            self.trust.record(*reads)


def _unverified(args: CustomerRef, guidance: str) -> str:
    """The unverified answer in the format the call asked for (``text`` unless it said
    ``json``), as ``GET /v1/context`` answers the same key."""
    fmt = args.format if isinstance(args, GetCustomerContext) else "text"
    body, _ = unverified_body(fmt, guidance, "tool calls carry no proof")
    return body.decode()
