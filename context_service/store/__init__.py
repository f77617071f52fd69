"""SQLite store: migrations, source records, identifiers, profiles, activities, snapshots.

Functions take a ``sqlite3.Connection`` (``Store.conn``) so that a caller composes several of them
inside one ``Store.transaction()``.
"""

from context_service.store.db import Store

__all__ = ["Store"]
