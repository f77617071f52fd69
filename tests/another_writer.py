"""Writes made meanwhile by another writer (a second worker, a webhook pass, a sync), through a
connection of its own to the test's store file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch


def ingest_elsewhere(store: Store, items: Sequence[RawPayload], ctx: IngestContext) -> None:
    """Ingest ``items`` into ``store``'s file on another connection, as another process would."""
    other = Store(store.path)
    try:
        ingest_batch(other, list(items), ctx)
    finally:
        other.close()


class AfterFirstCall:
    """A stand-in for ``original`` that runs ``then`` once, right after its first call
    returns: another writer's work landing in that window. ``happened`` says it did."""

    def __init__(self, original: Callable[..., Any], then: Callable[[], None]) -> None:
        self.original = original
        self.then = then
        self.happened = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self.original(*args, **kwargs)
        if not self.happened:
            self.happened = True
            self.then()
        return result
