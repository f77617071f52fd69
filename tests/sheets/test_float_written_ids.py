"""Ids, order numbers and postcodes that pandas or Excel wrote as floats are read back as the
numbers they were (``1001.0`` -> ``1001``); an id in exponent form that lost digits rejects its
row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from context_service.errors import MappingError
from context_service.sheets.mapping import row_payloads
from context_service.store import Store
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]


def test_float_tails_are_dropped_from_ids_order_numbers_and_postcodes() -> None:
    row = {
        "external_id": "1001.0",
        "email": "maya@example.com",
        "zendesk_user_id": "361234567.0",
        "shopify_customer_id": "7.0e3x",  # not a number: left alone
        "postcode": "2134.00",
        "order_number": "5001.0",
        "ticket_id": "88.0",
    }
    payloads = dict(row_payloads("crm", row))
    person = payloads["row"]
    assert person["external_id"] == "1001"
    assert person["zendesk_user_id"] == "361234567"
    assert person["shopify_customer_id"] == "7.0e3x"
    assert person["postcode"] == "2134"
    assert payloads["order"]["order_number"] == "5001"
    assert payloads["order"]["owner"] == "1001"
    assert payloads["ticket"]["ticket_id"] == "88"


def test_an_id_in_exponent_form_is_read_when_every_digit_is_there() -> None:
    person = dict(row_payloads("crm", {"zendesk_user_id": "3.61234567890E+11"}))["row"]
    assert person["zendesk_user_id"] == "361234567890"


@pytest.mark.parametrize("value", ["3.61235E+11", "1E+11", "3.61235e+11"])
def test_an_id_in_exponent_form_that_lost_digits_is_refused(value: str) -> None:
    with pytest.raises(MappingError, match="exponent form that lost its last"):
        row_payloads("crm", {"email": "a@example.com", "zendesk_user_id": value})


def test_a_float_written_zendesk_id_joins_the_zendesk_user(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = (
        "external_id,email,name,zendesk_user_id,postcode\n"
        "1001.0,maya@example.com,Maya Patel,361234567.0,2134.0\n"
        "1002,jose@example.com,Jose,3.61235E+11,02134\n"
    )
    report = import_sheet(write("floats.csv", text))

    assert (report.rows_imported, report.rows_rejected) == (1, 1)
    assert report.rejections[0].line == 3
    assert "zendesk_user_id: '3.61235E+11'" in report.rejections[0].reason
    links = store.conn.execute("SELECT value FROM identifiers WHERE kind = 'xref'").fetchall()
    assert ("zendesk:user:361234567",) in links
    keys = store.conn.execute("SELECT external_id FROM records WHERE error IS NULL").fetchall()
    assert keys == [("1001",)]


@pytest.mark.parametrize(
    "row",
    [
        {"external_id": "1001", "postcode": "02134", "zendesk_user_id": "361234567"},
        {"email": "a@example.com", "postcode": "SW1A 1AA", "external_id": "A-1.0"},
        {"external_id": "1.5", "postcode": "2134.5", "order_number": "#1001"},
        {"external_id": "v1.01", "stripe_customer_id": "cus_1E+5", "ticket_id": "T-1.00"},
    ],
)
def test_values_without_a_float_tail_keep_their_payload_and_key(row: dict[str, str]) -> None:
    """A row imported before float tails were dropped is stored again as it was: its payload,
    and so its key and its record, do not change."""
    payloads = dict(row_payloads("crm", row))
    person = {k: v for k, v in row.items() if k != "order_number" and k != "ticket_id"}
    assert payloads["row"] == {"source": "crm", **person}


def test_reimporting_a_file_without_float_tails_changes_nothing(
    write: Write, import_sheet: Importer
) -> None:
    path = write("plain.csv", "external_id,email,postcode\n1001,a@example.com,02134\n")
    import_sheet(path)
    again = import_sheet(path)
    assert (again.records.inserted, again.records.updated, again.records.unchanged) == (0, 0, 1)
