"""One escalation is one note, even when the customer's profile was merged into another
between the request and its retry: the retry reaches her under the survivor's id and finds
the note on her ticket already posted."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from context_service.api import create_app
from tests.api.test_escalation_secrets_and_notes import Zendesk
from tests.api.test_escalations import AUTH, _body
from tests.conftest import make_settings
from tests.llm.helpers import copy_db


def test_a_retry_after_a_merge_posts_no_second_note(demo_db: Path, tmp_path: Path) -> None:
    zendesk = Zendesk()
    app = create_app(make_settings(copy_db(demo_db, tmp_path)), note_poster=zendesk.poster())
    with TestClient(app=app) as client:
        first = client.post("/v1/escalations", json=_body(post_note=True), headers=AUTH)
        assert first.json()["note"] == {"posted": True, "ticket": "1001"}
        maya = first.json()["profile_id"]
        older = app.state.store.conn.execute(
            "SELECT id FROM profiles WHERE id != ? ORDER BY created_at, id LIMIT 1", (maya,)
        ).fetchone()[0]
        merged = client.post(
            "/v1/profiles/merge", json={"profile_ids": [maya, older]}, headers=AUTH
        )
        assert merged.status_code == 200, merged.text
        # The backend's answer was lost; it sends the very same escalation again.
        second = client.post("/v1/escalations", json=_body(post_note=True), headers=AUTH)
    assert second.status_code == 201, second.text
    assert second.json()["profile_id"] != maya  # Maya now answers as the survivor
    assert second.json()["note"]["posted"] is False, second.json()["note"]
    assert len(zendesk.notes) == 1
