"""Abuse limits (429 with Retry-After, 413, 400), scoped keys through the CLI, and doctor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service import cli
from context_service.api import create_app
from context_service.doctor import diagnose
from context_service.settings import to_environ
from context_service.store import Store
from context_service.trust import Trust
from context_service.trust.keys import digest
from tests.conftest import make_settings
from tests.trust.helpers import MAYA, FakeClock, copy_demo, make_key


def _client(db: Path, clock: FakeClock, **overrides: Any) -> tuple[TestClient[Any], Store]:
    settings = make_settings(db, **overrides)
    store = Store(db)
    trust = Trust(settings, store, clock=clock, monotonic=clock)
    return TestClient(app=create_app(settings, store=store, trust=trust)), store


def test_rate_limit_answers_429_with_retry_after_per_key(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    busy = make_key(db, "busy", ["context:read"], rate_per_minute=3)
    calm = make_key(db, "calm", ["context:read"])
    clock = FakeClock()
    client, store = _client(db, clock, rate_limit_per_minute=100)
    with client:

        def get(key: str) -> Any:
            auth = {"Authorization": f"Bearer {key}"}
            return client.get("/v1/context", params={"email": MAYA}, headers=auth)

        assert [get(busy).status_code for _ in range(3)] == [200, 200, 200]
        limited = get(busy)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "20"
        assert limited.json()["retry_after"] == 20
        assert get(calm).status_code == 200  # another key's budget is its own
        clock.now += 20
        assert get(busy).status_code == 200
    store.close()


def test_oversized_body_413_and_oversized_parameter_400(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    client, store = _client(db, FakeClock(), max_body_bytes=1024)
    auth = {"Authorization": "Bearer test-key-0123456789"}
    with client:
        big = client.post(
            "/v1/context/lookup", json={"email": MAYA, "pad": "x" * 2000}, headers=auth
        )
        assert big.status_code == 413
        long_email = "a" * 400 + "@example.com"
        assert (
            client.get("/v1/context", params={"email": long_email}, headers=auth).status_code == 400
        )
        too_long_hash = client.get(
            "/v1/context",
            params={"email": MAYA, "audience": "chatbot", "user_hash": "f" * 200},
            headers=auth,
        )
        assert too_long_hash.status_code == 400
        unknown = client.post(
            "/v1/context/lookup", json={"email": MAYA, "user_hsah": "x"}, headers=auth
        )
        assert unknown.status_code == 400
    store.close()


def test_cli_keys_create_list_revoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "keys.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    args = ["keys", "create", "--name", "support-bot", "--scopes", "context:lookup"]
    assert cli.main([*args, "--audiences", "chatbot"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("csk_")
    store = Store(db)
    stored = store.conn.execute("SELECT digest FROM api_keys").fetchone()[0]
    assert stored == digest(key)
    assert key not in Path(db).read_bytes().decode("latin-1")  # only the hash is stored
    store.close()
    assert cli.main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert "support-bot  scopes=context:lookup audiences=chatbot" in listed
    assert "last used never" in listed
    assert key not in listed
    assert cli.main([*args]) == 2  # the name is taken
    assert cli.main(["keys", "create", "--name", "x", "--scopes", "root"]) == 2
    assert cli.main(["keys", "revoke", "support-bot"]) == 0
    assert cli.main(["keys", "revoke", "support-bot"]) == 1
    with TestClient(app=create_app(make_settings(db, api_keys=[]))) as client:
        response = client.post(
            "/v1/context/lookup", json={"email": MAYA}, headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 401


def test_last_used_is_recorded(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "reader", ["context:read"])
    client, store = _client(db, FakeClock())
    with client:
        client.get(
            "/v1/context", params={"email": MAYA}, headers={"Authorization": f"Bearer {key}"}
        )
    used = store.conn.execute("SELECT last_used_at FROM api_keys WHERE name = 'reader'").fetchone()
    assert used[0] == "2027-01-15T08:00:00Z"
    store.close()


def test_doctor_names_problems_without_secrets(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "d.db",
        api_keys=["short"],
        stripe_api_key="sk_test_supersecretvalue",
        llm_base_url="http://llm.invalid/v1",
    )
    findings = diagnose(settings, ["stripe"], probe=lambda url: "ConnectError")
    text = "\n".join(f.line() for f in findings)
    assert "CONTEXT_SERVICE_STRIPE_WEBHOOK_SECRET is not set" in text
    assert "stripe: https://api.stripe.com is not reachable (ConnectError)" in text
    assert "CONTEXT_SERVICE_LLM_MODEL" in text
    assert "under 16" in text
    assert "database" in text
    assert "is writable" in text
    for secret in to_environ(settings).values():
        if "secret" in secret or secret == "short":
            assert secret not in text.replace("CONTEXT_SERVICE_", "")


def test_doctor_asks_for_no_widget_secret_with_or_without_a_bootstrap_key(
    tmp_path: Path,
) -> None:
    db = tmp_path / "scoped.db"
    Store(db).close()
    make_key(db, "support", ["context:read"])  # scoped keys only, as doctor advises
    without = diagnose(make_settings(db, api_keys=[]), [], probe=lambda url: None)
    with_key = diagnose(make_settings(db), [], probe=lambda url: None)
    # Links are signed with the store's own random secret, never with an API key.
    assert not [f for f in [*without, *with_key] if "WIDGET_SECRET" in f.text]


def test_doctor_cli_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "ok.db"))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", "a-long-enough-bootstrap-key")
    assert cli.main(["doctor"]) == 0
    assert "no problems found" in capsys.readouterr().out
    monkeypatch.delenv("CONTEXT_SERVICE_API_KEYS")
    assert cli.main(["doctor"]) == 1
    assert "no API key" in capsys.readouterr().out
