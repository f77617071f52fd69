"""`context-service sync` and `status` against a fake Stripe served over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from context_service.cli import main
from tests.integrations.stripe.fake import API_KEY, FakeStripe
from tests.loopback import serving


def test_sync_then_status_then_incremental_no_op(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeStripe()
    ids = fake.add_customers(3)
    with serving(fake.handler, throttle_every=4) as base_url:
        monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
        monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_API_KEY", API_KEY)
        monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_BASE_URL", base_url)
        assert main(["sync", "stripe"]) == 0
        out = capsys.readouterr().out
        assert "stripe full sync ok" in out or "stripe incremental sync ok" in out
        assert "0 rejected" in out
        assert main(["status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)["stripe"]
        assert status["last_run"]["status"] == "ok"
        assert status["records"] >= len(ids)
        assert status["cursors"]["customers"]
        assert main(["sync", "stripe"]) == 0
        assert "0 new, 0 updated" in capsys.readouterr().out
    assert API_KEY not in out


def test_sync_of_an_unconfigured_source_explains_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("CONTEXT_SERVICE_SHOPIFY_SHOP", raising=False)
    assert main(["sync", "shopify"]) == 2
    assert "not configured" in capsys.readouterr().err


def test_failed_sync_exits_1_and_says_it_will_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeStripe()
    fake.add_customers(2)
    with serving(fake.handler) as base_url:
        monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
        monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_API_KEY", "sk_test_wrong_key_000")
        monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_BASE_URL", base_url)
        assert main(["sync", "stripe"]) == 1
        err = capsys.readouterr().err
        assert "401" in err
        assert "resumes" in err
        assert "sk_test_wrong_key_000" not in err


def test_a_sync_closes_its_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last connection to close copies the WAL into the file and removes it: a sync that
    left its store open left its checkpointer thread and the WAL to the interpreter's exit."""
    fake = FakeStripe()
    fake.add_customers(2)
    db = tmp_path / "closed.db"
    with serving(fake.handler) as base_url:
        monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
        monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_API_KEY", API_KEY)
        monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_BASE_URL", base_url)
        assert main(["sync", "stripe"]) == 0
    assert db.exists()
    assert not Path(f"{db}-wal").exists()
