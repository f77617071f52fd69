"""``context-service import``: the demo's Maya Patel gains a spreadsheet row's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main
from context_service.store import Store
from tests.conftest import copy_store
from tests.sheets.helpers import snapshot_for
from tests.sheets.test_xlsx_visible_sheet import workbook_with_hidden_lookup

MAYA_ROW = (
    "Email,Full Name,Company,Phone,Order Number,Order Date,Total,Currency,Payment Status,Notes\n"
    "Maya.Patel@example.com,Maya Patel,Patel Ceramics,+44 20 7946 0958,S-9001,2026-11-20,"
    "42.00,USD,paid,VIP\n"
    "nobody-at-example.com,No Body,,,,,,,,\n"
)


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the session's demo store, named by CONTEXT_SERVICE_DB."""
    path = copy_store(demo_db, tmp_path / "demo.db")
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(path))
    return path


def test_import_adds_the_row_to_mayas_existing_profile(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(demo_copy)
    before = snapshot_for(store, "maya.patel@example.com")
    store.close()
    sheet = tmp_path / "vip.csv"
    sheet.write_text(MAYA_ROW, encoding="utf-8")

    assert main(["import", str(sheet), "--source", "vip-list", "--map", "Notes=-"]) == 0

    out = capsys.readouterr().out
    assert "2 rows" in out
    assert "1 imported, 1 rejected" in out
    assert "line 3: email: not an email address 'nobody-at-example.com'" in out
    store = Store(demo_copy)
    after = snapshot_for(store, "maya.patel@example.com")
    store.close()
    assert after.profile_id == before.profile_id
    assert after.version > before.version
    assert after.identity.company == "Patel Ceramics"
    assert "+442079460958" in after.identity.phones
    assert "S-9001" in {o.external_id for o in after.commerce.orders}
    assert ("vip-list", "row") in {(m.source, m.kind) for m in after.members}
    assert after.commerce.order_count == before.commerce.order_count + 1


def test_import_refuses_a_built_in_source_name(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "a.csv"
    sheet.write_text("email\nann@example.com\n", encoding="utf-8")
    assert main(["import", str(sheet), "--source", "shopify"]) == 2
    assert "built-in source" in capsys.readouterr().err


def test_import_with_an_unknown_field_fails_clearly(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "a.csv"
    sheet.write_text("Mail\nann@example.com\n", encoding="utf-8")
    assert main(["import", str(sheet), "--source", "crm", "--map", "Mail=e-mail"]) == 2
    assert "unknown field 'e-mail'" in capsys.readouterr().err


def test_import_caps_the_listed_rejections(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text("email\n" + "bad\n" * 5, encoding="utf-8")
    assert main(["import", str(sheet), "--source", "crm", "--show-rejections", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("not an email address") == 2
    assert "... and 3 more" in out


def test_import_with_an_unknown_encoding_is_an_error_not_a_traceback(
    demo_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "a.csv"
    sheet.write_text("email\nann@example.com\n", encoding="utf-8")
    assert main(["import", str(sheet), "--source", "crm", "--encoding", "nosuch"]) == 2
    assert "unknown encoding 'nosuch'" in capsys.readouterr().err


def test_the_report_names_the_worksheet_it_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "store.db"))
    book = workbook_with_hidden_lookup(
        tmp_path / "people.xlsx", [["email", "name"], ["ann@example.com", "Ann Lee"]]
    )
    assert main(["import", str(book), "--source", "crm"]) == 0
    assert f"imported {book} (sheet 'Customers') as source 'crm'" in capsys.readouterr().out
