"""Posting a handoff as an internal (private) note on the customer's open helpdesk ticket.

``NotePoster`` is the plug-in point: ``api/app.py`` builds a ``ZendeskNotes`` from the Zendesk
settings (base URL and auth header come from the Zendesk integration) and passes it in; tests
give it an ``httpx.MockTransport``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import httpx
import msgspec

_TOO_MANY_REQUESTS = 429
_SERVER_ERROR = 500


class NotePoster(Protocol):
    """Adds a private note to a ticket; returns nothing, raises ``NoteFailed``."""

    def post_internal_note(self, ticket_id: str, body: str) -> None:
        """Add ``body`` as a private comment on ``ticket_id``."""
        ...


if TYPE_CHECKING:
    from context_service.handoff.build import Turn


def escalation_key(transcript: Sequence[Turn], reason: str) -> str:
    """What names one escalation for its helpdesk note, with the ticket it goes on (the
    customer's): the conversation and the reason, whichever path sent it
    (``POST /v1/escalations`` or the ``create_escalation`` tool). Not the note's text: the
    facts in it move on (a Stripe webhook between a request and its retry), and the retried
    escalation must still find its note posted. Nor the profile id: a merge or split between
    a request and its retry gives the customer another, and her ticket must still get one
    note."""
    turns = [(t.role, t.at, t.text) for t in transcript]
    return msgspec.json.encode(["escalation", turns, reason]).decode()


class NoteFailed(Exception):
    """The helpdesk refused or did not answer; ``retryable`` when sending it again may work
    (rate limited, a server error, no answer), not when the helpdesk refused the note."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class ZendeskNotes:
    """``PUT /api/v2/tickets/{id}.json`` with a private comment."""

    def __init__(self, client: httpx.Client, base_url: str, authorization: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self._auth = authorization

    def post_internal_note(self, ticket_id: str, body: str) -> None:
        """Add a private comment (``public: false``), visible to agents only, as ``html_body``
        (``as_html``): Zendesk renders a comment's ``body`` as Markdown, where a customer's
        ``[verify here](https://...)`` or ``![](https://...)`` quoted in the note would become
        a live link or a tracking image, and a ``"`` or ``**`` could reshape the lines around
        it."""
        if not (ticket_id.isascii() and ticket_id.isdigit()):
            raise NoteFailed(f"'{ticket_id}' is not a Zendesk ticket id")
        url = f"{self.base_url}/api/v2/tickets/{ticket_id}.json"
        payload = {"ticket": {"comment": {"html_body": as_html(body), "public": False}}}
        try:
            response = self.client.put(
                url, json=payload, headers={"Authorization": self._auth}, timeout=10.0
            )
        except httpx.HTTPError as exc:
            reason = f"Zendesk did not answer ({type(exc).__name__})"
            raise NoteFailed(reason, retryable=True) from exc
        status = response.status_code
        if status >= 300:
            retryable = status == _TOO_MANY_REQUESTS or status >= _SERVER_ERROR
            raise NoteFailed(f"Zendesk answered HTTP {status}", retryable=retryable)


def as_html(text: str) -> str:
    """``text`` as HTML that shows exactly its characters, line by line: every ``<``, ``&``
    and quote escaped, so nothing in it is markup (Zendesk does not read Markdown in an
    ``html_body``)."""
    lines = text.split("\n")
    return "<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>"
