"""Amounts with thousands separators: accepted where no other reading exists, else refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from context_service.errors import MappingError
from context_service.models import Order
from context_service.sheets.mapping import amount, map_sheet_record, row_payloads
from context_service.store import Store
from tests.sheets.helpers import Importer, snapshot_for

Write = Callable[[str, str | bytes], Path]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("1,234.50", "1234.50"),
        ("-1,234.50", "-1234.50"),
        ("12,345,678.9", "12345678.90"),
        ("1,234,567", "1234567.00"),
        ("1.234,50", "1234.50"),
        ("123.456.789,12", "123456789.12"),
        ("1.234.567", "1234567.00"),
        ("12,50", "12.50"),  # a decimal comma, as before
        ("1234.5", "1234.50"),
    ],
)
def test_separators_that_can_be_read_one_way_only_are_accepted(written: str, read: str) -> None:
    assert amount("order_total", written) == read


@pytest.mark.parametrize("written", ["1,234", "12,345", "-999,000"])
def test_one_comma_group_alone_is_refused_as_ambiguous(written: str) -> None:
    with pytest.raises(MappingError, match=r"is ambiguous \(.* thousands separator, or .* decimal"):
        amount("order_total", written)


def test_the_ambiguity_reason_says_what_to_write() -> None:
    with pytest.raises(MappingError) as caught:
        amount("order_total", "1,234")
    assert caught.value.detail == (
        "order_total: '1,234' is ambiguous (1234 with a thousands separator, or 1.234 with a "
        "decimal comma); write 1234 or 1,234.00, or 1.234"
    )


@pytest.mark.parametrize(
    "written", ["1,23,456.50", "1,2345.00", "1.234.56", "1,234,5", "1,234.5,0"]
)
def test_separators_in_the_wrong_places_are_still_not_amounts(written: str) -> None:
    with pytest.raises(MappingError, match="not a decimal amount"):
        amount("order_total", written)


def test_a_stored_payload_maps_again_to_the_same_amount() -> None:
    items = row_payloads("crm", {"name": "Ann", "order_number": "7", "order_total": "1,234.50"})
    kind, order = items[1]
    assert order["order_total"] == "1,234.50"  # stored as written
    stored = msgspec.json.decode(msgspec.json.encode(order))
    for payload in (order, stored):
        activity = map_sheet_record(kind, payload).activity
        assert isinstance(activity, Order)
        assert activity.amount == "1234.50"


def test_a_lone_1_234_in_a_column_of_decimals_is_rejected_with_its_reason(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    text = (
        "email,order_number,order_total,currency\n"
        'ann@example.com,1001,"1,234.50",USD\n'
        "bob@example.com,1002,12.50,USD\n"
        'cy@example.com,1003,"1,234",USD\n'
        "di@example.com,1004,7.00,USD\n"
    )
    report = import_sheet(write("orders.csv", text))
    assert (report.rows_imported, report.rows_rejected) == (3, 1)
    (rejection,) = report.rejections
    assert rejection.line == 4
    assert "'1,234' is ambiguous" in rejection.reason
    assert snapshot_for(store, "ann@example.com").commerce.orders[0].amount == "1234.50"


@pytest.mark.parametrize(
    ("written", "read"), [("1.234", "1.234"), ("-0.125", "-0.125"), ("12.3456", "12.3456")]
)
def test_more_than_two_decimals_are_kept_not_rounded(written: str, read: str) -> None:
    """A three-decimal currency (KWD, BHD) or a unit price: rounding would change the amount,
    and the ambiguity message itself tells people to write ``1.234``."""
    assert amount("order_total", written) == read
