"""Settings: environment and TOML values, their validation, and where they are wired in."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from context_service.errors import ConfigurationError
from context_service.settings import load_settings
from context_service.wiring import build_connectors
from integrations.hubspot import HubSpotConnector
from integrations.hubspot.connector import ARCHIVED_EVERY_SECONDS

ARCHIVED = "CONTEXT_SERVICE_HUBSPOT_ARCHIVED_EVERY_SECONDS"


def hubspot_of(environ: dict[str, str]) -> HubSpotConnector:
    settings = load_settings(environ={"CONTEXT_SERVICE_HUBSPOT_ACCESS_TOKEN": "pat", **environ})
    with httpx.Client() as client:
        connector = build_connectors(settings, client)["hubspot"]
    assert isinstance(connector, HubSpotConnector)
    return connector


def test_the_hubspot_archived_interval_defaults_to_the_connectors_hour() -> None:
    assert load_settings(environ={}).hubspot_archived_every_seconds == ARCHIVED_EVERY_SECONDS
    assert hubspot_of({}).archived_every_seconds == ARCHIVED_EVERY_SECONDS


def test_the_hubspot_archived_interval_reaches_the_connector() -> None:
    assert load_settings(environ={ARCHIVED: "900"}).hubspot_archived_every_seconds == 900
    assert hubspot_of({ARCHIVED: "900"}).archived_every_seconds == 900


def test_the_hubspot_archived_interval_is_read_from_the_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "context.toml"
    config.write_text("hubspot_archived_every_seconds = 7200\n")
    settings = load_settings(environ={"CONTEXT_SERVICE_CONFIG": str(config)})
    assert settings.hubspot_archived_every_seconds == 7200


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "must be a positive integer (got 0)"),
        ("-60", "must be a positive integer (got -60)"),
        ("hourly", "must be an integer"),
        ("1.5", "must be an integer"),
    ],
)
def test_a_bad_hubspot_archived_interval_is_a_clear_settings_error(raw: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={ARCHIVED: raw})
    assert caught.value.detail == f"{ARCHIVED} {message}"


def test_a_bad_hubspot_archived_interval_in_toml_is_a_settings_error(tmp_path: Path) -> None:
    config = tmp_path / "context.toml"
    config.write_text("hubspot_archived_every_seconds = 0\n")
    with pytest.raises(ConfigurationError, match=f"{ARCHIVED} must be a positive integer"):
        load_settings(environ={"CONTEXT_SERVICE_CONFIG": str(config)})
    config.write_text('hubspot_archived_every_seconds = "hourly"\n')
    with pytest.raises(ConfigurationError, match="hubspot_archived_every_seconds"):
        load_settings(environ={"CONTEXT_SERVICE_CONFIG": str(config)})
