"""A ``CONTEXT_SERVICE_CONFIG`` file that is not UTF-8 (saved as UTF-16 by Notepad or
PowerShell, or in cp1252 with an accented sentence) is named on one ``error:`` line, exit 2, by
every command, and listed by ``doctor`` as a problem, exit 1; never a traceback, never its
bytes (which may be part of a secret)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_process import run_cli

TEXT = 'port = 8001\nchatbot_unverified_guidance = "Vérifiez votre adresse e-mail."\n'


@pytest.fixture(params=["utf-16", "cp1252"])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_bytes(TEXT.encode(request.param))
    return path


@pytest.mark.parametrize("command", [["keys", "list"], ["status"], ["serve"]])
def test_a_command_names_the_file_on_one_line(
    command: list[str], config: Path, tmp_path: Path
) -> None:
    done = run_cli(*command, db=tmp_path / "x.db", CONTEXT_SERVICE_CONFIG=str(config))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot read config file {config}: it is not UTF-8")
    assert "rifiez" not in line


def test_doctor_lists_it_as_a_problem(config: Path, tmp_path: Path) -> None:
    done = run_cli("doctor", db=tmp_path / "x.db", CONTEXT_SERVICE_CONFIG=str(config))
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 1
    (problem,) = [line for line in done.stdout.splitlines() if line.startswith("problem")]
    assert str(config) in problem
    assert "UTF-8" in problem
