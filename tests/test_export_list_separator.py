"""A CSV list cell tells one item holding its separator from two items.

The export joins a list (emails, phones, addresses, members) with ``"; "``. One address whose
street holds ``"; "`` (``Unit 4; Building B``) came out exactly as two addresses (``Unit 4`` and
``Building B``) did. Inside an item, a ``;`` is now written ``\\;`` and a ``\\`` is written
``\\\\``, so every ``"; "`` left unescaped separates two items and a reader gets the list back.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from context_service.export import CSV_COLUMNS, list_cell, write_export
from context_service.sheets import import_file
from context_service.store import Store
from context_service.sync import IngestContext
from tests.conftest import Ingest
from tests.payloads import shopify_customer

_ITEM = re.compile(r"(?:\\.|[^\\;])*")  # one item: escaped characters or plain ones


def read_list(cell: str) -> list[str]:
    """The items of a list cell, as a reader following the README gets them back: split at
    each ``; `` not escaped, then ``\\x`` read as ``x``."""
    if not cell:
        return []
    items, at = [], 0
    while True:
        match = _ITEM.match(cell, at)
        assert match is not None
        items.append(re.sub(r"\\(.)", r"\1", match.group()))
        at = match.end()
        if at == len(cell):
            return items
        assert cell.startswith("; ", at), cell
        at += 2


def _with_addresses(cid: int, email: str, *streets: tuple[str, str | None]) -> Any:
    source, kind, payload = shopify_customer(cid, email, f"Person{cid}", "Lee")
    payload["addresses"] = [{"address1": street, "city": city} for street, city in streets]
    return source, kind, payload


def _rows(store: Store) -> dict[str, dict[str, str]]:
    out = io.StringIO(newline="")
    write_export(store.conn, out, "csv")
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert rows
    assert list(rows[0]) == list(CSV_COLUMNS)
    return {row["emails"]: row for row in rows}


def test_one_address_holding_the_separator_is_not_two(store: Store, ingest: Ingest) -> None:
    ingest(
        _with_addresses(1, "one@example.com", ("Unit 4; Building B", "Springfield")),
        _with_addresses(2, "two@example.com", ("Unit 4", None), ("Building B", "Springfield")),
    )
    rows = _rows(store)
    one, two = rows["one@example.com"]["addresses"], rows["two@example.com"]["addresses"]
    assert one != two  # both were "Unit 4; Building B, Springfield"
    assert one == "Unit 4\\; Building B, Springfield"  # still readable as it is
    assert read_list(one) == ["Unit 4; Building B, Springfield"]
    assert read_list(two) == ["Unit 4", "Building B, Springfield"]


def test_every_list_column_escapes_the_same_way() -> None:
    items = ["a;b", "c\\", "d", "e\\; f", ""]
    cell = list_cell(items)
    assert cell == "a\\;b; c\\\\; d; e\\\\\\; f; "
    assert read_list(cell) == items
    assert list_cell([]) == ""
    assert list_cell(["+14155550134", "+442071838750"]) == "+14155550134; +442071838750"


def test_a_spreadsheet_row_reads_back_whole(
    store: Store, ingest: Ingest, ctx: IngestContext, tmp_path: Path
) -> None:
    """The reviewer's file: a street and a row id (a member) that hold ``"; "``."""
    sheet = tmp_path / "a.csv"
    sheet.write_text(
        "external_id,email,name,street,city\n"
        'r1; r2,ann@example.com,Ann Lee,"Unit 4; Building B",Springfield\n',
        encoding="utf-8",
    )
    import_file(store, sheet, "s", ctx)
    ingest(shopify_customer(7, "ann@example.com", "Ann", "Lee"))
    row = _rows(store)["ann@example.com"]
    assert sorted(read_list(row["members"])) == ["s:row:r1; r2", "shopify:customer:7"]
    assert read_list(row["addresses"]) == ["Unit 4; Building B, Springfield"]
    assert read_list(row["emails"]) == ["ann@example.com"]
