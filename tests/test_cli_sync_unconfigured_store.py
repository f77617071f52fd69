"""README, "Command line": ``sync`` exits 2 when the source is not configured, naming the
settings it lacks, and nothing starts. Before the fix the store was opened (so created and
migrated) before the source's settings were looked at: a ``sync`` of a source the shell has no
settings for left an empty database wherever ``CONTEXT_SERVICE_DB`` pointed."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main


@pytest.mark.parametrize("source", ["shopify", "stripe", "hubspot", "zendesk"])
def test_a_sync_of_an_unconfigured_source_creates_no_store(
    source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "mistyped.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(missing))
    for name in ("SHOPIFY_SHOP", "STRIPE_API_KEY", "HUBSPOT_ACCESS_TOKEN", "ZENDESK_SUBDOMAIN"):
        monkeypatch.delenv(f"CONTEXT_SERVICE_{name}", raising=False)
    assert main(["sync", source]) == 2
    assert f"{source} is not configured" in capsys.readouterr().err
    assert not missing.exists()
