"""An import of a file that cannot be read stops before the store is opened: a mistyped file
name must not leave an empty database wherever CONTEXT_SERVICE_DB points."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main


@pytest.mark.parametrize("name", ["missing.csv", "folder"])
def test_an_unreadable_file_creates_no_store(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "folder").mkdir()
    db = tmp_path / "new" / "context.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    assert main(["import", str(tmp_path / name), "--source", "crm"]) == 2
    assert "error" in capsys.readouterr().err
    assert not db.exists()
    assert not db.parent.exists()


def test_a_readable_file_still_creates_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text("email,name\nann@example.com,Ann Lee\n", encoding="utf-8")
    db = tmp_path / "context.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    assert main(["import", str(sheet), "--source", "crm"]) == 0
    assert db.exists()
