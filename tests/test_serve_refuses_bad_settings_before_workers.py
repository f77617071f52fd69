"""``serve`` and ``demo`` refuse, before any worker starts, what the app would refuse as each
worker builds it (``doctor.start_problems``): a field policy file that is no valid TOML, an LLM model name
with spaces around it, a HubSpot portal id that is no number. Each used to start granian, whose
worker died with a traceback (exit 1); now it is one ``error:`` line naming the variable,
exit 2, as for every other bad setting. A ``--host`` that is no address is named as ``--host``.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from context_service.cli import main
from tests.cli_process import run_cli

KEY = "serve-key-0123456789"
LLM = {"CONTEXT_SERVICE_LLM_BASE_URL": "http://127.0.0.1:9/v1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bad_settings(tmp_path: Path) -> list[tuple[str, dict[str, str]]]:
    policy = tmp_path / "badpolicy.toml"
    policy.write_text("[audiences\nchatbot = \n")  # exists, but is no TOML
    return [
        ("CONTEXT_SERVICE_LLM_MODEL", {**LLM, "CONTEXT_SERVICE_LLM_MODEL": " gpt-4o "}),
        (
            "CONTEXT_SERVICE_HUBSPOT_PORTAL_ID",
            {
                "CONTEXT_SERVICE_HUBSPOT_ACCESS_TOKEN": "pat-na1-test",
                "CONTEXT_SERVICE_HUBSPOT_PORTAL_ID": "abc",
            },
        ),
        ("CONTEXT_SERVICE_FIELD_POLICY", {"CONTEXT_SERVICE_FIELD_POLICY": str(policy)}),
    ]


CASES = ["llm-model", "portal-id", "field-policy"]


def _one_error_line(stderr: str, variable: str) -> str:
    assert "Traceback" not in stderr, stderr[-2000:]
    assert "granian" not in stderr.lower(), stderr[-2000:]
    (line,) = stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert variable in line
    return line


@pytest.mark.parametrize("case", CASES)
def test_serve_refuses_what_a_worker_would_refuse_before_it_starts(
    case: str, tmp_path: Path
) -> None:
    variable, settings = _bad_settings(tmp_path)[CASES.index(case)]
    done = run_cli(
        "serve",
        "--port",
        str(_free_port()),
        db=tmp_path / "serve.db",
        timeout=90,
        CONTEXT_SERVICE_API_KEYS=KEY,
        **settings,
    )
    _one_error_line(done.stderr, variable)
    assert done.returncode == 2


@pytest.mark.parametrize("case", CASES)
def test_demo_refuses_it_before_loading_anything(case: str, tmp_path: Path) -> None:
    variable, settings = _bad_settings(tmp_path)[CASES.index(case)]
    db = tmp_path / "demo.db"
    done = run_cli(
        "demo",
        "--customers",
        "5",
        "--port",
        str(_free_port()),
        db=db,
        timeout=90,
        CONTEXT_SERVICE_API_KEYS=KEY,
        **settings,
    )
    _one_error_line(done.stderr, variable)
    assert done.returncode == 2
    assert not db.exists()  # refused before the demo data was loaded


def test_a_host_given_as_a_flag_is_named_as_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "x.db"))
    assert main(["serve", "--host", "localhost"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: --host must be an IP address")
    assert "CONTEXT_SERVICE_HOST" not in line
    assert "'localhost'" in line


def test_a_host_from_the_environment_is_still_named_by_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "x.db"))
    monkeypatch.setenv("CONTEXT_SERVICE_HOST", "localhost")
    assert main(["serve"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: CONTEXT_SERVICE_HOST must be an IP address")
