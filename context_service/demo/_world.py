"""The state one generation run shares: seed, clock, id factories and running counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from context_service.demo._util import StripeIds

# What the internal builders yield: (source, kind, payload); ``generate`` wraps it.
Item = tuple[str, str, dict[str, Any]]


@dataclass(slots=True)
class World:
    """Counters number the objects that are not tied to one person (orders, tickets...)."""

    seed: int
    now: int
    customers: int
    ids: StripeIds = field(init=False)
    orders: int = 0
    subscriptions: int = 0
    invoices: int = 0
    charges: int = 0
    disputes: int = 0
    deals: int = 0
    tickets: int = 0
    comments: int = 0

    def __post_init__(self) -> None:
        self.ids = StripeIds(self.seed)

    def comment_ids(self, count: int) -> int:
        """Reserve ``count`` consecutive Zendesk comment ids; return the first."""
        first = 42_000_000_000_000 + self.comments * 7
        self.comments += count
        return first
