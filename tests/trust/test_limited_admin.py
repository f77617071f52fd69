"""An admin key limited to some audiences or hiding fields is still limited when it manages
keys or exports a person: it cannot revoke a key allowed more than itself (the full admin that
made it), nor read everything held about a person through the subject export."""

from __future__ import annotations

from pathlib import Path

from context_service.store import Store
from context_service.trust.keys import get_key
from tests.api.test_serve_review import BOOT, serving
from tests.trust.helpers import copy_demo, make_key


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _revoked(db: Path, name: str) -> bool:
    store = Store(db)
    try:
        info = get_key(store.conn, name)
        assert info is not None
        return info.revoked_at is not None
    finally:
        store.close()


def test_a_limited_admin_cannot_revoke_a_wider_key(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    make_key(db, "root", ["admin"])
    limited = make_key(db, "helpdesk-admin", ["admin"], hide=["identity.emails"])
    with serving(db) as client:
        refused = client.delete("/v1/keys/root", headers=_bearer(limited))
    assert refused.status_code == 403, refused.text
    assert "field 'identity.emails' unhidden" in refused.json()["detail"]
    assert not _revoked(db, "root")


def test_a_limited_admin_can_revoke_keys_no_wider_than_itself(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    limited = make_key(db, "helpdesk-admin", ["admin"], audiences=["agent"])
    make_key(db, "agent-bot", ["context:read", "escalations:write"], audiences=["agent"])
    with serving(db) as client:
        narrower = client.delete("/v1/keys/agent-bot", headers=_bearer(limited))
        itself = client.delete("/v1/keys/helpdesk-admin", headers=_bearer(limited))
    assert narrower.status_code == 200, narrower.text
    assert itself.status_code == 200, itself.text
    assert _revoked(db, "agent-bot")
    assert _revoked(db, "helpdesk-admin")


def test_full_admin_keys_revoke_any_key(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    make_key(db, "root", ["admin", "context:read"])
    full = make_key(db, "ops", ["admin", "context:read"])
    with serving(db) as client:
        by_key = client.delete("/v1/keys/root", headers=_bearer(full))
        by_boot = client.delete("/v1/keys/ops", headers=BOOT)
    assert by_key.status_code == 200
    assert by_boot.status_code == 200


def test_a_limited_admin_cannot_export_everything_held_about_a_person(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    limited = make_key(db, "helpdesk-admin", ["admin", "context:read"], hide=["identity.emails"])
    full = make_key(db, "ops", ["admin", "context:read"])
    with serving(db) as client:
        found = client.post(
            "/v1/context/lookup", json={"email": "maya.patel@example.com"}, headers=BOOT
        )
        profile_id = found.json()["profile_id"]
        refused = client.get(f"/v1/profiles/{profile_id}/export", headers=_bearer(limited))
        allowed = client.get(f"/v1/profiles/{profile_id}/export", headers=_bearer(full))
    assert refused.status_code == 403, refused.status_code
    assert "maya.patel@example.com" not in refused.text
    assert allowed.status_code == 200, allowed.status_code
    assert "maya.patel@example.com" in allowed.text
