"""The context-service command, and the rule that everything it offers is documented."""

from __future__ import annotations

import argparse
import os
import re
import stat
from pathlib import Path

import pytest

from context_service.cli import build_parser, main
from context_service.settings import setting_names
from context_service.store import Store
from tests.conftest import copy_store

README = Path(__file__).resolve().parents[1] / "README.md"


def test_lookup_prints_the_text_snapshot(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(demo_db))
    assert main(["lookup", "Maya.Patel@Example.com"]) == 0
    out = capsys.readouterr().out
    assert "Maya Patel" in out
    assert "past_due" in out


def test_lookup_of_an_unknown_email_fails_clearly(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(demo_db))
    assert main(["lookup", "nobody@example.com"]) == 1
    assert "not found" in capsys.readouterr().err.lower()


def test_lookup_of_a_shared_mailbox_lists_candidates(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(demo_db))
    assert main(["lookup", "info@silvacosta.example"]) == 1
    err = capsys.readouterr().err
    assert "Ana Silva" in err
    assert "Bruno Costa" in err


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_cli_command_is_documented(command: str) -> None:
    assert re.search(rf"context-service {command}\b", README.read_text()), command


@pytest.mark.parametrize("name", setting_names())
def test_every_setting_is_documented(name: str) -> None:
    assert name in README.read_text(), name


def test_the_help_describes_the_command_without_markup(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out
    assert "CONTEXT_SERVICE_DB" in out


def test_lookup_in_an_empty_database_says_which_file_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "context.db"))
    Store(tmp_path / "context.db").close()  # created, never loaded
    assert main(["lookup", "maya.patel@example.com"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'context.db'} holds no customers" in err
    assert "CONTEXT_SERVICE_DB" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["lookup", "maya.patel@example.com"],
        ["export"],
        ["review", "list"],
        ["profiles", "audit", "prof_00000000000000000000000000"],
        ["audit"],
        ["rejected"],
        ["data-requests"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_read_of_a_store_that_does_not_exist_says_so_and_creates_none(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A mistyped CONTEXT_SERVICE_DB made these commands create an empty database there and
    answer that there is no such customer."""
    missing = tmp_path / "contxt.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(missing))
    assert main(argv) == 2
    assert f"no store at {missing}" in capsys.readouterr().err
    assert not missing.exists()


def test_lookup_in_a_loaded_database_gives_no_empty_hint(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(demo_db))
    assert main(["lookup", "nobody@example.com"]) == 1
    assert "holds no customers" not in capsys.readouterr().err


def test_demo_serves_on_context_service_port_without_port(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import context_service.cli as cli

    served: list[int] = []
    monkeypatch.setattr(cli, "serve", lambda settings: served.append(settings.port))
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(demo_db))
    monkeypatch.setenv("CONTEXT_SERVICE_PORT", "9123")
    assert main(["demo"]) == 0
    assert main(["demo", "--port", "9124"]) == 0
    assert served == [9123, 9124]
    assert "http://127.0.0.1:9123/v1/context" in capsys.readouterr().out


class _ClosedPipe:
    """A stdout whose reader has gone away, as under ``context-service export | head``."""

    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_export_into_a_closed_pipe_stops_quietly_and_is_audited(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sqlite3

    db = copy_store(demo_db, tmp_path / "copy.db")
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    assert main(["export"]) == 1
    conn = sqlite3.connect(db)
    try:
        exports = "SELECT count(*) FROM read_audit WHERE channel = 'export'"
        assert conn.execute(exports).fetchone()[0] > 0
    finally:
        conn.close()


def test_an_export_file_is_readable_by_its_owner_only(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.trust.helpers import copy_demo

    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(copy_demo(demo_db, tmp_path)))
    target = tmp_path / "all.csv"
    target.write_text("")
    target.chmod(0o644)  # there before, readable by all: the export still closes it
    old = os.umask(0o022)
    try:
        assert main(["export", "--format", "csv", "--output", str(target)]) == 0
    finally:
        os.umask(old)
    assert "maya.patel@example.com" in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_export_to_a_missing_folder_is_a_clear_error_and_no_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "c.db"))
    target = tmp_path / "no" / "such" / "all.jsonl"
    assert main(["export", "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"error: cannot write {target}: No such file or directory" in err
    assert "Traceback" not in err
    assert not (tmp_path / "c.db").exists()  # nothing opened, nothing audited


WEB_STACK = ("litestar", "mcp", "granian", "context_service.api.app")
LIGHT_COMMANDS = (
    ["status"],
    ["lookup", "nobody@example.com"],
    ["review", "list"],
    ["export", "--format", "jsonl", "--output", "{tmp}/export.jsonl"],
    ["doctor"],
)


@pytest.mark.parametrize("argv", LIGHT_COMMANDS, ids=lambda argv: argv[0])
def test_commands_other_than_serving_do_not_load_the_web_stack(
    argv: list[str], tmp_path: Path
) -> None:
    """Every command paid about three seconds of imports for litestar, the MCP SDK and the
    app before it did anything; only ``serve``, ``demo`` and ``mcp`` need them."""
    import json
    import os
    import subprocess
    import sys

    args = [part.replace("{tmp}", str(tmp_path)) for part in argv]
    probe = (
        "import json, sys\n"
        "from context_service.cli import main\n"
        f"code = main({args!r})\n"
        f"print(json.dumps([code, sorted(m for m in {WEB_STACK!r} if m in sys.modules)]))\n"
    )
    Store(tmp_path / "cli.db").close()  # the commands that only read need a store to read
    env = {**os.environ, "CONTEXT_SERVICE_DB": str(tmp_path / "cli.db")}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code in (0, 1), done.stderr  # 1: nobody to look up, or doctor's missing API key
    assert loaded == []
