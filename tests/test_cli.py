"""The context-service command, and the rule that everything it offers is documented."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from context_service.cli import build_parser, main
from context_service.settings import setting_names

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
