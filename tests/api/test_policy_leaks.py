"""Fields a key or audience may not see do not come back another way: a phone through the
conflicts section, vendor ids and dashboard links through the chatbot's JSON items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo, make_key

TUAN = "tuan.giordano18@example.org"  # a demo customer whose sources disagree on the phone
PHONES = ("+10255500000", "+61255500000", "0255500000")


def _agent_context(client: TestClient[Any], key: str, fmt: str) -> Any:
    params = {"email": TUAN, "audience": "agent", "format": fmt}
    return client.get("/v1/context", params=params, headers={"Authorization": f"Bearer {key}"})


def test_a_key_that_hides_phones_reads_no_phone_in_conflicts(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "no-phones", ["context:read"], hide=["identity.phones"])
    with TestClient(app=create_app(make_settings(db))) as client:
        hidden = _agent_context(client, key, "text")
        full = _agent_context(client, TEST_KEY, "text")
    assert hidden.status_code == 200
    assert "Conflict on phone" in full.text  # the customer does have a phone conflict
    assert "Conflict on phone" not in hidden.text
    assert not [phone for phone in PHONES if phone in hidden.text]


def test_masked_contacts_mask_the_phones_in_conflicts(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text('[audiences.agent]\ncontact = "masked"\n')
    settings = make_settings(db, field_policy=str(policy))
    with TestClient(app=create_app(settings)) as client:
        response = _agent_context(client, TEST_KEY, "json")
    assert response.status_code == 200
    assert "+1******0000" in response.text
    conflicts = [item for item in response.json()["conflicts"] if item.get("field") == "phone"]
    assert conflicts, response.text
    assert not [phone for phone in PHONES if phone in response.text]


def test_the_chatbot_json_carries_no_vendor_ids_or_dashboard_links(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    bot = make_key(db, "bot", ["context:lookup"], audiences=["chatbot"], trusted_backend=True)
    with TestClient(app=create_app(make_settings(db))) as client:
        response = client.post(
            "/v1/context/lookup",
            json={"email": MAYA, "audience": "chatbot", "format": "json"},
            headers={"Authorization": f"Bearer {bot}"},
        )
    assert response.status_code == 200
    text = response.text
    assert "Pro" in text
    assert "#1003" in text
    for marker in ("dashboard.stripe.com", "admin.shopify.com", '"sub_', '"ch_', '"in_'):
        assert marker not in text, marker  # ...without the vendor's record ids
