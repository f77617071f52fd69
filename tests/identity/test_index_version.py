"""The identity index records which blocking keys built it; doctor says when it is stale or
when a large store still matches with the starting weights."""

from __future__ import annotations

from pathlib import Path

from context_service.doctor import TRAIN_AFTER_RECORDS, check_identity
from context_service.identity.features import INDEX_VERSION
from context_service.identity.rebuild import rebuild
from context_service.identity.state import index_version
from context_service.store import Store
from tests.conftest import Ingest, make_settings
from tests.payloads import shopify_customer


def _identity_findings(db: str) -> list[tuple[str, str]]:
    return [(f.level, f.text) for f in check_identity(make_settings(db))]


def test_a_new_store_is_indexed_with_the_current_keys(store: Store, ingest: Ingest) -> None:
    ingest(shopify_customer(1, "ann@example.com", "Ann", "Lee"))
    assert index_version(store.conn) == INDEX_VERSION
    assert _identity_findings(store.path) == [
        ("ok", "identity index of 1 person records is current")
    ]


def test_an_index_built_with_older_keys_is_reported_until_rebuilt(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "ann@example.com", "Ann", "Lee"))
    with store.transaction() as conn:
        conn.execute("UPDATE identity_meta SET value = '2020-01-01'")
    ingest(shopify_customer(2, "bob@example.com", "Bob", "Ray"))  # does not hide the old part
    [(level, text)] = _identity_findings(store.path)
    assert level == "warning"
    assert "resolve --all" in text
    with store.transaction() as conn:
        rebuild(conn, "US", "2026-11-29T00:00:00Z")
    assert index_version(store.conn) == INDEX_VERSION
    assert _identity_findings(store.path)[0][0] == "ok"


def test_a_large_store_without_a_trained_model_is_told_to_train(tmp_path: Path) -> None:
    store = Store(tmp_path / "big.db")
    try:
        with store.transaction() as conn:
            conn.executemany(
                "INSERT INTO records (id, source, kind, external_id, payload, payload_hash, "
                "fetched_at) VALUES (?, 's', 'k', ?, '{}', 'h', 'now')",
                [(i, str(i)) for i in range(1, TRAIN_AFTER_RECORDS + 1)],
            )
            conn.executemany(
                "INSERT INTO identity_features (record_id, features) VALUES (?, x'90')",
                [(i,) for i in range(1, TRAIN_AFTER_RECORDS + 1)],
            )
            conn.execute("INSERT INTO identity_meta VALUES ('index_version', ?)", (INDEX_VERSION,))
    finally:
        store.close()
    findings = _identity_findings(str(tmp_path / "big.db"))
    assert [level for level, text in findings if "--train" in text] == ["warning"]
