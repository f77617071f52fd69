"""People's identity decisions applied to the store: one transaction, fresh snapshots.

Shared by the API (``/v1/profiles/...``, ``/v1/review/...``) and the CLI (``merge``, ``split``,
``review``), so a command line that changes identity does not load the web framework.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Protocol, TypeVar

from context_service.snapshot.materialize import materialize
from context_service.store import Store
from context_service.sync.ingest import IngestContext, bump_versions, utc_now


class Changes(Protocol):
    """What a decision reports: the profiles it changed."""

    @property
    def changed(self) -> list[str]: ...


R = TypeVar("R", bound=Changes)


def apply_decision(
    store: Store, ctx: IngestContext, action: Callable[[sqlite3.Connection, str], R]
) -> R:
    """Run one decision in a transaction, then bump and rebuild the changed profiles' snapshots."""
    now = utc_now()
    with store.transaction() as conn:
        result = action(conn, now)
        bump_versions(conn, result.changed, now)
        materialize(conn, result.changed, ctx.links, now, ctx.region)
    return result
