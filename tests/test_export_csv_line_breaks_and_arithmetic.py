"""The CSV export keeps one row per profile whatever line breaks a value holds, and leaves no
cell a spreadsheet would compute.

A lone carriage return inside a value (a company ``Acme\\r=cmd|...``) went out unquoted with
``\\n`` line ends: spreadsheets take it for a row break, so the row split and its second half
began with a live formula. And arithmetic that passed for a plain number (a name ``-2+3``) was
written as it is, which a spreadsheet computes.
"""

from __future__ import annotations

import csv
import io

from context_service.export import CSV_COLUMNS, inert_cell, write_export
from context_service.store import Store
from tests.conftest import Ingest
from tests.payloads import hubspot_contact, shopify_customer

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def test_a_carriage_return_inside_a_value_keeps_the_row_whole(store: Store, ingest: Ingest) -> None:
    ingest(
        hubspot_contact("1", "a@example.com", "Ann", "Berg", company="Acme\r=cmd|' /C calc'!A0"),
        shopify_customer(2, "b@example.com", "carriage\rreturn", "Lee"),
        shopify_customer(3, "c@example.com", "Line\nbreak", "Roe"),
    )
    out = io.StringIO(newline="")
    assert write_export(store.conn, out, "csv") == 3
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) == 4  # the header and one row per profile
    assert all(not cell.startswith(_FORMULA_LEADS) for row in rows[1:] for cell in row)
    companies = {row[CSV_COLUMNS.index("company")] for row in rows[1:]}
    assert "Acme\r=cmd|' /C calc'!A0" in companies  # kept whole, inside its quoted cell


def test_arithmetic_is_not_taken_for_a_plain_number() -> None:
    assert inert_cell("-2+3") == "'-2+3"
    assert inert_cell("+1-1") == "'+1-1"
    assert inert_cell("+14155550134") == "+14155550134"  # a phone keeps its value
    assert inert_cell("+14155550134; +442071838750") == "+14155550134; +442071838750"
    assert inert_cell("-12.5") == "-12.5"
