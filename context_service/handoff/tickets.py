"""Which open ticket an escalation's note goes on.

A customer with several open tickets ("Refund for my broken lamp" and "Password reset not
arriving") who writes "following up on ticket 5001" means 5001, not the newest one. The note
goes on the open ticket the conversation names (the customer's latest mention first, then the
bot's reason); else on the only open ticket; with several open and none named it is not posted
at all: a handoff on the wrong ticket reaches the wrong person, and the answer says why.
"""

from __future__ import annotations

import re
import unicodedata

from context_service.audience.policy import View
from context_service.models import Snapshot, Ticket
from context_service.snapshot.signals import OPEN_TICKET_STATUSES

_ZENDESK_TICKET = ("zendesk", "ticket")
# ``ticket 5001``, ``ticket #5001``, ``ticket no. 5001``, ``ticket number is 5001``, and as
# Zendesk's emails write it, ``request #5001`` or ``request (5001)``. A bare ``#5001`` is no
# ticket (it is as often an order number), nor "I request 2 refunds".
# Runs of spaces are possessive (``\s*+``): linear time on a turn of "ticket" and spaces.
_TICKET_REF = re.compile(
    r"(?<!\w)(?:ticket\s*+(?:(?:no\.?|number|nr\.?|id)\s*+)?(?:(?:is|was|:)\s*+)?#?\s*+"
    r"|request\s*+(?:#\s*+|\(\s*+#?))(\d+)(?!\d)",
    re.IGNORECASE,
)


def open_tickets(snap: Snapshot, view: View) -> list[Ticket]:
    """The unsolved Zendesk tickets the view shows (new, open, pending and hold, as the
    snapshot counts them), in the snapshot's order.

    Only a ticket the profile holds as a Zendesk record counts: the note is posted to Zendesk
    by this number, and a ticket from a spreadsheet source carries a number that, in Zendesk,
    is some other ticket (another customer's).
    """
    if not view.shows("support.tickets"):
        return []
    zendesk = {m.external_id for m in snap.members if (m.source, m.kind) == _ZENDESK_TICKET}
    return [
        t
        for t in snap.support.tickets
        if t.status in OPEN_TICKET_STATUSES and t.external_id in zendesk
    ]


def ticket_for_note(snap: Snapshot, said: list[str], reason: str, view: View) -> str | None:
    """The open ticket the note goes on: the one the customer's turns name (the latest
    mention first), else the one the reason names, else the only open ticket; ``None`` when
    none is open, or several are and the conversation names none of them."""
    tickets = open_tickets(snap, view)
    ids = [t.external_id for t in tickets if t.external_id]
    for ref in _ticket_refs([*reversed(said), reason]):
        if ref in ids:
            return ref
    return ids[0] if len(ids) == 1 else None


def no_ticket_reason(snap: Snapshot, view: View) -> str:
    """Why no note was posted when ``ticket_for_note`` found no ticket, in words for the
    caller (no ticket's id: a bot may not be shown them)."""
    count = len(open_tickets(snap, view))
    if count > 1:
        return (
            f"the customer has {count} open tickets and the conversation names none of them; "
            'not posted on a guess (name it, as "ticket 1234", and send the escalation again)'
        )
    return "the customer has no open ticket"


def ticket_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` (NFKC-normalized) names a ticket's number: the number's span."""
    return [m.span(1) for m in _TICKET_REF.finditer(text)]


def _ticket_refs(texts: list[str]) -> list[str]:
    """The ticket numbers ``texts`` name, text by text, the latest mention in each first."""
    refs: list[str] = []
    for text in texts:
        found = _TICKET_REF.findall(unicodedata.normalize("NFKC", text))
        refs.extend(reversed(found))
    return refs
