"""An import that stops part-way still builds the snapshots of the rows it committed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import context_service.sheets.importer as importer
from context_service.sheets import UnreadableFile
from context_service.snapshot import lookup
from context_service.store import Store
from tests.sheets.helpers import Importer, profile_versions

Write = Callable[[str, str | bytes], Path]

GOOD = "".join(f"p{i}@example.com,Person {i}\n" for i in range(3000))  # past read-ahead


def _broken_file(write: Write) -> Path:
    """3,000 good rows, then a byte that is not cp1252 (line 3002): read as cp1252, the file
    stops there (a stray byte in a UTF-8 file rejects its row alone)."""
    return write("broken.csv", b"email,name\n" + GOOD.encode() + b"bad@example.com,Caf\x81\n")


def _unbuilt(store: Store) -> tuple[int, int]:
    """(profiles queued, profiles whose stored snapshot is missing or older than them)."""
    queued = store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0]
    stale = store.conn.execute(
        "SELECT count(*) FROM profiles p LEFT JOIN snapshots s ON s.profile_id = p.id "
        "WHERE s.version IS NULL OR s.version < p.version"
    ).fetchone()[0]
    return queued, stale


def _committed(store: Store) -> int:
    row = store.conn.execute("SELECT count(*) FROM records WHERE source = 'crm'").fetchone()
    count: int = row[0]
    return count


def test_an_unreadable_line_part_way_leaves_the_committed_rows_servable(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    with pytest.raises(UnreadableFile):
        import_sheet(_broken_file(write), encoding="cp1252", batch_rows=500)
    assert _committed(store) >= 500
    assert _unbuilt(store) == (0, 0)
    found = lookup.by_email(store.conn, "p0@example.com")  # a row of the first batch
    assert found.version == profile_versions(store)[found.profile_id]


def test_ctrl_c_part_way_builds_the_snapshots_then_propagates(
    write: Write, import_sheet: Importer, store: Store
) -> None:
    rows = write("people.csv", "email,name\n" + GOOD)
    calls = {"n": 0}

    def interrupt_after_two_batches(done: int, total: int | None) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_sheet(rows, batch_rows=500, progress=interrupt_after_two_batches)
    assert _committed(store) == 1000
    assert _unbuilt(store) == (0, 0)


def test_a_failing_rebuild_does_not_hide_the_import_error(
    write: Write, import_sheet: Importer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "drain_snapshots", fail)
    with pytest.raises(UnreadableFile):
        import_sheet(_broken_file(write), encoding="cp1252", batch_rows=500)
    assert _unbuilt(store)[0] > 0  # left queued for the next drain
