"""POST /v1/escalations takes the same identifiers as the lookup and decides with the same
configured identity thresholds: an operator who makes matching stricter gets no escalation
(account facts, a Zendesk note on her ticket) for a customer the lookup refuses to pick."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings
from tests.llm.helpers import copy_db

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
# Ana Silva's name with the mailbox she shares with Bruno Costa: scored, 0.998 at the defaults.
CUSTOMER = {"name": "Ana Silva", "email": "info@silvacosta.example"}


def _answers(settings_db: Path, **overrides: float) -> tuple[int, int]:
    settings = make_settings(settings_db, **overrides)
    with TestClient(app=create_app(settings)) as client:
        lookup = client.post("/v1/context/lookup", json=CUSTOMER, headers=AUTH)
        escalation = client.post(
            "/v1/escalations", json={"customer": CUSTOMER, "reason": "wants a refund"}, headers=AUTH
        )
    return lookup.status_code, escalation.status_code


def test_escalation_uses_the_configured_link_threshold(demo_db: Path, tmp_path: Path) -> None:
    db = copy_db(demo_db, tmp_path)
    assert _answers(db) == (200, 201)  # at the defaults both pick Ana
    assert _answers(db, identity_link_threshold=0.999) == (409, 409)
