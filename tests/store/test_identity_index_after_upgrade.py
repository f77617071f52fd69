"""A store written before the identity engine (migration 0006) gets its identity index.

0006 only created the engine's empty tables: after the upgrade, the old customers were in no
index, so every record arriving later started a profile of its own (Maya's spreadsheet row, same
email, phone and name, became a second "Maya Patel"), and ``doctor`` said nothing, as it looked
at the index only when it held a record. Migration 0033 marks such a store, the next ingest
builds the whole index before resolving anything, and ``doctor`` warns until then.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.identity.features import INDEX_VERSION
from context_service.identity.state import index_version
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.cli_process import run_cli
from tests.payloads import shopify_customer, zendesk_user

MAYA = "maya.patel@example.com"


def _store_with_customers(path: Path, ctx: IngestContext) -> None:
    store = Store(path)
    try:
        people = [
            shopify_customer(1, MAYA, "Maya", "Patel", phone="+14155550134"),
            shopify_customer(2, "sam@example.com", "Sam", "Lee"),
            zendesk_user(3, "Maya Patel", MAYA),
        ]
        ingest_batch(store, [RawPayload(*p) for p in people], ctx)
    finally:
        store.close()


def _as_before_the_identity_engine(path: Path) -> None:
    """Leave the store as a release before 0006 left it, once migrated by one before 0033:
    its records and their lookup identifiers, but nothing in the engine's index."""
    store = Store(path)
    try:
        with store.transaction() as conn:
            for table in ("identity_features", "identity_edges", "identity_meta"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM identifiers WHERE kind = 'block'")
            conn.execute("DELETE FROM _migrations WHERE name = '0033_mark_unbuilt_identity_index'")
    finally:
        store.close()


@pytest.fixture
def upgraded(tmp_path: Path, ctx: IngestContext) -> Path:
    path = tmp_path / "old.db"
    _store_with_customers(path, ctx)
    _as_before_the_identity_engine(path)
    return path


def _identity_lines(db: Path) -> list[str]:
    doctor = run_cli("doctor", db=db, CONTEXT_SERVICE_API_KEYS="doctor-key-0123456789")
    return [line for line in doctor.stdout.splitlines() if "identity index" in line]


def test_doctor_asks_for_the_index_of_records_that_have_none(upgraded: Path) -> None:
    (line,) = _identity_lines(upgraded)
    assert line.startswith("warning")
    assert "resolve --all" in line


def test_a_new_record_joins_the_customer_it_matches(upgraded: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "crm.csv"
    sheet.write_text(f"external_id,name,email,phone\nx1,Maya Patel,{MAYA},+14155550134\n")
    imported = run_cli("import", str(sheet), "--source", "legacy_crm", db=upgraded)
    assert imported.returncode == 0, imported.stderr
    found = run_cli("lookup", MAYA, db=upgraded)
    assert found.returncode == 0, found.stderr
    assert "legacy_crm" in found.stdout
    (line,) = _identity_lines(upgraded)  # built: nothing left to ask for
    assert line.startswith("ok"), line


def test_the_next_ingest_builds_the_index_once(upgraded: Path, ctx: IngestContext) -> None:
    store = Store(upgraded)  # applies 0033
    try:
        assert index_version(store.conn) == "unbuilt"
        ingest_batch(
            store, [RawPayload(*shopify_customer(9, "new@example.com", "New", "One"))], ctx
        )
        assert index_version(store.conn) == INDEX_VERSION
        indexed = store.conn.execute("SELECT count(*) FROM identity_features").fetchone()[0]
        assert indexed == 4  # the three old people and the new one
        profiles = store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0]
        assert profiles == 3  # Maya's two records stay one profile
        with store.transaction() as conn:
            conn.execute("DELETE FROM _migrations WHERE name = '0033_mark_unbuilt_identity_index'")
    finally:
        store.close()
    store = Store(upgraded)  # 0033 again, on a whole index: it marks nothing
    try:
        assert index_version(store.conn) == INDEX_VERSION
    finally:
        store.close()


def test_a_split_as_the_first_command_builds_the_index_and_splits(upgraded: Path) -> None:
    """A split checks the records it parts against the index; with none built it was refused,
    blaming "people's decisions" the store did not hold, and told to merge first."""
    store = Store(upgraded)
    try:
        profile_id = lookup.by_email(store.conn, MAYA).profile_id
    finally:
        store.close()
    split = run_cli("profiles", "split", profile_id, "--record", "zendesk:user:3", db=upgraded)
    assert split.returncode == 0, split.stderr
    assert "split off into" in split.stdout
    (line,) = _identity_lines(upgraded)  # built: nothing left to ask for
    assert line.startswith("ok")
