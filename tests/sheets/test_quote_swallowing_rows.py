"""A quote opened by mistake and closed by a stray quote lines later (an inch mark) would make
the rows between one cell's text: the row is rejected with its line span instead, and the
rows after it are read. A cell that really holds line breaks still imports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from context_service.sheets.readers import open_sheet
from context_service.store import Store
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]

SWALLOWING = (
    "email,name,phone,notes\r\n"
    'maya@example.com,Maya Patel,4155550134,"VIP - call first\r\n'
    "jose@example.com,Jose Garcia,4155550135,\r\n"
    "ann@example.com,Ann Lee,4155550136,\r\n"
    'bo@example.com,Bo Chen,4155550137,bought Monitor 27"\r\n'
    "cy@example.com,Cy Dee,4155550138,\r\n"
)


def test_rows_swallowed_by_a_stray_quote_reject_their_span(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    report = import_sheet(write("swallow.csv", SWALLOWING), mapping=None)

    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (2, 1, 1)
    rejection = report.rejections[0]
    assert rejection.line == 2
    assert "lines 2-5" in rejection.reason
    assert "lines 3, 4, 5 in it read alone as a whole row of 4 cells" in rejection.reason
    raw = store.conn.execute(
        "SELECT payload FROM records WHERE external_id LIKE 'rejected:%'"
    ).fetchone()[0]
    for email in ("maya@", "jose@", "ann@", "bo@"):  # nothing lost: kept raw
        assert email in raw
    emails = store.conn.execute("SELECT payload FROM records WHERE error IS NULL").fetchall()
    assert ["cy@example.com" in p for (p,) in emails] == [True]


def test_a_cell_with_real_line_breaks_still_imports(write: Write) -> None:
    text = (
        "email,name,street,notes\n"
        'a@example.com,Ann,"12 Main St\nApt 4, Springfield",likes tea\n'
        'b@example.com,Bo,1 Elm St,"called twice\nasked about the invoice, again\nthanks"\n'
    )
    sheet = open_sheet(write("multi.csv", text))
    try:
        rows = list(sheet.rows())
    finally:
        sheet.close()
    assert [(r.line, r.error) for r in rows] == [(2, None), (4, None)]
    assert rows[0].cells[2] == "12 Main St\nApt 4, Springfield"
    assert rows[1].cells[3] == "called twice\nasked about the invoice, again\nthanks"


# Each has a line in its multi-line cell that splits into the header's width
LEGITIMATE = {
    "two_column_notes": (
        'email,notes\na@example.com,"Called twice\nleft voicemail, will retry\nthanks"\n'
        "b@example.com,ok\n",
        "Called twice\nleft voicemail, will retry\nthanks",
    ),
    "uk_address": (
        "email,name,address,city\n"
        'a@example.com,Ann,"Flat 2\n10 Downing St, Westminster, SW1A 2AA",London\n'
        "b@example.com,Bo,1 Elm St,Leeds\n",
        "Flat 2\n10 Downing St, Westminster, SW1A 2AA",
    ),
    "note_list": (
        "email,name,phone,notes\n"
        'a@example.com,Ann,4155550134,"Preferences:\nred, blue, green, black\nno calls"\n'
        "b@example.com,Bo,4155550135,\n",
        "Preferences:\nred, blue, green, black\nno calls",
    ),
}


@pytest.mark.parametrize("case", sorted(LEGITIMATE))
def test_a_multiline_cell_with_a_line_of_the_header_width_imports(write: Write, case: str) -> None:
    text, cell = LEGITIMATE[case]
    sheet = open_sheet(write(f"{case}.csv", text))
    try:
        rows = list(sheet.rows())
    finally:
        sheet.close()
    assert [r.error for r in rows] == [None, None]
    assert cell in rows[0].cells


def test_rows_swallowed_in_a_two_column_file_reject_their_span(write: Write) -> None:
    text = (
        'email,notes\na@example.com,"VIP - call first\nb@example.com,\n'
        'c@example.com,Monitor 27"\nd@example.com,\n'
    )
    sheet = open_sheet(write("two.csv", text))
    try:
        rows = list(sheet.rows())
    finally:
        sheet.close()
    assert [r.line for r in rows] == [2, 5]
    assert rows[0].error is not None
    assert "lines 2-4" in rows[0].error
    assert rows[1].error is None
