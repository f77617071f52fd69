"""A bootstrap key that the field-policy file limits (by fingerprint) is limited when it manages
keys, like a limited stored admin key: it creates and revokes only keys within the file's limits,
so it cannot mint an unlimited key and read through that. An unlimited bootstrap key still
creates and revokes any key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience.policy import fingerprint
from context_service.store import Store
from context_service.trust import Trust
from context_service.trust.keys import get_key
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import FakeClock, make_key

BOOT = {"Authorization": f"Bearer {TEST_KEY}"}
WIDE = {
    "name": "escape-hatch",
    "scopes": ["context:read", "admin"],
    "trusted_backend": True,
}


def _policy(tmp_path: Path, key: str) -> Path:
    """A field-policy file limiting ``key`` to the chatbot audience."""
    path = tmp_path / "policy.toml"
    path.write_text(f'[keys.{fingerprint(key)}]\naudiences = ["chatbot"]\n', encoding="utf-8")
    return path


@contextmanager
def _serving(db: Path, **overrides: Any) -> Iterator[TestClient[Any]]:
    settings = make_settings(db, **overrides)
    store = Store(db)
    clock = FakeClock()
    trust = Trust(settings, store, clock=clock, monotonic=clock)
    try:
        with TestClient(app=create_app(settings, store=store, trust=trust)) as client:
            yield client
    finally:
        store.close()


def _revoked(db: Path, name: str) -> bool | None:
    """Whether the key named ``name`` is revoked (``None``: no such key)."""
    store = Store(db)
    try:
        info = get_key(store.conn, name)
        return None if info is None else info.revoked_at is not None
    finally:
        store.close()


def _refused(answer: Any) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "every audience" in answer.json()["detail"]


def test_a_limited_bootstrap_key_cannot_mint_a_wider_key(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    policy = _policy(tmp_path, TEST_KEY)
    with _serving(db, field_policy=str(policy)) as client:
        wide = client.post("/v1/keys", json=WIDE, headers=BOOT)
        other = client.post(
            "/v1/keys",
            json={"name": "agent-bot", "scopes": ["context:read"], "audiences": ["agent"]},
            headers=BOOT,
        )
    _refused(wide)
    assert "key" not in wide.json()
    assert other.status_code == 403, other.text
    assert "audience 'agent'" in other.json()["detail"]
    assert _revoked(db, "escape-hatch") is None
    assert _revoked(db, "agent-bot") is None


def test_a_limited_bootstrap_key_cannot_revoke_a_wider_key(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    Store(db).close()
    make_key(db, "ops", ["admin", "context:read"])
    policy = _policy(tmp_path, TEST_KEY)
    with _serving(db, field_policy=str(policy)) as client:
        refused = client.delete("/v1/keys/ops", headers=BOOT)
    _refused(refused)
    assert _revoked(db, "ops") is False


def test_a_limited_bootstrap_key_mints_and_revokes_keys_within_its_limits(
    tmp_path: Path,
) -> None:
    db = tmp_path / "keys.db"
    Store(db).close()
    make_key(db, "chat-bot", ["context:read"], audiences=["chatbot"])
    policy = _policy(tmp_path, TEST_KEY)
    with _serving(db, field_policy=str(policy)) as client:
        minted = client.post(
            "/v1/keys",
            json={**WIDE, "name": "chat-admin", "audiences": ["chatbot"]},
            headers=BOOT,
        )
        revoked = client.delete("/v1/keys/chat-bot", headers=BOOT)
    assert minted.status_code == 201, minted.text
    assert minted.json()["info"]["audiences"] == ["chatbot"]
    assert revoked.status_code == 200, revoked.text
    assert _revoked(db, "chat-bot") is True


def test_an_unlimited_bootstrap_key_mints_and_revokes_any_key(tmp_path: Path) -> None:
    """The policy file limits another key only: this bootstrap key keeps every power, a rate
    over the server's default included."""
    db = tmp_path / "keys.db"
    Store(db).close()
    make_key(db, "ops", ["admin", "context:read"])
    policy = _policy(tmp_path, "some-other-key-0123456789")
    with _serving(db, field_policy=str(policy)) as client:
        minted = client.post("/v1/keys", json={**WIDE, "rate_per_minute": 1_000_000}, headers=BOOT)
        revoked = client.delete("/v1/keys/ops", headers=BOOT)
    assert minted.status_code == 201, minted.text
    info = minted.json()["info"]
    assert info["audiences"] is None
    assert info["trusted_backend"] is True
    assert info["rate_per_minute"] == 1_000_000
    assert revoked.status_code == 200, revoked.text
    assert _revoked(db, "ops") is True
