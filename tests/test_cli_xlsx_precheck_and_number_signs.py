"""The CLI import pre-check and the ASCII-only number parser: an XLSX import
parses the workbook once (the pre-check only looks at the file), and every sign form a
number may carry is either a number or a usage error that says so."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from context_service.cli import main
from context_service.cli_identity import bounded


def test_an_xlsx_import_parses_the_workbook_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "name"])
    sheet.append(["ann@example.com", "Ann Lee"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    loads: list[Any] = []
    real = openpyxl.load_workbook

    def counting(*args: Any, **kwargs: Any) -> Any:
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "context.db"))
    assert main(["import", str(path), "--source", "crm"]) == 0
    assert len(loads) == 1  # a huge workbook's shared strings are parsed once, not twice


def test_an_unknown_extension_creates_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "people.pdf"
    path.write_text("email\nann@example.com\n", encoding="utf-8")
    db = tmp_path / "new" / "context.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    assert main(["import", str(path), "--source", "crm"]) == 2
    assert "--format" in capsys.readouterr().err
    assert not db.parent.exists()


@pytest.mark.parametrize(("text", "value"), [(" 5", 5), ("+5", 5), ("-0", 0), ("5\n", 5)])
def test_bounded_takes_what_int_took(text: str, value: int) -> None:
    assert bounded(0, 10)(text) == value


@pytest.mark.parametrize("text", ["-+5", "+-5", "--5", "++5", "+ 5", "", " ", "5_0", "\uff15"])
def test_bounded_refuses_with_its_own_message(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected a whole number"):
        bounded(0, 100)(text)
