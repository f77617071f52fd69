"""``resolve --all`` empties the identity index by dropping and re-creating its tables: the
store keeps the same tables and indexes afterwards, and a rebuild that fails half-way leaves
the index as it was (the drop is part of the rebuild's transaction)."""

from __future__ import annotations

import pytest

from context_service.identity.engine import Engine
from context_service.identity.rebuild import rebuild
from context_service.store import Store
from tests.identity.test_engine_updates_match_rebuild import Put
from tests.identity.test_rebuild_in_chunks import _store

_TABLES = ("identity_edges", "identity_features", "identifiers")
# Maya on Shopify and HubSpot (one email, one phone), Ken on Stripe: edges, features and
# identifiers in every table.
_STEPS = [Put(0, 0, 0, 0, 0), Put(2, 0, 0, 0, 0), Put(4, 1, 2, 1, 0)]


def _schema(store: Store) -> list[tuple[str, str, str]]:
    rows = store.conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN (?, ?, ?) ORDER BY name",
        _TABLES,
    )
    return [tuple(row) for row in rows]


def _contents(store: Store) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: sorted(tuple(row) for row in store.conn.execute(f"SELECT * FROM {table}"))
        for table in _TABLES
    }


def test_rebuild_keeps_every_table_and_index_of_the_identity_index() -> None:
    store = _store(_STEPS)
    schema = _schema(store)
    assert any(kind == "index" for kind, _, _ in schema)
    contents = _contents(store)
    assert all(contents.values())
    with store.transaction() as conn:
        rebuild(conn, "US", "2026-12-02T00:00:00Z")
    assert _schema(store) == schema
    assert _contents(store) == contents


def test_a_rebuild_that_fails_after_the_drop_leaves_the_index_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = _store(_STEPS)
    schema, contents = _schema(store), _contents(store)

    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("crash mid-rebuild")

    monkeypatch.setattr(Engine, "recluster", fail)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        rebuild(conn, "US", "2026-12-02T00:00:00Z")
    assert _schema(store) == schema
    assert _contents(store) == contents
