"""The activity index a batch writes is the one its records written one at a time give.

A batch holds its new activities' index entries and writes them together; a record the
same batch stores again (or deletes) reads the index first, so it must see them already.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.payloads import shopify_customer, shopify_order


def _index(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    owners = store.conn.execute(
        "SELECT owner_source, owner_kind, owner_external_id, r.external_id "
        "FROM activities a JOIN records r ON r.id = a.record_id ORDER BY 1, 2, 3, 4"
    ).fetchall()
    refs = store.conn.execute(
        "SELECT a.kind, a.value, r.external_id FROM activity_refs a "
        "JOIN records r ON r.id = a.record_id ORDER BY 1, 2, 3"
    ).fetchall()
    return owners, refs


def _batch() -> list[RawPayload]:
    """Two customers; orders that are new, then changed owner, then deleted, in one batch."""
    return [
        RawPayload(*shopify_customer(1, "ann.lee@example.com", "Ann", "Lee")),
        RawPayload(*shopify_customer(2, "bo.kim@example.com", "Bo", "Kim")),
        RawPayload(*shopify_order(55, 1, "#1001", "2026-11-01T00:00:00Z")),
        RawPayload(*shopify_order(56, 1, "#1002", "2026-11-02T00:00:00Z")),
        RawPayload(*shopify_order(55, 2, "#1001", "2026-11-03T00:00:00Z")),  # moves to Bo
        RawPayload(*shopify_order(57, 2, "#1003", "2026-11-04T00:00:00Z")),
        RawPayload(
            "shopify", "order", {"id": 56}, observed_at="2026-11-05T00:00:00Z", deleted=True
        ),
        RawPayload(*shopify_order(58, 1, "#1004", "2026-11-06T00:00:00Z")),
    ]


def test_one_batch_indexes_as_records_one_at_a_time(tmp_path: Path, ctx: IngestContext) -> None:
    together, apart = Store(tmp_path / "together.db"), Store(tmp_path / "apart.db")
    try:
        ingest_batch(together, _batch(), ctx)
        for item in _batch():
            ingest_batch(apart, [item], ctx)
        owners, refs = _index(together)
        assert (owners, refs) == _index(apart)
        assert sorted((row[2], row[3]) for row in owners) == [("1", "58"), ("2", "55"), ("2", "57")]
        assert ("order_number", "1002", "56") not in refs  # the deleted order left the index
        assert ("order_number", "1001", "55") in refs
    finally:
        together.close()
        apart.close()
