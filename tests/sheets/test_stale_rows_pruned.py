"""Rows an earlier import of the same file stored that the file no longer holds are counted,
and deleted with ``prune`` (``sheets.stale``).

Before, a corrected row (a phone's typo fixed) was stored beside the old one and a removed row
stayed: Ann's profile kept the wrong phone, which could still match its real owner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import openpyxl
import pytest

from context_service.cli import main
from context_service.errors import ProfileNotFound
from context_service.models import RecordKey
from context_service.snapshot.lookup import by_email
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from tests.sheets.helpers import Importer, profile_versions

Write = Callable[[str, str | bytes], Path]

FIRST = """\
email,name,phone,order_number,order_total,currency
ann@example.com,Ann Lee,+1 415 555 0199,1001,20.00,USD
bob@example.com,Bob Ray,+1 415 555 0102,1002,30.00,USD
"""
CORRECTED = """\
email,name,phone,order_number,order_total,currency
ann@example.com,Ann Lee,+1 415 555 0101,1001,20.00,USD
"""


def _phones(store: Store, email: str) -> list[str]:
    snapshot = by_email(store.conn, email)
    return list(msgspec.json.decode(snapshot.json)["identity"]["phones"])


def _live(store: Store, kind: str, external_id: str) -> bool:
    row = store.conn.execute(
        "SELECT deleted FROM records WHERE source = 'crm' AND kind = ? AND external_id = ?",
        (kind, external_id),
    ).fetchone()
    return row is not None and row[0] == 0


def test_a_corrected_and_a_removed_row_are_counted_and_kept(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    path = write("customers.csv", FIRST)
    import_sheet(path)
    path.write_text(CORRECTED, encoding="utf-8")

    report = import_sheet(path)

    assert (report.rows_gone, report.rows_pruned) == (3, 0)  # Ann's old row, Bob and his order
    assert sorted(_phones(store, "ann@example.com")) == ["+14155550101", "+14155550199"]
    assert _live(store, "order", "1002")


def test_prune_deletes_them_and_the_profiles_follow(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    path = write("customers.csv", FIRST)
    import_sheet(path)
    path.write_text(CORRECTED, encoding="utf-8")

    report = import_sheet(path, prune=True)

    assert (report.rows_gone, report.rows_pruned) == (3, 3)
    assert _phones(store, "ann@example.com") == ["+14155550101"]
    assert not _live(store, "order", "1002")
    assert profile_of_key(store.conn, RecordKey("crm", "order", "1002")) is None
    with pytest.raises(ProfileNotFound):
        by_email(store.conn, "bob@example.com")
    again = import_sheet(path, prune=True)
    assert (again.rows_gone, again.rows_pruned) == (0, 0)


def test_the_same_file_again_finds_nothing_gone_and_changes_nothing(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    path = write("customers.csv", FIRST)
    import_sheet(path)
    before = profile_versions(store)

    report = import_sheet(path, prune=True)

    assert (report.rows_gone, report.rows_pruned) == (0, 0)
    assert profile_versions(store) == before


def test_a_row_another_file_still_holds_is_not_deleted(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    path = write("customers.csv", FIRST)
    import_sheet(path)
    import_sheet(write("bob.csv", "\n".join(FIRST.splitlines()[0::2]) + "\n"))
    path.write_text(CORRECTED, encoding="utf-8")

    report = import_sheet(path, prune=True)

    assert (report.rows_gone, report.rows_pruned) == (3, 1)  # Ann's old row only
    assert _live(store, "order", "1002")
    assert by_email(store.conn, "bob@example.com").profile_id


def test_another_file_of_the_source_is_not_this_files_to_judge(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    import_sheet(write("customers.csv", FIRST))

    report = import_sheet(write("more.csv", CORRECTED), prune=True)

    assert (report.rows_gone, report.rows_pruned) == (0, 0)
    assert _live(store, "order", "1002")


def test_the_command_says_what_is_gone_and_prunes_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "context.db"))
    path = tmp_path / "customers.csv"
    path.write_text(FIRST, encoding="utf-8")
    assert main(["import", str(path), "--source", "crm"]) == 0
    path.write_text(CORRECTED, encoding="utf-8")
    capsys.readouterr()

    assert main(["import", str(path), "--source", "crm"]) == 0
    assert (
        "3 records an earlier import of customers.csv stored are no longer in it"
        in capsys.readouterr().out
    )
    assert main(["import", str(path), "--source", "crm", "--prune"]) == 0
    assert "pruned 3 records" in capsys.readouterr().out


def test_nothing_is_pruned_while_a_row_of_the_file_is_rejected(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    """Bob's row is still in the file, rejected this time for a typo in its total: neither
    corrected nor removed (a review saw his records deleted)."""
    path = write("customers.csv", FIRST)
    import_sheet(path)
    path.write_text(CORRECTED + "bob@example.com,Bob Ray,+1 415 555 0102,1002,30.0O,USD\n")

    report = import_sheet(path, prune=True)

    assert report.rows_rejected == 1
    assert report.rows_pruned == 0
    assert report.prune_refused is not None
    assert "rejected" in report.prune_refused
    assert _live(store, "order", "1002")


def test_records_stored_before_the_file_noted_them_are_kept(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    """Bob was stored by bob.csv before customers.csv held him (as by any import before
    rows were noted): customers.csv does not own him, and pruning it keeps him."""
    import_sheet(write("bob.csv", "\n".join(FIRST.splitlines()[0::2]) + "\n"))
    path = write("customers.csv", FIRST)
    import_sheet(path)
    store.conn.execute("DELETE FROM sheet_rows WHERE path LIKE '%bob.csv'")  # never noted
    path.write_text(CORRECTED, encoding="utf-8")

    report = import_sheet(path, prune=True)

    assert (report.rows_gone, report.rows_pruned) == (3, 1)  # Ann's old row only
    assert _live(store, "order", "1002")


def test_a_symlink_to_the_file_is_the_same_file(
    write: Write, import_sheet: Importer, store: Store, tmp_path: Path
) -> None:
    path = write("customers-2026-12.csv", FIRST)
    latest = tmp_path / "latest.csv"
    latest.symlink_to(path)
    import_sheet(path)
    path.write_text(CORRECTED, encoding="utf-8")

    report = import_sheet(latest, prune=True)

    assert (report.rows_gone, report.rows_pruned) == (3, 3)
    assert not _live(store, "order", "1002")


def test_another_sheet_of_a_workbook_is_another_file(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    """A workbook whose first sheet changed (a "VIP" sheet put in front) is read from that
    sheet: the rows of the sheet read before are not its to prune."""
    path = tmp_path / "customers.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Customers"
    for line in FIRST.splitlines():
        sheet.append(line.split(","))
    book.save(path)
    import_sheet(path)
    vip = book.create_sheet("VIP", 0)
    for line in CORRECTED.splitlines():
        vip.append(line.split(","))
    book.save(path)

    report = import_sheet(path, prune=True)

    assert report.sheet == "VIP"
    assert report.rows_pruned == 0
    assert _live(store, "order", "1002")


def test_the_command_always_says_what_prune_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "context.db"))
    path = tmp_path / "customers.csv"
    path.write_text(FIRST, encoding="utf-8")

    assert main(["import", str(path), "--source", "crm", "--prune"]) == 0

    assert "pruned nothing" in capsys.readouterr().out


def test_nothing_is_pruned_when_a_kind_of_record_vanished_from_the_file(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    """The export renamed ``order_number`` to ``Order Ref``: the column is ignored, every row
    imports, and no order comes from the file; its orders are still in it (a review saw them
    deleted)."""
    path = write("customers.csv", FIRST)
    import_sheet(path)
    path.write_text(FIRST.replace("order_number", "Order Ref"), encoding="utf-8")

    report = import_sheet(path, prune=True)

    assert report.rows_pruned == 0
    assert report.prune_refused is not None
    assert "took no order" in report.prune_refused
    assert _live(store, "order", "1001")
    assert _live(store, "order", "1002")
