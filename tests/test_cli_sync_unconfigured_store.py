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


@pytest.mark.parametrize(
    ("source", "webhooks_only", "lacking"),
    [
        ("stripe", {"STRIPE_WEBHOOK_SECRET": "whsec_0123456789abcdef"}, "STRIPE_API_KEY"),
        ("hubspot", {"HUBSPOT_CLIENT_SECRET": "0123456789abcdef"}, "HUBSPOT_ACCESS_TOKEN"),
        (
            "shopify",
            {"SHOPIFY_SHOP": "demo.myshopify.com", "SHOPIFY_WEBHOOK_SECRET": "0123456789abcdef"},
            "SHOPIFY_ACCESS_TOKEN",
        ),
    ],
)
def test_a_source_set_up_for_webhooks_alone_is_not_configured_for_sync(
    source: str,
    webhooks_only: dict[str, str],
    lacking: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A review saw ``sync stripe`` with only the webhook secret set exit 1 and record a
    failed run, which then flagged every card of Stripe's customers as failing to sync."""
    missing = tmp_path / "mistyped.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(missing))
    for name in ("SHOPIFY_ACCESS_TOKEN", "STRIPE_API_KEY", "HUBSPOT_ACCESS_TOKEN"):
        monkeypatch.delenv(f"CONTEXT_SERVICE_{name}", raising=False)
    for name, value in webhooks_only.items():
        monkeypatch.setenv(f"CONTEXT_SERVICE_{name}", value)
    assert main(["sync", source]) == 2
    err = capsys.readouterr().err
    assert f"{source} is not configured: set CONTEXT_SERVICE_{lacking}" in err
    assert not missing.exists()
