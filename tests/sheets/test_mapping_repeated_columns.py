"""A column mapped twice (``--map A=x --map A=-``, a JSON mapping file repeating a key) is
refused, naming the column, rather than the last entry winning silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main
from context_service.sheets.columns import (
    ColumnMappingError,
    load_mapping_file,
    parse_map_options,
)


def test_a_column_given_twice_by_map_is_refused() -> None:
    with pytest.raises(ColumnMappingError, match="'Kunden-Nr' is already mapped"):
        parse_map_options(["Kunden-Nr=external_id", " Kunden-Nr =-"])


def test_a_json_mapping_file_repeating_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "columns.json"
    path.write_text('{"E-Mail Adresse": "email", "E-Mail Adresse": "-"}', encoding="utf-8")
    with pytest.raises(ColumnMappingError, match="'E-Mail Adresse' is mapped twice"):
        load_mapping_file(path)
    nested = tmp_path / "nested.json"
    nested.write_text('{"columns": {"A": "email", "A": "-"}}', encoding="utf-8")
    with pytest.raises(ColumnMappingError, match="'A' is mapped twice"):
        load_mapping_file(nested)


def test_a_toml_mapping_naming_one_column_with_and_without_spaces_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "columns.toml"
    path.write_text('"Name" = "name"\n" Name " = "-"\n', encoding="utf-8")
    with pytest.raises(ColumnMappingError, match="'Name' is mapped twice"):
        load_mapping_file(path)


def test_the_cli_exits_2_naming_the_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cs.db"))
    sheet = tmp_path / "m.csv"
    sheet.write_text("Kunden-Nr,Email\nK1,a@example.com\n", encoding="utf-8")
    args = ["import", str(sheet), "--source", "crm"]
    code = main([*args, "--map", "Kunden-Nr=external_id", "--map", "Kunden-Nr=-"])
    assert code == 2
    assert "'Kunden-Nr' is already mapped" in capsys.readouterr().err
