"""Escalation handoffs from a bot to a human: deterministic summary, optional helpdesk note."""

from __future__ import annotations

from context_service.handoff.build import (
    CUSTOMER_ROLES,
    NO_REGION,
    Handoff,
    Priority,
    Turn,
    Who,
    build_handoff,
    safe_reason,
    safe_turns,
)
from context_service.handoff.notes import NoteFailed, NotePoster, ZendeskNotes, escalation_key
from context_service.handoff.render import render_text
from context_service.handoff.tickets import no_ticket_reason
from context_service.handoff.who import who_of

__all__ = [
    "CUSTOMER_ROLES",
    "NO_REGION",
    "Handoff",
    "NoteFailed",
    "NotePoster",
    "Priority",
    "Turn",
    "Who",
    "ZendeskNotes",
    "build_handoff",
    "escalation_key",
    "no_ticket_reason",
    "render_text",
    "safe_reason",
    "safe_turns",
    "who_of",
]
