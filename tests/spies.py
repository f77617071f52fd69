"""Test doubles shared by the tool and MCP tests."""

from __future__ import annotations

import asyncio
import html
from typing import Any


class LoopSpy:
    """A note poster that notes whether it ran on a thread with a running event loop."""

    def __init__(self) -> None:
        self.on_loop: list[bool] = []

    def post_internal_note(self, ticket_id: str, body: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.on_loop.append(False)
        else:
            self.on_loop.append(True)


def zendesk_note_text(comment: dict[str, Any]) -> str:
    """The text of an internal note as ``ZendeskNotes`` posted it (``html_body``: one escaped
    line per ``<br>``), as an agent reads it."""
    body = str(comment["html_body"])
    assert body.startswith("<p>")
    assert body.endswith("</p>")
    return html.unescape(body[3:-4].replace("<br>", "\n"))
