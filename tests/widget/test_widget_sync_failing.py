"""The card says when a source of the customer's records last failed to sync: what it shows
from that source may be out of date, and a dead sync otherwise looks like a quiet customer in
the freshness footer (a review saw a failed Stripe sync leave "Pro past_due" unflagged)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from context_service.store import cursors as cursor_store
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
FAILED_AT = "2026-12-01T08:00:00Z"


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return Path(copy_demo(demo_db, tmp_path))


def _record_run(db: Path, source: str, status: str) -> None:
    store = Store(db)
    try:
        with store.transaction() as conn:
            run = cursor_store.start_run(conn, source, "incremental", "2026-12-01T07:59:00Z")
            error = "HTTP 401 on GET /v1/charges" if status == "failed" else None
            cursor_store.finish_run(conn, run, status, FAILED_AT, error=error)
    finally:
        store.close()


def _card(db: Path) -> str:
    with TestClient(app=create_app(make_settings(db))) as client:
        minted = client.post("/v1/widget/url", json={"email": MAYA}, headers=AUTH)
        assert minted.status_code == 200, minted.text
        parts = urlsplit(minted.json()["url"])
        page = client.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200, page.text
        return str(page.text)


def test_a_failed_sync_of_one_of_her_sources_is_said_at_the_top(db: Path) -> None:
    _record_run(db, "stripe", "failed")

    card = _card(db)

    assert "sync failing" in card
    assert "<bdi>stripe</bdi>: the last sync failed" in card
    assert card.index("sync failing") < card.index("Freshness")


def test_a_sync_that_ended_well_says_nothing(db: Path) -> None:
    _record_run(db, "stripe", "ok")

    assert "sync failing" not in _card(db)


def test_a_failed_sync_of_a_source_she_has_no_record_in_says_nothing(db: Path) -> None:
    _record_run(db, "crm_sheet", "failed")

    assert "sync failing" not in _card(db)
