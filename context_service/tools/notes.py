"""Escalation notes on helpdesk tickets, posted once: ``create_escalation``'s and ``POST
/v1/escalations``' claim on a note (``store.notes``), and the tool's posting of it, whose
outcome is told to the bot in words."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime

from context_service.audience.policy import View
from context_service.handoff import Handoff, NoteFailed, NotePoster
from context_service.store import notes as notes_store

log = logging.getLogger(__name__)

BEING_POSTED = "the same internal note is being posted by another request"


class PostedNotes:
    """The notes posted on helpdesk tickets (``store.notes``: a digest per ticket and text), so
    that a retried ``create_escalation`` (an agent framework whose answer was lost) does not
    post the same handoff again, on whichever worker it lands or after a restart."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def claim(self, ticket_id: str, escalation: str) -> notes_store.Claimed:
        """``new`` when this request may post the escalation's note on the ticket, ``posted``
        for a repeat of a posted one, ``pending`` while another request posts it
        (``store.notes``). ``escalation`` is ``handoff.escalation_key``."""
        digest = notes_store.note_digest(ticket_id, escalation)
        return notes_store.claim(self._conn, digest, _now())

    def confirm(self, ticket_id: str, escalation: str) -> None:
        """The claimed note was posted."""
        notes_store.confirm(self._conn, notes_store.note_digest(ticket_id, escalation))

    def release(self, ticket_id: str, escalation: str) -> None:
        """Forget a claimed note whose posting failed, so that a retry posts it."""
        notes_store.release(self._conn, notes_store.note_digest(ticket_id, escalation))


def _now() -> datetime:
    return datetime.now(UTC)


def post_note(
    poster: NotePoster | None,
    posted: PostedNotes,
    handoff: Handoff,
    text: str,
    view: View,
    show_id: bool,
    escalation: str,
    no_ticket: str,
) -> str:
    """Post ``text`` on the handoff's ticket unless ``posted`` says this escalation's note is
    there already (``escalation``: ``handoff.escalation_key``, shared with ``POST
    /v1/escalations``); what happened, in words for the bot, which hears the ticket's id only
    when ``show_id`` (its own view shows the tickets); ``no_ticket`` when the handoff names no
    ticket (``handoff.no_ticket_reason``). A failure never fails the call: the claim is
    released, so sending the same escalation again posts the note (once)."""
    if poster is None:
        return "no helpdesk is configured for notes: hand over in your helpdesk"
    if not view.shows("support.tickets"):
        return "support tickets are hidden from this API key: hand over in your helpdesk"
    ticket_id = handoff.open_ticket
    if ticket_id is None:
        return no_ticket
    named = f"ticket {ticket_id}" if show_id else "the customer's open ticket"
    return _post_claimed(poster, posted, ticket_id, text, escalation, named, show_id)


def _post_claimed(
    poster: NotePoster,
    posted: PostedNotes,
    ticket_id: str,
    text: str,
    escalation: str,
    named: str,
    show_id: bool,
) -> str:
    """Claim the note, post it and confirm it, or release the claim when posting fails."""
    claimed = posted.claim(ticket_id, escalation)
    if claimed == "pending":
        return f"{BEING_POSTED} on {named}; send the same escalation again in a moment"
    if claimed == "posted":
        return f"the same internal note was already posted on {named}; not posted again"
    failure = _attempt(poster, ticket_id, text)
    if failure is None:
        posted.confirm(ticket_id, escalation)
        return f"internal note posted on {named}"
    posted.release(ticket_id, escalation)  # so that sending it again posts it (once)
    reason = failure if show_id else failure.replace(ticket_id, "(hidden)")
    return f"the note on {named} failed: {reason}"


def _attempt(poster: NotePoster, ticket_id: str, text: str) -> str | None:
    """Post the note; why it failed, or ``None`` once posted."""
    try:
        poster.post_internal_note(ticket_id, text)
    except NoteFailed as exc:
        again = "; send the same escalation again to retry" if exc.retryable else ""
        return f"{exc}{again}"
    except Exception:  # a plug-in's own failure: the escalation is still answered
        log.exception("posting the escalation note on ticket %s failed", ticket_id)
        return "unexpectedly (logged); send the same escalation again to retry"
    return None
