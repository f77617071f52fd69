"""Settings: every ``CONTEXT_SERVICE_*`` value that cannot work is refused once,
at start-up, naming its variable and never a secret; ``doctor`` and the app agree with that."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from context_service.api.app import create_app
from context_service.cli import main
from context_service.doctor import diagnose
from context_service.errors import ConfigurationError
from context_service.settings import Settings, load_settings
from context_service.store import Store
from context_service.trust.audit import Read, ReadAudit, reads_of

PREFIX = "CONTEXT_SERVICE_"


def refused(environ: dict[str, str]) -> str:
    """The detail of the settings error ``environ`` raises."""
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ=environ)
    return caught.value.detail


def test_a_bad_frame_ancestor_stops_the_start_instead_of_failing_every_widget_request(
    tmp_path: Path,
) -> None:
    bad = "https://*.zendesk.com; script-src *"
    detail = refused({f"{PREFIX}WIDGET_FRAME_ANCESTORS": bad})
    assert detail.startswith(f"{PREFIX}WIDGET_FRAME_ANCESTORS")
    settings = Settings(db=str(tmp_path / "c.db"), widget_frame_ancestors=[bad])
    with pytest.raises(ConfigurationError, match="WIDGET_FRAME_ANCESTORS"):
        create_app(settings)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("PORT", "0"),
        ("PORT", "70000"),
        ("WORKERS", "0"),
        ("WIDGET_TTL_SECONDS", "0"),  # every minted link would be expired already
        ("WIDGET_TTL_SECONDS", "-300"),
        ("LLM_TIMEOUT_SECONDS", "0"),  # every LLM call would time out
        ("MAX_BODY_BYTES", "0"),  # every POST would be a 413
        ("RATE_LIMIT_PER_MINUTE", "-1"),
        ("AUDIT_RETENTION_DAYS", "-1"),
        ("AUDIT_RETENTION_DAYS", "1000000000"),  # the purge's cutoff overflows
        ("INBOX_RETENTION_DAYS", "-30"),
    ],
)
def test_a_number_out_of_range_is_refused_naming_its_variable(name: str, raw: str) -> None:
    detail = refused({PREFIX + name: raw})
    assert detail.startswith(PREFIX + name)
    assert f"(got {raw})" in detail


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("HOST", "localhost"),  # granian binds IP addresses only: a traceback at serve
        ("HOST", ""),
        ("LOG_LEVEL", "verbose"),  # granian's LogLevels(...) raised a ValueError traceback
        ("DEFAULT_REGION", "us"),  # phonenumbers: every national number would be invalid
        ("DEFAULT_REGION", "XX"),
        ("DB", ""),  # SQLite opens a temporary database: everything synced is lost
    ],
)
def test_a_value_serve_or_the_parsers_cannot_use_is_refused(name: str, raw: str) -> None:
    assert refused({PREFIX + name: raw}).startswith(PREFIX + name)


def test_a_database_or_policy_path_that_is_a_directory_or_missing_is_refused(
    tmp_path: Path,
) -> None:
    assert refused({f"{PREFIX}DB": str(tmp_path)}).startswith(f"{PREFIX}DB")
    missing = str(tmp_path / "policy.toml")
    assert refused({f"{PREFIX}FIELD_POLICY": missing}).startswith(f"{PREFIX}FIELD_POLICY")
    assert refused({f"{PREFIX}FIELD_POLICY": str(tmp_path)}).startswith(f"{PREFIX}FIELD_POLICY")


@pytest.mark.parametrize(
    "url", ["api.stripe.com", "ftp://api.stripe.com", "", "https://api.stripe.com:99999"]
)
def test_a_base_url_that_is_no_http_url_is_refused(url: str) -> None:
    for name in ("STRIPE_BASE_URL", "HUBSPOT_BASE_URL", "LLM_BASE_URL", "PUBLIC_URL"):
        assert refused({PREFIX + name: url}).startswith(PREFIX + name)


def test_a_base_url_with_credentials_is_refused_without_repeating_them() -> None:
    url = "https://admin:hunter2-password@mock.example.com"
    for name in ("SHOPIFY_BASE_URL", "ZENDESK_BASE_URL", "LLM_BASE_URL"):
        detail = refused({PREFIX + name: url})
        assert detail.startswith(PREFIX + name)
        assert "hunter2" not in detail


@pytest.mark.parametrize("raw", [' "shpat_0123456789abcdef" ', "'shpat_0123456789abcdef'"])
def test_a_quoted_or_padded_secret_is_refused_without_showing_it(raw: str) -> None:
    for name in ("SHOPIFY_ACCESS_TOKEN", "STRIPE_WEBHOOK_SECRET", "WIDGET_SECRET", "API_KEYS"):
        detail = refused({PREFIX + name: raw})
        assert detail.startswith(PREFIX + name)
        assert "0123456789abcdef" not in detail


def test_a_toml_list_entry_with_a_comma_cannot_split_into_two_keys_in_the_server(
    tmp_path: Path,
) -> None:
    """``serve`` hands its workers the settings as comma-separated variables: the key
    ``abc,long-bootstrap-key`` would come back as two keys, ``abc`` among them."""
    config = tmp_path / "settings.toml"
    config.write_text('api_keys = ["abc,long-bootstrap-key-0123"]\n')
    detail = refused({f"{PREFIX}CONFIG": str(config)})
    assert detail.startswith(f"{PREFIX}API_KEYS")


def test_the_cli_names_every_bad_setting_at_once_and_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(f"{PREFIX}DB", str(tmp_path / "c.db"))
    monkeypatch.setenv(f"{PREFIX}PORT", "0")
    monkeypatch.setenv(f"{PREFIX}STRIPE_API_KEY", '"sk_live_topsecret"')
    monkeypatch.setenv(f"{PREFIX}LLM_BASE_URL", "http://u:llm-password@llm.example.com/v1")
    assert main(["doctor"]) == 1  # the README: doctor exits 1 on a problem, listing each
    captured = capsys.readouterr()
    out = captured.out + captured.err
    for name in ("PORT", "STRIPE_API_KEY", "LLM_BASE_URL"):
        assert any(PREFIX + name in line for line in captured.out.splitlines())
    # Each bad setting is a problem, and doctor goes on to its other checks (no API key...).
    counted = re.search(r"(\d+) problem\(s\)", captured.out)
    assert counted is not None
    assert int(counted.group(1)) >= 3
    assert "topsecret" not in out
    assert "llm-password" not in out


def test_doctor_probes_a_shop_and_a_zendesk_account_given_as_full_domains(
    tmp_path: Path,
) -> None:
    """The README allows a ``*.myshopify.com`` domain and a full Zendesk host; doctor built
    ``https://acme.myshopify.com.myshopify.com`` and called a working shop unreachable."""
    settings = Settings(
        db=str(tmp_path / "c.db"),
        api_keys=["k" * 24],
        shopify_shop="acme.myshopify.com",
        shopify_access_token="shpat_x",
        zendesk_subdomain="acme.zendesk.com",
        zendesk_api_token="token",
        zendesk_email="agent@example.com",
    )
    probed: list[str] = []

    def probe(url: str) -> str | None:
        probed.append(url)
        return None

    diagnose(settings, ["shopify", "zendesk"], probe)
    assert sorted(probed) == ["https://acme.myshopify.com", "https://acme.zendesk.com"]


def test_audit_purge_keeps_every_read_when_the_retention_is_keep_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "c.db")
    store = Store(db)
    an_hour_ago = time.time() - 3600
    ReadAudit(store, 0, lambda: an_hour_ago).record([Read("cli", "p_1", "agent", True, "context")])
    store.close()
    monkeypatch.setenv(f"{PREFIX}DB", db)
    monkeypatch.setenv(f"{PREFIX}AUDIT_RETENTION_DAYS", "0")
    assert main(["audit", "--purge"]) == 0
    store = Store(db)
    try:
        assert len(reads_of(store.conn)) == 1
    finally:
        store.close()
