"""Settings as an operator meets them: every bad value, in the environment or in the TOML file,
is named at once by its variable, and a secret's value is never repeated."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main
from context_service.errors import ConfigurationError
from context_service.settings import load_settings


def _problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ=environ)
    problems = caught.value.extra.get("problems")
    assert isinstance(problems, list)
    return problems


def _naming(problems: list[str], variable: str) -> list[str]:
    return [p for p in problems if variable in p]


def test_every_unparseable_environment_number_is_named_at_once() -> None:
    problems = _problems(
        {
            "CONTEXT_SERVICE_PORT": "eighty",
            "CONTEXT_SERVICE_WORKERS": "two",
            "CONTEXT_SERVICE_IDENTITY_LINK_THRESHOLD": "high",
            "CONTEXT_SERVICE_HOST": "localhost",  # a bad value of the right type, too
        }
    )
    for variable in (
        "CONTEXT_SERVICE_PORT",
        "CONTEXT_SERVICE_WORKERS",
        "CONTEXT_SERVICE_IDENTITY_LINK_THRESHOLD",
        "CONTEXT_SERVICE_HOST",
    ):
        assert len(_naming(problems, variable)) == 1, (variable, problems)


def test_an_unknown_variable_and_a_bad_value_are_named_together() -> None:
    problems = _problems({"CONTEXT_SERVICE_DBB": "x.db", "CONTEXT_SERVICE_PORT": "0"})
    assert _naming(problems, "CONTEXT_SERVICE_DBB (did you mean CONTEXT_SERVICE_DB?)")
    assert _naming(problems, "CONTEXT_SERVICE_PORT must be between 1 and 65535")


def test_wrong_types_in_the_toml_file_are_each_named_by_their_variable(tmp_path: Path) -> None:
    config = tmp_path / "context.toml"
    config.write_text('port = "8000"\nworkers = 2.5\napi_keys = "one-key-only-here"\n')
    problems = _problems({"CONTEXT_SERVICE_CONFIG": str(config)})
    for variable in ("CONTEXT_SERVICE_PORT", "CONTEXT_SERVICE_WORKERS", "CONTEXT_SERVICE_API_KEYS"):
        assert len(_naming(problems, variable)) == 1, (variable, problems)
    assert all(str(config) in p for p in problems), problems
    assert not any("one-key-only-here" in p for p in problems)


def test_a_toml_type_error_and_an_environment_range_error_are_named_together(
    tmp_path: Path,
) -> None:
    config = tmp_path / "context.toml"
    config.write_text("stripe_api_key = 4242424242\n")
    problems = _problems(
        {"CONTEXT_SERVICE_CONFIG": str(config), "CONTEXT_SERVICE_WIDGET_TTL_SECONDS": "5"}
    )
    assert _naming(problems, "CONTEXT_SERVICE_STRIPE_API_KEY")
    assert _naming(problems, "CONTEXT_SERVICE_WIDGET_TTL_SECONDS")
    assert not any("4242424242" in p for p in problems)


def test_an_unknown_toml_name_is_named_with_the_likely_one(tmp_path: Path) -> None:
    config = tmp_path / "context.toml"
    config.write_text('dbb = "x.db"\n')
    problems = _problems({"CONTEXT_SERVICE_CONFIG": str(config)})
    assert any("dbb" in p and "did you mean db?" in p for p in problems), problems


def test_a_good_toml_file_still_loads_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "context.toml"
    config.write_text('db = "from-toml.db"\nport = 8001\napi_keys = ["k1-long-enough-key"]\n')
    settings = load_settings(
        environ={"CONTEXT_SERVICE_CONFIG": str(config), "CONTEXT_SERVICE_PORT": "8002"}
    )
    assert (settings.db, settings.port, settings.api_keys) == (
        "from-toml.db",
        8002,
        ["k1-long-enough-key"],
    )


def test_the_cli_prints_each_bad_setting_on_its_own_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("CONTEXT_SERVICE_PORT", "eighty")
    monkeypatch.setenv("CONTEXT_SERVICE_WORKERS", "two")
    assert main(["status"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len([ln for ln in lines if "CONTEXT_SERVICE_PORT" in ln]) == 1, lines
    assert len([ln for ln in lines if "CONTEXT_SERVICE_WORKERS" in ln]) == 1, lines
    assert not (tmp_path / "cli.db").exists()


def test_doctor_lists_each_bad_setting_as_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("CONTEXT_SERVICE_PORT", "eighty")
    monkeypatch.setenv("CONTEXT_SERVICE_DBB", "x.db")
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", "a-key-long-enough-0123456789")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    problems = [line for line in out.splitlines() if line.startswith("problem")]
    assert len(problems) == 2, out  # each bad setting, and nothing else is wrong
    assert any("CONTEXT_SERVICE_PORT must be an integer" in p for p in problems)
    assert any("CONTEXT_SERVICE_DBB" in p for p in problems)


JWT_SECRET = "jwt-secret-that-is-long-enough-0123456789"
JWT_PAIR = {
    "CONTEXT_SERVICE_CHATBOT_JWT_ISSUER": "https://shop.example",
    "CONTEXT_SERVICE_CHATBOT_JWT_AUDIENCE": "context-service",
}
PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----"


@pytest.mark.parametrize(
    ("key", "algorithms"),
    [
        ({"CONTEXT_SERVICE_CHATBOT_JWT_SECRET": JWT_SECRET}, "RS256,ES256"),
        ({"CONTEXT_SERVICE_CHATBOT_JWT_SECRET": JWT_SECRET}, ""),
        ({"CONTEXT_SERVICE_CHATBOT_JWT_PUBLIC_KEY": PUBLIC_KEY}, "HS256"),
    ],
)
def test_a_jwt_key_no_allowed_algorithm_fits_stops_the_start(
    key: dict[str, str], algorithms: str
) -> None:
    env = {**key, **JWT_PAIR, "CONTEXT_SERVICE_CHATBOT_JWT_ALGORITHMS": algorithms}
    problems = _problems(env)
    assert _naming(problems, "CONTEXT_SERVICE_CHATBOT_JWT_ALGORITHMS"), problems
    assert not any(JWT_SECRET in p for p in problems)


@pytest.mark.parametrize(
    ("key", "algorithms"),
    [
        ({"CONTEXT_SERVICE_CHATBOT_JWT_SECRET": JWT_SECRET}, "HS256"),
        ({"CONTEXT_SERVICE_CHATBOT_JWT_PUBLIC_KEY": PUBLIC_KEY}, "RS256"),
        ({"CONTEXT_SERVICE_CHATBOT_JWT_SECRET": JWT_SECRET}, "HS256,RS256,ES256"),
        ({}, ""),  # no JWT verification at all: nothing to fit
    ],
)
def test_a_jwt_key_with_a_fitting_algorithm_loads(key: dict[str, str], algorithms: str) -> None:
    env = {**key, **JWT_PAIR, "CONTEXT_SERVICE_CHATBOT_JWT_ALGORITHMS": algorithms}
    assert load_settings(environ=env).chatbot_jwt_algorithms == [
        a for a in algorithms.split(",") if a
    ]
