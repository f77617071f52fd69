"""A misspelt ``CONTEXT_SERVICE_*`` variable is an error that names it and the likely intended
setting, as an unknown name in the TOML file is; ``CONTEXT_SERVICE_CONFIG`` is no setting but
is known."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main
from context_service.errors import ConfigurationError
from context_service.settings import check_env_names, load_settings, setting_names


def test_a_misspelt_variable_is_named_with_the_likely_one() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={"CONTEXT_SERVICE_DBB": "x.db"})
    assert "CONTEXT_SERVICE_DBB (did you mean CONTEXT_SERVICE_DB?)" in caught.value.detail


def test_an_unknown_variable_far_from_any_setting_is_named_without_a_guess() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={"CONTEXT_SERVICE_ZZZ": "1"})
    assert "CONTEXT_SERVICE_ZZZ" in caught.value.detail
    assert "did you mean" not in caught.value.detail


def test_every_setting_and_the_config_file_variable_are_accepted(tmp_path: Path) -> None:
    check_env_names(dict.fromkeys([*setting_names(), "CONTEXT_SERVICE_CONFIG"], "x"))
    check_env_names({"OTHER_DBB": "x", "context_service_dbb": "x"})  # not ours
    config = tmp_path / "settings.toml"
    config.write_text('db = "from-toml.db"\n')
    environ = {"CONTEXT_SERVICE_CONFIG": str(config), "CONTEXT_SERVICE_PORT": "8001"}
    settings = load_settings(environ=environ)
    assert (settings.db, settings.port) == ("from-toml.db", 8001)


def test_the_cli_refuses_a_misspelt_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("CONTEXT_SERVICE_DBB", str(tmp_path / "other.db"))
    assert main(["status"]) == 2
    assert "CONTEXT_SERVICE_DBB (did you mean CONTEXT_SERVICE_DB?)" in capsys.readouterr().err
