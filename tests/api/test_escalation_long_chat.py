"""A long chat is when a bot hands over: a 60-turn transcript (some 75 KB, past the other
routes' 64 KiB) is an escalation like any other, not a 413 (a review saw it refused); a body
over the route's own 2 MiB is a 413 naming that limit."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from context_service.api import create_app
from context_service.api.escalations import MAX_ESCALATION_BYTES
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def _body(turns: int, chars: int) -> dict[str, object]:
    transcript = [
        {"role": "customer" if i % 2 == 0 else "bot", "text": f"turn {i}: " + "x" * chars}
        for i in range(turns)
    ]
    return {"customer": {"email": MAYA}, "transcript": transcript, "reason": "long chat"}


def test_a_sixty_turn_chat_is_handed_over(demo_db: Path, tmp_path: Path) -> None:
    settings = make_settings(copy_demo(demo_db, tmp_path))
    with TestClient(app=create_app(settings)) as client:
        body = _body(60, 1200)
        response = client.post("/v1/escalations", json=body, headers=AUTH)
    assert len(str(body)) > settings.max_body_bytes
    assert response.status_code == 201, response.text
    assert "turn 30" in response.json()["handoff"]["wants"]


def test_a_body_over_the_routes_limit_is_413_naming_it(demo_db: Path, tmp_path: Path) -> None:
    with TestClient(app=create_app(make_settings(copy_demo(demo_db, tmp_path)))) as client:
        response = client.post("/v1/escalations", json=_body(200, 12000), headers=AUTH)
    assert response.status_code == 413
    assert f"larger than {MAX_ESCALATION_BYTES:,} bytes" in response.json()["detail"]
