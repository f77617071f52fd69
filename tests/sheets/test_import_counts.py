"""What an import reports and records: a row about an erased person is counted as suppressed,
not imported, and a run that stops part-way records the rows its committed batches kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from context_service.cli import main
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.sync.status import sync_status
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]

ANN = "email,name\nann@example.com,Ann Lee\n"


def _profile_of(db: Path, email: str) -> str:
    store = Store(db)
    try:
        return lookup.by_email(store.conn, email).profile_id
    finally:
        store.close()


def test_an_erased_persons_row_is_reported_as_suppressed_not_imported(
    write: Write,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    assert main(["import", str(write("first.csv", ANN)), "--source", "crm"]) == 0
    assert main(["erase", _profile_of(db, "ann@example.com"), "--no-vacuum"]) == 0
    capsys.readouterr()
    again = write("again.csv", "email,name\nann@example.com,Ann Lee-Smith\nbo@example.com,Bo\n")
    assert main(["import", str(again), "--source", "crm"]) == 0
    out = capsys.readouterr().out
    assert "1 imported, 0 rejected, 1 suppressed as erased" in out
    assert "1 new, 0 updated, 0 unchanged, 0 stale, 1 suppressed as erased" in out
    assert main(["status", "--json"]) == 0
    note = json.loads(capsys.readouterr().out)["crm"]["last_run"]["note"]
    assert note == "again.csv: 2 rows, 1 imported, 0 rejected, 1 suppressed as erased"


def test_an_interrupted_import_records_the_rows_it_committed(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    rows = "".join(f"p{i}@example.com,Person {i}\n" for i in range(2000))
    path = write("bulk.csv", "email,name\n" + rows)
    batches = {"n": 0}

    def stop_after_three_batches(_done: int, _total: int | None) -> None:
        batches["n"] += 1
        if batches["n"] == 3:
            raise KeyboardInterrupt  # as Ctrl-C (or SIGTERM, in the CLI) after a commit

    with pytest.raises(KeyboardInterrupt):
        import_sheet(path, batch_rows=500, progress=stop_after_three_batches)
    run = sync_status(store, [])["crm"]["last_run"]
    assert run["status"] == "failed"
    assert run["note"] == "bulk.csv: 1500 rows, 1500 imported, 0 rejected"
    assert store.conn.execute("SELECT count(*) FROM records").fetchone()[0] == 1500


def test_an_erased_persons_order_imported_again_under_a_new_row_is_not_kept(
    write: Write,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Re-importing her row under another name gives the row a new key: the person is blocked
    by her email, and her order, which names only that new key, must be blocked with it."""
    db = tmp_path / "cli.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    first = "email,name,order_number,order_total\nann@example.com,Ann Lee,A1,10.00\n"
    assert main(["import", str(write("first.csv", first)), "--source", "crm"]) == 0
    assert main(["erase", _profile_of(db, "ann@example.com"), "--no-vacuum"]) == 0
    capsys.readouterr()
    again = "email,name,order_number,order_total\nann@example.com,Ann Lee-Smith,A2,20.00\n"
    assert main(["import", str(write("again.csv", again)), "--source", "crm"]) == 0
    out = capsys.readouterr().out
    assert "0 imported, 0 rejected, 1 suppressed as erased" in out
    store = Store(db)
    try:
        kept = store.conn.execute("SELECT source, kind, external_id FROM records").fetchall()
    finally:
        store.close()
    assert kept == []  # neither her row nor its order
