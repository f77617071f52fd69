"""A bad ``--map`` or mapping file is a usage error: refused (exit 2) before any run is recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from context_service.cli import main
from context_service.sheets import ColumnMappingError, parse_map_options
from context_service.store import Store
from context_service.sync.status import sync_status
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]

ROWS = "email,name\nann@example.com,Ann Lee\n"


def _runs(db: Path) -> int:
    if not db.exists():
        return 0
    store = Store(db)
    try:
        return int(store.conn.execute("SELECT count(*) FROM sync_runs").fetchone()[0])
    finally:
        store.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--map", "name=nickname"], "unknown field 'nickname'"),
        (["--map", "name"], "expected COLUMN=FIELD"),
        (["--map", "Telefon=phone"], "does not have: Telefon"),
        (["--map", "email=name"], "both map to 'name'"),
        (["--mapping", "MAPPING"], "is not valid"),
    ],
)
def test_a_bad_mapping_exits_2_and_records_no_run(
    options: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "context.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    sheet = tmp_path / "people.csv"
    sheet.write_text(ROWS, encoding="utf-8")
    bad = tmp_path / "mapping.toml"
    bad.write_text('[columns]\n"name" = \n', encoding="utf-8")
    options = [str(bad) if option == "MAPPING" else option for option in options]

    assert main(["import", str(sheet), "--source", "crm", *options]) == 2

    assert message in capsys.readouterr().err
    assert _runs(db) == 0


def test_a_header_mismatch_in_an_existing_store_records_no_failed_run(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    import_sheet(write("people.csv", ROWS))  # an earlier, good import: its run stays the last
    with pytest.raises(ColumnMappingError, match="does not have: Telefon"):
        import_sheet(write("people.csv", ROWS), mapping=parse_map_options(["Telefon=phone"]))
    run = sync_status(store, [])["crm"]["last_run"]
    assert (run["status"], run["error"]) == ("ok", None)
    assert store.conn.execute("SELECT count(*) FROM sync_runs").fetchone()[0] == 1


def test_a_header_only_file_is_checked_against_the_mapping_too(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    with pytest.raises(ColumnMappingError, match="does not have: Telefon"):
        import_sheet(
            write("empty.csv", "email,name\n"), mapping=parse_map_options(["Telefon=phone"])
        )
    assert "crm" not in sync_status(store, [])


def test_an_xlsx_header_mismatch_records_no_run(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["email", "name"])
    sheet.append(["ann@example.com", "Ann Lee"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    with pytest.raises(ColumnMappingError, match="does not have: Telefon"):
        import_sheet(path, mapping=parse_map_options(["Telefon=phone"]))
    assert "crm" not in sync_status(store, [])


def test_a_jsonl_mapping_for_an_absent_key_is_reported_after_reading(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    path = write("people.jsonl", '{"email": "ann@example.com", "name": "Ann Lee"}\n')
    report = import_sheet(path, mapping=parse_map_options(["Telefon=phone"]))
    assert report.unmatched_mapping == ["Telefon"]
    assert sync_status(store, [])["crm"]["last_run"]["status"] == "ok"
