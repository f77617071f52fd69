"""import_file: rows into records and profiles, re-import as a no-op, rejections reported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import cast

import openpyxl
import pytest

from context_service.sheets import ColumnMappingError, UnreadableFile, parse_map_options
from context_service.store import Store
from context_service.store.records import rejected
from tests.sheets.helpers import Importer, profile_versions, snapshot_for

Write = Callable[[str, str | bytes], Path]

PEOPLE = """\
E-mail,First Name,Last Name,Phone,Company,Order Number,Order Date,Total,Currency,Order Status
ann@example.com,Ann,Lee,(415) 555-0199,Acme,1001,2026-11-01,160.90,USD,paid
bob@example.com,Bob,Ray,,,,,,,
not-an-email,Cy,Doe,,,,,,,
,,,,Orphan Inc,,,,,
ann@example.com,Ann,Lee,415-555-0199,Acme,1002,2026-11-18,20,USD,paid
"""


def test_import_creates_profiles_activities_and_a_report(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    report = import_sheet(write("people.csv", PEOPLE))
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (5, 3, 2)
    assert [(r.line, r.reason) for r in report.rejections] == [
        (4, "email: not an email address 'not-an-email'"),
        (5, "the row has no email, phone, name, external_id or linked id to identify a person"),
    ]
    assert report.records.inserted == 5  # 3 person rows and 2 orders
    assert report.records.rejected == 2  # stored raw all the same
    ann = snapshot_for(store, "ann@example.com")
    assert ann.identity.company == "Acme"
    assert ann.identity.phones == ["+14155550199"]
    titles = cast(list[str], [o.title for o in ann.commerce.orders])  # orders have titles
    assert sorted(titles) == ["#1001", "#1002"]
    assert {m.kind for m in ann.members} == {"row", "order"}  # two rows, one profile
    assert snapshot_for(store, "bob@example.com").profile_id != ann.profile_id


def test_importing_the_same_file_again_changes_nothing(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    path = write("people.csv", PEOPLE)
    import_sheet(path)
    before = profile_versions(store)
    again = import_sheet(path)
    assert (again.records.inserted, again.records.updated) == (0, 0)
    assert again.profiles_rebuilt == 0
    assert again.rows_rejected == 2  # still reported every time
    assert profile_versions(store) == before


def test_rejected_rows_are_kept_raw_with_line_and_reason(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    import_sheet(write("people.csv", PEOPLE))
    kept = sorted(rejected(store.conn, "crm"), key=lambda r: r.payload)
    assert len(kept) == 2
    assert all(r.key.kind == "row" and r.mapped is None for r in kept)
    assert {r.error for r in kept} == {
        "email: not an email address 'not-an-email'",
        "the row has no email, phone, name, external_id or linked id to identify a person",
    }
    assert any('"line":4' in r.payload and '"E-mail":"not-an-email"' in r.payload for r in kept)


def test_an_external_id_row_is_updated_in_place(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    import_sheet(write("a.csv", "id,email,company\nC-1,ann@example.com,Acme\n"))
    first = snapshot_for(store, "ann@example.com")
    report = import_sheet(write("b.csv", "id,email,company\nC-1,ann@example.com,Globex\n"))
    assert (report.records.inserted, report.records.updated) == (0, 1)
    second = snapshot_for(store, "ann@example.com")
    assert second.profile_id == first.profile_id
    assert second.identity.company == "Globex"
    assert second.version > first.version


def test_ticket_and_plan_columns_reach_the_snapshot(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = (
        "email,name,ticket_id,ticket_subject,ticket_status,plan,plan_status\n"
        "ann@example.com,Ann Lee,T-1,Charged twice,open,Pro,past_due\n"
    )
    import_sheet(write("support.csv", text))
    ann = snapshot_for(store, "ann@example.com")
    assert ann.support.open_count == 1
    assert ann.support.tickets[0].title == "Charged twice"
    assert [(s.plan, s.status) for s in ann.billing.subscriptions] == [("Pro", "past_due")]
    assert "subscription_past_due" in {s.code for s in ann.signals}


def test_map_options_and_ignored_columns(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = "Kundennummer;Mail;Firma;Lieblingsfarbe\nK-1;ann@example.com;Acme;blau\n"
    mapping = parse_map_options(["Kundennummer=external_id", "Mail=email", "Firma=company"])
    report = import_sheet(write("kunden.csv", text), mapping=mapping)
    assert report.rows_imported == 1
    assert report.ignored_columns == ["Lieblingsfarbe"]
    ann = snapshot_for(store, "ann@example.com")
    assert ann.identity.company == "Acme"
    assert [(m.kind, m.external_id) for m in ann.members] == [("row", "K-1")]


def test_a_map_entry_for_a_missing_column_stops_before_anything_is_written(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    with pytest.raises(ColumnMappingError):
        import_sheet(
            write("a.csv", "email\nann@example.com\n"), mapping=parse_map_options(["Tel=phone"])
        )
    assert store.conn.execute("SELECT count(*) FROM records").fetchone()[0] == 0


def test_jsonl_import_with_a_bad_line(write: Write, import_sheet: Importer, store: Store) -> None:
    text = '{"email": "ann@example.com", "name": "Ann"}\n{oops\n{"Email": "bob@example.com"}\n'
    report = import_sheet(write("people.jsonl", text))
    assert report.rows_imported == 2
    assert [r.line for r in report.rejections] == [2]
    assert snapshot_for(store, "bob@example.com").identity.emails == ["bob@example.com"]


def test_xlsx_import(tmp_path: Path, import_sheet: Importer, store: Store) -> None:
    book = openpyxl.Workbook()
    book.active.append(["Email", "Phone", "Order Number", "Total", "Currency"])
    book.active.append(["ann@example.com", 4155550199, 1001, 160.9, "USD"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    report = import_sheet(path)
    assert report.rows_imported == 1
    ann = snapshot_for(store, "ann@example.com")
    assert ann.identity.phones == ["+14155550199"]
    assert [(o.title, o.amount) for o in ann.commerce.orders] == [("#1001", "160.90")]


def test_batches_and_progress(write: Write, import_sheet: Importer) -> None:
    rows = "".join(f"user{i}@example.com,User {i}\n" for i in range(25))
    seen: list[tuple[int, int | None]] = []
    report = import_sheet(
        write("many.csv", "email,name\n" + rows),
        batch_rows=10,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert report.rows_imported == 25
    assert report.profiles_rebuilt == 25
    assert len(seen) == 3
    assert seen[-1][0] == seen[-1][1]


def test_built_in_source_names_and_unreadable_files_are_fatal(
    write: Write, import_sheet: Importer, tmp_path: Path
) -> None:
    path = write("a.csv", "email\nann@example.com\n")
    with pytest.raises(Exception, match="built-in source"):
        import_sheet(path, source="hubspot")
    with pytest.raises(UnreadableFile):
        import_sheet(tmp_path / "missing.csv")


def test_xlsx_date_cells_are_accepted_as_dates_of_birth(
    tmp_path: Path, import_sheet: Importer, store: Store
) -> None:
    # Excel keeps every date as a date-time: a date of birth cell reads as 1984-03-09T00:00:00.
    path = tmp_path / "people.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Email", "Birthday", "Customer Since"])
    book.active.append(
        ["ann@example.com", dt.datetime(1984, 3, 9), dt.datetime(2026, 1, 5, 10, 30)]
    )
    book.save(path)
    report = import_sheet(path)
    assert report.rejections == []
    assert report.rows_imported == 1
    snap = snapshot_for(store, "ann@example.com")
    assert snap.identity.customer_since == "2026-01-05T10:30:00Z"


def test_rows_swallowed_by_an_unclosed_quote_are_reported_not_dropped(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    path = write("people.csv", 'email,name\na@example.com,"Ann\nb@example.com,Bob\n')
    report = import_sheet(path)
    assert report.rows_imported == 0
    assert [r.line for r in report.rejections] == [2]
    (kept,) = rejected(store.conn, "crm")
    assert "b@example.com,Bob" in kept.payload


def test_jsonl_nested_values_reject_a_row_only_when_their_column_is_mapped(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = (
        '{"email": "ann@example.com", "customer": {"city": "Oakland"}, "items": [{"sku": "A"}]}\n'
        '{"email": "bob@example.com", "tags": [{"name": "vip"}]}\n'
    )
    path = write("people.jsonl", text)
    report = import_sheet(path, mapping=parse_map_options(["customer.city=city", "tags=company"]))
    assert report.rows_imported == 1
    assert [r.line for r in report.rejections] == [2]
    assert "'tags' holds a list of objects" in report.rejections[0].reason
    assert set(report.ignored_columns) == {"items"}
    payloads = [p for (p,) in store.conn.execute("SELECT payload FROM records WHERE kind = 'row'")]
    assert any('"city":"Oakland"' in p and "ann@example.com" in p for p in payloads)
    (kept,) = rejected(store.conn, "crm")
    assert "vip" in kept.payload  # the line is kept raw


def test_a_blank_header_column_with_data_is_listed_as_ignored(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = "email,,name,\nann@example.com,VIP,Ann Lee,\nbob@example.com,,Bob Ray,\nnot-an-email,x,Cy,\n"
    report = import_sheet(write("people.csv", text))
    assert report.rows_imported == 2
    assert report.ignored_columns == ["(column 2, no header)"]  # column 4 holds nothing
    (kept,) = rejected(store.conn, "crm")
    assert '"(column 2, no header)":"x"' in kept.payload  # kept raw under its label


def test_a_rejected_row_keeps_the_cells_of_repeated_headers(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = "email,note,note\nnot-an-email,first,second\n"
    import_sheet(write("people.csv", text), mapping=parse_map_options(["note=-"]))
    (kept,) = rejected(store.conn, "crm")
    assert '"note":"first"' in kept.payload
    assert '"note (column 3)":"second"' in kept.payload
