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
from context_service.sync.unbuilt_index import build_unbuilt_index


class Changes(Protocol):
    """What a decision reports: the profiles it changed."""

    @property
    def changed(self) -> list[str]: ...


R = TypeVar("R", bound=Changes)


def apply_decision(
    store: Store, ctx: IngestContext, action: Callable[[sqlite3.Connection, str], R]
) -> R:
    """Run one decision in a transaction, then bump and rebuild the changed profiles' snapshots.

    A store upgraded from before the identity engine has its index built first, as the first
    ingest does (``build_unbuilt_index``): a split checks the records it parts against the
    index, and without one it refused, blaming decisions the store did not hold."""
    now = utc_now()
    with store.transaction() as conn:
        build_unbuilt_index(conn, ctx.region, now, ctx.thresholds)
        result = action(conn, now)
        bump_versions(conn, result.changed, now)
        materialize(conn, result.changed, ctx.links, now, ctx.region)
    return result
