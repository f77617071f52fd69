"""New in-memory stores for property tests that open hundreds of them.

Migrating a new store runs some 250 schema statements (17 ms; a property test with a rebuild
after every batch opened 800 stores, more than half its time). ``memory_store()`` opens a
``Store`` as usual but, instead of migrating it, copies in the pages of one store migrated once
per process: the same schema, the same ``_migrations`` rows, the connection's own settings
(WAL, foreign keys) as ``Store`` makes them. The migrations themselves are tested on new
stores elsewhere (tests/store).
"""

from __future__ import annotations

import functools
from unittest import mock

import sqlite_utils

from context_service.store import Store
from context_service.store import db as store_db


@functools.cache
def _blank_store() -> Store:
    return Store(":memory:")


def memory_store(copy_of: Store | None = None) -> Store:
    """A new migrated in-memory ``Store`` (what ``Store(":memory:")`` gives), empty or, with
    ``copy_of``, holding a copy of that store's database.

    (Another thread opening a store meanwhile would get a copy too: the same schema.)"""
    source = copy_of if copy_of is not None else _blank_store()

    def copy_in(db: sqlite_utils.Database) -> list[str]:
        """Stands in for ``migrate``: the pages copied; nothing was applied here."""
        source.conn.backup(db.conn)
        return []

    with mock.patch.object(store_db, "migrate", copy_in):
        return Store(":memory:")
