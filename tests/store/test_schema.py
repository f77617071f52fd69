"""Schema properties every migration must keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.store import Store


def test_every_foreign_key_column_is_indexed(tmp_path: Path) -> None:
    """Deleting a parent row must not scan a child table to enforce its foreign key."""
    store = Store(tmp_path / "fk.db")
    try:
        conn = store.conn
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        unindexed = []
        for table in tables:
            pk = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[5] == 1]
            firsts = {
                conn.execute(f"PRAGMA index_info({index[1]})").fetchone()[2]
                for index in conn.execute(f"PRAGMA index_list({table})")
            }
            for fk in conn.execute(f"PRAGMA foreign_key_list({table})"):
                column = fk[3]
                if column not in firsts and pk[:1] != [column]:
                    unindexed.append(f"{table}.{column}")
        assert unindexed == []
    finally:
        store.close()


@pytest.mark.parametrize(
    "query",
    [
        # a ticket number typed into a chat (identity.search)
        "SELECT id FROM records WHERE kind = 'ticket' AND external_id = ? AND deleted = 0",
        # any vendor id with its source (snapshot.lookup.by_source_id)
        "SELECT id, source, kind, external_id FROM records "
        "WHERE +source = ? AND external_id = ? AND deleted = 0",
    ],
)
def test_a_vendor_id_is_found_through_an_index_not_a_scan(tmp_path: Path, query: str) -> None:
    store = Store(tmp_path / "plan.db")
    try:
        plan = " ".join(
            str(row[-1])
            for row in store.conn.execute(
                f"EXPLAIN QUERY PLAN {query}", ("x", "y")[: query.count("?")]
            )
        )
    finally:
        store.close()
    assert "records_external_id (external_id=?)" in plan
    assert "SCAN" not in plan


@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("SELECT source, status, count(*) FROM webhook_inbox GROUP BY status, source", ()),
        (
            "DELETE FROM webhook_inbox WHERE status = 'applied' AND received_at < ?",
            ("2026-01-01",),
        ),
    ],
)
def test_inbox_counts_and_purge_read_an_index_not_every_body(
    tmp_path: Path, query: str, params: tuple[str, ...]
) -> None:
    """Status, source and time follow the body in a row: a table scan reads every body."""
    store = Store(tmp_path / "s.db")
    try:
        plan = " ".join(
            str(row[-1]) for row in store.conn.execute(f"EXPLAIN QUERY PLAN {query}", params)
        )
    finally:
        store.close()
    assert "webhook_inbox_status" in plan
    assert "TEMP B-TREE" not in plan
    table_scan = "SCAN webhook_inbox" in plan.replace("SCAN webhook_inbox USING COVERING", "")
    assert not table_scan
