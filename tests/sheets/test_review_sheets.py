"""Review of the spreadsheet import: keys shared by rows, Excel's values, sniffing edge cases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from context_service.errors import ProfileNotFound
from context_service.sheets import check_source_name, parse_map_options
from context_service.store import Store
from context_service.store.records import rejected
from tests.sheets.helpers import Importer, snapshot_for

Write = Callable[[str, str | bytes], Path]


def _titles(store: Store, email: str) -> list[str]:
    titles = [order.title for order in snapshot_for(store, email).commerce.orders]
    return sorted(cast(list[str], titles))  # every order here has a title


def test_two_people_under_one_external_id_do_not_share_their_orders(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    # The second row under C-1 is someone else: importing it would give Bob Ann's order.
    text = (
        "id,email,name,order,total,currency\n"
        "C-1,ann@example.com,Ann,1001,10.00,USD\n"
        "C-1,bob@example.com,Bob,1002,20.00,USD\n"
        "C-2,cy@example.com,Cy,2001,5.00,USD\n"
        "C-2, CY@example.com ,cy,2002,6.00,USD\n"  # the same person, in other case and spacing
        "C-2,cy@example.com,Cy,2001,5.00,USD\n"  # line 4 again
    )
    report = import_sheet(write("orders.csv", text))
    assert [r.line for r in report.rejections] == [3]
    assert "already on line 2" in report.rejections[0].reason
    assert report.rows_imported == 4
    assert _titles(store, "ann@example.com") == ["#1001"]
    assert snapshot_for(store, "ann@example.com").identity.emails == ["ann@example.com"]
    with pytest.raises(ProfileNotFound):
        snapshot_for(store, "bob@example.com")
    assert _titles(store, "cy@example.com") == ["#2001", "#2002"]
    (kept,) = rejected(store.conn, "crm")
    assert "bob@example.com" in kept.payload
    again = import_sheet(write("orders.csv", text), batch_rows=1)
    assert (again.records.inserted, again.records.updated) == (0, 0)
    assert (again.rows_imported, again.rows_rejected) == (4, 1)


def test_one_persons_order_rows_with_a_new_address_import_every_order(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    # A shop's order export: one row per order, the customer's address as it was then. The
    # rows are one person (same id, email and name), so every order is theirs.
    text = (
        "id,email,name,city,order,total,currency\n"
        "C-1,ann@example.com,Ann Lee,Boston,1001,10.00,USD\n"
        "C-1,ann@example.com,Ann Lee,Denver,1002,20.00,USD\n"
        "C-1,ann@example.com,Ann Lee,Denver,1002,25.00,USD\n"  # order 1002 again, other total
    )
    report = import_sheet(write("orders.csv", text))
    assert report.rejections == []
    assert report.rows_imported == 3
    assert _titles(store, "ann@example.com") == ["#1001", "#1002"]
    notes = {(w.line, w.warning) for w in report.warnings}
    assert (3, "external_id 'C-1' is already on line 2 with other data; line 2's is kept") in notes
    assert (
        4,
        "order_number '1002' is already on line 3 with other data; line 3's is kept",
    ) in notes
    again = import_sheet(write("orders.csv", text))
    assert (again.records.inserted, again.records.updated) == (0, 0)


def test_an_order_number_on_two_peoples_rows_stays_with_the_first(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = (
        "email,name,order,total,currency\n"
        "ann@example.com,Ann,1001,10.00,USD\n"
        "bob@example.com,Bob,1001,99.00,USD\n"
    )
    report = import_sheet(write("orders.csv", text))
    assert [r.line for r in report.rejections] == [3]
    assert "order_number '1001'" in report.rejections[0].reason
    assert _titles(store, "ann@example.com") == ["#1001"]


def test_an_excel_error_value_is_not_an_external_id(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    # A failed VLOOKUP writes #N/A: as a key it would join every such row, file after file.
    import_sheet(write("a.csv", "customer id,email,order\n#N/A,ann@example.com,1001\n"))
    report = import_sheet(write("b.csv", "customer id,email,order\n#N/A,bob@example.com,1002\n"))
    assert [r.line for r in report.rejections] == [2]
    assert "#N/A" in report.rejections[0].reason
    with pytest.raises(ProfileNotFound):
        snapshot_for(store, "ann@example.com")
    with pytest.raises(ProfileNotFound):
        snapshot_for(store, "bob@example.com")


def test_a_phone_written_as_a_float_in_exponent_form_is_read_as_its_digits(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = "email,phone\nann@example.com,4.155550199E9\nbob@example.com,4.15555E+11\n"
    report = import_sheet(write("people.csv", text))
    assert snapshot_for(store, "ann@example.com").identity.phones == ["+14155550199"]
    assert [w.line for w in report.warnings] == [3]  # its digits were rounded away: not read


def test_a_date_out_of_range_rejects_its_row_not_the_import(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = "email,updated_at\nann@example.com,0001-01-01T00:00:00+01:00\nbob@example.com,\n"
    report = import_sheet(write("people.csv", text))
    assert [r.line for r in report.rejections] == [2]
    assert report.rows_imported == 1
    assert snapshot_for(store, "bob@example.com").identity.emails == ["bob@example.com"]


def test_a_header_name_with_a_line_break_keeps_the_files_delimiter(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = '"E-Mail\nAdresse";Name;Telefon\nann@example.com;Ann Lee;4155550199\n'
    mapping = parse_map_options(["E-Mail\nAdresse=email"])
    report = import_sheet(write("kunden.csv", text), mapping=mapping)
    assert report.rows_imported == 1
    assert snapshot_for(store, "ann@example.com").identity.name == "Ann Lee"


def test_a_utf8_bom_is_no_part_of_the_first_header_when_the_encoding_is_named(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    path = write("kunden.csv", "\ufeffKundennummer,email\nK-1,ann@example.com\n")
    mapping = parse_map_options(["Kundennummer=external_id"])
    report = import_sheet(path, mapping=mapping, encoding="utf-8")
    assert report.rows_imported == 1
    members = snapshot_for(store, "ann@example.com").members
    assert [(m.kind, m.external_id) for m in members] == [("row", "K-1")]


def test_a_source_name_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(Exception, match="source name"):
        check_source_name("crm\n")
