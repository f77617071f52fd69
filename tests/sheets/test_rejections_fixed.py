"""Rejected rows that were fixed stop being listed: an import that completes retires the
earlier rejections of its file that it did not reject again, and an earlier rejection whose
``external_id`` the import stored under that source; nothing else is retired."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from context_service.cli import main
from context_service.sheets import ImportReport, UnreadableFile
from context_service.store import Store
from context_service.store.records import rejected
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]

BAD = "email,name\nann@example.com,Ann\nnot-an-email,Bob\n"
FIXED = "email,name\nann@example.com,Ann\nbob@example.com,Bob\n"
WITH_IDS_BAD = "external_id,email,name\nc1,ann@example.com,Ann\nc2,not-an-email,Bob\n"
WITH_IDS_FIXED = "external_id,email,name\nc2,bob@example.com,Bob\n"
MANY = "".join(f"m{i},p{i}@example.com,Person {i}\n" for i in range(3000))  # past read-ahead


def _listed(store: Store, source: str = "crm") -> list[dict[str, object]]:
    """The stored payloads of the rejected rows of ``source``."""
    return [msgspec.json.decode(r.payload) for r in rejected(store.conn, source)]


def test_a_fixed_row_retires_its_rejection(
    store: Store, import_sheet: Importer, write: Write
) -> None:
    first = import_sheet(write("people.csv", BAD))
    assert first.rows_rejected == 1
    assert first.rejections_retired == 0
    assert len(_listed(store)) == 1
    second = import_sheet(write("people.csv", FIXED))
    assert (second.rows_imported, second.rows_rejected) == (2, 0)
    assert second.rejections_retired == 1
    assert _listed(store) == []


def test_a_removed_row_retires_its_rejection(
    store: Store, import_sheet: Importer, write: Write
) -> None:
    import_sheet(write("people.csv", BAD + "cy@example.com,Cy\n"))
    report = import_sheet(
        write("people.csv", "email,name\nann@example.com,Ann\ncy@example.com,Cy\n")
    )
    assert report.rejections_retired == 1  # a line this import read (see test_retirement_review)
    assert _listed(store) == []


def test_a_row_still_bad_stays_rejected_once(
    store: Store, import_sheet: Importer, write: Write
) -> None:
    path = write("people.csv", BAD)
    import_sheet(path)
    again = import_sheet(path)
    assert (again.rows_rejected, again.rejections_retired) == (1, 0)
    assert len(_listed(store)) == 1
    moved = import_sheet(write("people.csv", BAD.replace("Ann\n", "Ann\ncy@example.com,Cy\n")))
    assert (moved.rows_rejected, moved.rejections_retired) == (1, 1)  # a new line, a new key
    assert [payload["line"] for payload in _listed(store)] == [4]


def test_a_row_stored_under_its_external_id_retires_its_rejection_from_another_file(
    store: Store, import_sheet: Importer, write: Write
) -> None:
    import_sheet(write("a.csv", WITH_IDS_BAD))
    [kept] = _listed(store)
    assert (kept["file"], kept["external_id"]) == ("a.csv", "c2")
    report = import_sheet(write("b.csv", WITH_IDS_FIXED))
    assert report.rejections_retired == 1
    assert _listed(store) == []


def test_a_row_refused_for_an_id_another_row_holds_is_not_retired_by_that_row(
    store: Store, import_sheet: Importer, write: Write
) -> None:
    clash = "external_id,email,name\nc1,ann@example.com,Ann\nc1,bob@example.com,Bob\n"
    first = import_sheet(write("a.csv", clash))
    assert first.rows_rejected == 1
    assert import_sheet(write("b.csv", "external_id,email,name\nc1,ann@example.com,Ann\n"))
    assert len(_listed(store)) == 1  # Bob's row in a.csv is still wrong


def test_other_files_and_other_sources_are_untouched(
    store: Store, import_sheet: Importer, write: Write, tmp_path: Path
) -> None:
    import_sheet(write("people.csv", BAD))
    import_sheet(write("people.csv", BAD), source="shop")
    import_sheet(write("other.csv", "email,name\ncy@example.com,Cy\n"))
    assert len(_listed(store)) == 1
    other = import_sheet(write("people.csv", FIXED), source="shop")
    assert other.rejections_retired == 1
    assert _listed(store, "shop") == []
    assert len(_listed(store)) == 1  # the same file name under crm: still listed
    (tmp_path / "elsewhere").mkdir()
    elsewhere = write("elsewhere/people.csv", FIXED)  # the same name, another file: untouched
    assert import_sheet(elsewhere).rejections_retired == 0
    assert len(_listed(store)) == 1


def test_an_interrupted_import_retires_nothing(
    store: Store, import_sheet: Importer, write: Write
) -> None:
    import_sheet(write("people.csv", WITH_IDS_BAD))
    calls = {"n": 0}

    def interrupt_after_two_batches(done: int, total: int | None) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    fixed = write("people.csv", WITH_IDS_FIXED + MANY)
    report = ImportReport(source="crm", path=str(fixed))
    with pytest.raises(KeyboardInterrupt):
        import_sheet(fixed, batch_rows=500, progress=interrupt_after_two_batches, report=report)
    assert report.rows_imported == 1000  # Bob's fixed row among them
    assert report.rejections_retired == 0
    assert len(_listed(store)) == 1


def test_an_import_that_fails_part_way_retires_nothing(
    store: Store, import_sheet: Importer, write: Write
) -> None:
    import_sheet(write("people.csv", WITH_IDS_BAD))
    broken = write("people.csv", (WITH_IDS_FIXED + MANY).encode() + b"c9,x@example.com,Caf\x81\n")
    report = ImportReport(source="crm", path=str(broken))
    with pytest.raises(UnreadableFile):
        import_sheet(broken, encoding="cp1252", batch_rows=500, report=report)
    assert report.rows_imported >= 500
    assert report.rejections_retired == 0
    assert len(_listed(store)) == 1


def test_the_cli_reports_the_fixed_rejections_and_stops_listing_them(
    store: Store, write: Write, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    path = write("people.csv", BAD.replace("Ann\n", "Ann\nalso-bad,Dee\n"))
    assert main(["import", str(path), "--source", "crm"]) == 0
    assert "earlier rejection" not in capsys.readouterr().out
    assert main(["rejected"]) == 0
    assert capsys.readouterr().out.count("crm row rejected:") == 2
    write("people.csv", FIXED + "dee@example.com,Dee\n")  # both lines read again
    assert main(["import", str(path), "--source", "crm"]) == 0
    assert "2 earlier rejections fixed" in capsys.readouterr().out
    assert main(["rejected"]) == 0
    assert capsys.readouterr().out.strip() == "nothing rejected"


def test_a_row_about_an_erased_person_retires_no_rejection_by_its_id(
    store: Store, write: Write, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Her row is suppressed, not stored, so it fixes no earlier rejection under her id."""
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    ann = "external_id,email,name\nc1,ann@example.com,Ann Lee\n"
    assert main(["import", str(write("first.csv", ann)), "--source", "crm"]) == 0
    profile_id = store.conn.execute("SELECT id FROM profiles").fetchone()[0]
    assert main(["erase", profile_id, "--no-vacuum"]) == 0
    bad = "external_id,email,name\nc1,not-an-email,Ann Lee\n"
    assert main(["import", str(write("bad.csv", bad)), "--source", "crm"]) == 0
    assert [payload["external_id"] for payload in _listed(store)] == ["c1"]
    capsys.readouterr()
    assert main(["import", str(write("again.csv", ann)), "--source", "crm"]) == 0
    out = capsys.readouterr().out
    assert "0 imported, 0 rejected, 1 suppressed as erased" in out
    assert "earlier rejection" not in out
    assert len(_listed(store)) == 1
