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
    render_text,
    safe_turns,
)
from context_service.handoff.notes import NoteFailed, NotePoster, ZendeskNotes, escalation_key

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
    "render_text",
    "safe_turns",
]
