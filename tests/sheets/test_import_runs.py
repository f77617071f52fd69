"""An import is a run of its source: ``context-service status`` and ``GET /v1/sync`` show it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from context_service.sheets import UnreadableFile
from context_service.store import Store
from context_service.sync.status import sync_status
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]

ROWS = "email,name\nann@example.com,Ann Lee\nnot-an-email,Bob Ray\n"


def test_an_import_is_listed_with_its_rows_and_rejections(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    import_sheet(write("people.csv", ROWS))
    status = sync_status(store, [])["crm"]
    run = status["last_run"]
    assert (run["mode"], run["status"], run["error"]) == ("import", "ok", None)
    assert (run["records_seen"], run["records_rejected"]) == (2, 1)
    assert run["note"] == "people.csv: 2 rows, 1 imported, 1 rejected"
    assert (status["records"], status["records_rejected"]) == (2, 1)


def test_a_file_that_cannot_be_opened_is_no_run(import_sheet: Importer, store: Store) -> None:
    with pytest.raises(UnreadableFile):
        import_sheet(Path("/nonexistent/people.csv"))
    assert "crm" not in sync_status(store, [])


def test_an_import_that_fails_part_way_says_so(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    good = "".join(f"p{i}@example.com,Person {i}\n" for i in range(3000))  # past read-ahead
    path = write("broken.csv", b"email,name\n" + good.encode() + b"bad@example.com,Caf\x81\n")
    with pytest.raises(UnreadableFile):
        import_sheet(path, encoding="cp1252", batch_rows=500)
    run = sync_status(store, [])["crm"]["last_run"]
    assert run["status"] == "failed"
    assert "line 3002" in run["error"]
    assert run["records_seen"] >= 500  # the rows read before the bad line count


def test_sources_with_records_but_no_run_are_listed(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO records (source, kind, external_id, payload, payload_hash, fetched_at) "
            "VALUES ('legacy', 'row', '1', '{}', 'h', 'now')"
        )
    assert sync_status(store, [])["legacy"]["records"] == 1


def test_a_phone_that_is_not_one_is_imported_and_reported(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    """The row is kept (the email still matches it), but a phone that cannot match anyone
    was dropped without a word; the report now names the line and the value."""
    rows = (
        "email,name,phone\n"
        "ann@example.com,Ann Lee,(415) 555-0100\n"
        "bo@example.com,Bo Park,n/a\n"
        "cy@example.com,Cy Doe,0044 20 7946 0958\n"
    )
    report = import_sheet(write("phones.csv", rows))
    assert report.rows_imported == 3
    assert [(w.line, w.warning.split(" (")[0]) for w in report.warnings] == [
        (3, "phone: not a phone number 'n/a' in region US")
    ]


def test_a_long_import_shows_a_sign_of_life_with_every_batch(
    write: Write, import_sheet: Importer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``status`` calls a run silent for an hour ``interrupted`` when it cannot see its process
    (another host): an import longer than that, which recorded life only at its start, read
    as dead while it ran. Each committed batch now refreshes ``heartbeat_at``."""
    ticks = iter(f"2026-11-30T10:{minute:02d}:00Z" for minute in range(60))
    monkeypatch.setattr("context_service.sheets.importer.utc_now", lambda: next(ticks))
    seen: list[str] = []

    def progress(_done: int, _total: int | None) -> None:
        row = store.conn.execute("SELECT heartbeat_at FROM sync_runs ORDER BY id DESC LIMIT 1")
        seen.append(str(row.fetchone()[0]))

    rows = "".join(f"p{i}@example.com,Person {i}\n" for i in range(60))
    import_sheet(write("people.csv", "email,name\n" + rows), batch_rows=20, progress=progress)
    assert seen == sorted(seen)
    assert len(set(seen)) >= 3  # a new sign of life after each of the three batches
