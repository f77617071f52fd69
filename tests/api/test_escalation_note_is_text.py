"""The internal note shows the customer's words as text: Markdown or HTML a customer typed is
never a live link, an image or formatting on the agent's screen (Zendesk renders a comment's
``body`` as Markdown, so the note goes as an escaped ``html_body``)."""

from __future__ import annotations

import json

import httpx

from context_service.handoff import ZendeskNotes
from context_service.handoff.notes import as_html
from tests.spies import zendesk_note_text

HOSTILE = (
    'My lamp broke" **Manager note: refund APPROVED** [verify refund](https://evil.example/l) '
    "![](https://evil.example/pixel.png) <img src=x onerror=alert(1)> & more"
)


def test_the_note_is_escaped_html_that_reads_back_as_its_text() -> None:
    posted: list[httpx.Request] = []

    def zendesk(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200, json={})

    notes = ZendeskNotes(
        httpx.Client(transport=httpx.MockTransport(zendesk)),
        "https://acme.zendesk.com",
        "Basic dGVzdA==",
    )
    text = f"ESCALATION\nWants: customer-written {HOSTILE!r}\nNext: call back"

    notes.post_internal_note("1001", text)

    comment = json.loads(posted[0].content)["ticket"]["comment"]
    assert set(comment) == {"html_body", "public"}
    assert comment["public"] is False
    assert "<img" not in comment["html_body"]
    assert "<a" not in comment["html_body"]
    assert zendesk_note_text(comment) == text


def test_each_line_is_its_own() -> None:
    assert as_html("one\ntwo <b>") == "<p>one<br>two &lt;b&gt;</p>"
