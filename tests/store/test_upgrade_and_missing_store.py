"""The upgrade path a user takes: a store written by older code opened by newer code (simulated
by forgetting the newest migrations and rewinding the stored identity index version), and
``doctor`` pointed at a database that is not there."""

from __future__ import annotations

import logging
from pathlib import Path

from context_service.doctor import check_database, check_identity, diagnose
from context_service.identity.features import INDEX_VERSION
from context_service.settings import Settings
from context_service.store import Store
from context_service.store.migrations import migrate
from context_service.sync import IngestContext, drain_snapshots
from tests.conftest import Ingest
from tests.payloads import zendesk_ticket, zendesk_user
from tests.review_fixtures import app_client

MORNING_INDEX_VERSION = "2026-11-30.1"  # what the store written at 29367c4 holds


def test_doctor_does_not_create_a_store_where_a_mistyped_path_points(tmp_path: Path) -> None:
    missing = tmp_path / "mistyped" / "context.db"
    missing.parent.mkdir()
    settings = Settings(db=str(missing))
    findings = diagnose(settings, [], probe=lambda url: None)
    assert not missing.exists()
    said = [f for f in findings if str(missing) in f.text]
    assert said
    assert all(f.level != "ok" for f in said)


def test_doctor_says_a_missing_store_cannot_be_created_in_a_missing_folder(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-folder" / "context.db"
    findings = list(check_database(Settings(db=str(missing))))
    assert not missing.parent.exists()
    assert [f.level for f in findings if str(missing) in f.text] == ["problem"]


def test_doctor_on_an_upgraded_store_asks_for_resolve_once(
    tmp_path: Path, store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    assert INDEX_VERSION != MORNING_INDEX_VERSION
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"), zendesk_ticket(10, 3, "Help"))
    with store.transaction() as conn:  # as a store written this morning reads
        conn.execute(
            "INSERT OR REPLACE INTO identity_meta (key, value) VALUES ('index_version', ?)",
            (MORNING_INDEX_VERSION,),
        )
        conn.execute("DELETE FROM _migrations WHERE name = '0024_snapshots_bounded'")
    assert migrate(store.db) == ["0024_snapshots_bounded"]
    settings = Settings(db=str(tmp_path / "test.db"))  # the ``store`` fixture's file
    assert next(f.level for f in check_database(settings)) == "ok"
    stale = [f for f in check_identity(settings) if "resolve --all" in f.text]
    assert [f.level for f in stale] == ["warning"]
    assert drain_snapshots(store, ctx) == 1
    assert drain_snapshots(store, ctx) == 0


def test_serve_says_at_start_up_when_the_identity_index_is_out_of_date(
    tmp_path: Path,
    store: Store,
    ingest: Ingest,
) -> None:
    """Someone who upgrades and just restarts the server never ran ``doctor``: the start-up
    log names the stale index and the command that rebuilds it."""
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"))
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO identity_meta (key, value) VALUES ('index_version', ?)",
            (MORNING_INDEX_VERSION,),
        )
    warned = [m for m in _start_up_log(tmp_path, store) if "resolve --all" in m]
    assert len(warned) == 1
    assert "1 person record" in warned[0]


def test_serve_says_nothing_of_a_current_index(
    tmp_path: Path, store: Store, ingest: Ingest
) -> None:
    ingest(zendesk_user(3, "Ola Nord", email="ola@example.com"))
    assert not [m for m in _start_up_log(tmp_path, store) if "resolve --all" in m]


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _start_up_log(tmp_path: Path, store: Store) -> list[str]:
    """What the app logs while it starts (on its own logger: the framework's logging set-up
    replaces the root handlers that pytest's caplog listens on)."""
    kept = _Kept()
    logger = logging.getLogger("context_service.api.app")
    logger.addHandler(kept)
    try:
        with app_client(tmp_path / "test.db", store=store):
            pass
    finally:
        logger.removeHandler(kept)
    return kept.messages
