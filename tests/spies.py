"""Test doubles shared by the tool and MCP tests."""

from __future__ import annotations

import asyncio


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
