"""Snapshots built by a worker process during a long import: current, complete, crash-safe."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from context_service.models import Snapshot
from context_service.snapshot import background
from context_service.snapshot.materialize import materialize
from context_service.store import Store
from context_service.store.snapshots import StoredSnapshot, save_if_current
from context_service.sync import IngestContext
from tests.sheets.helpers import Importer, profile_versions

Write = Callable[[str, str | bytes], Path]


def _rows() -> str:
    """Forty people over four batches of ten; every fifth row of a later batch is a person of
    the first batch again with another phone, so their profiles change after the worker has
    already built them once."""
    lines = ["email,first_name,last_name,phone,order_number,total,currency"]
    for i in range(40):
        person = i // 5 - 2 if i >= 10 and i % 5 == 0 else i
        phone = f"(415) 555-{1000 + i:04d}"
        lines.append(f"p{person}@example.com,Pat,Doe{person},{phone},{2000 + i},{i + 1}.00,USD")
    return "\n".join(lines) + "\n"


def _stored(store: Store) -> dict[str, tuple[int, dict[str, Any]]]:
    found = {}
    for pid, version, blob in store.conn.execute("SELECT profile_id, version, json FROM snapshots"):
        snapshot = msgspec.json.decode(blob)
        snapshot.pop("generated_at")
        found[pid] = (version, snapshot)
    return found


def test_every_profile_gets_the_snapshot_of_its_current_version(
    write: Write, import_sheet: Importer, store: Store, ctx: IngestContext
) -> None:
    report = import_sheet(write("people.csv", _rows()), batch_rows=10)
    versions = profile_versions(store)
    assert len(versions) == 34  # 40 rows, 6 of them people of the first batch again
    stored = _stored(store)
    assert {pid: version for pid, (version, _) in stored.items()} == versions
    assert store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == 0
    assert report.profiles_rebuilt >= len(versions)
    # The worker's snapshots are exactly what building them here, now, gives.
    with store.transaction() as conn:
        materialize(conn, versions, ctx.links, "2026-11-29T00:00:00Z", ctx.region)
    assert _stored(store) == stored


def test_a_snapshot_of_an_older_version_is_not_stored(store: Store, ctx: IngestContext) -> None:
    with store.transaction() as conn:
        conn.execute("INSERT INTO profiles VALUES ('prof_a', 3, 'now', 'now')")
        conn.execute("INSERT INTO snapshot_queue VALUES ('prof_a', 'now')")
        old = StoredSnapshot("prof_a", 2, "then", b"{}", "old")
        gone = StoredSnapshot("prof_gone", 1, "then", b"{}", "gone")
        assert save_if_current(conn, [old, gone]) == 0
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == 1
        assert save_if_current(conn, [StoredSnapshot("prof_a", 3, "now", b"{}", "new")]) == 1
        assert conn.execute("SELECT text FROM snapshots").fetchone()[0] == "new"
        assert conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == 0


def test_a_dead_worker_leaves_its_snapshots_to_the_drain(
    write: Write,
    import_sheet: Importer,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[background.BackgroundSnapshots] = []

    def broken(db_path: str, *args: Any) -> background.BackgroundSnapshots:
        # The worker cannot open its database, so every task it is given fails.
        started.append(background.BackgroundSnapshots(str(tmp_path / "missing.db"), *args))
        return started[-1]

    monkeypatch.setattr("context_service.sheets.importer.BackgroundSnapshots", broken)
    report = import_sheet(write("people.csv", _rows()), batch_rows=10)
    assert report.rows_imported == 40
    assert started
    assert started[0].error is not None
    versions = profile_versions(store)
    assert {pid: version for pid, (version, _) in _stored(store).items()} == versions
    ann = msgspec.json.decode(
        store.conn.execute("SELECT json FROM snapshots LIMIT 1").fetchone()[0], type=Snapshot
    )
    assert ann.identity.emails


def test_a_worker_killed_while_idle_leaves_the_import_to_finish_without_it(
    write: Write,
    import_sheet: Importer,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[background.BackgroundSnapshots] = []

    class Killed(background.BackgroundSnapshots):
        killed = False

        def release(self, now: str) -> None:
            if self._pending and not self.killed:  # after its first round: kill it, idle
                self.killed = True
                self.wait()
                for process in list(self._pool._processes.values()):
                    process.kill()
                    process.join()
                for _ in range(1000):  # the pool notices the death on its own thread
                    if self._pool._broken:
                        break
                    time.sleep(0.01)
            super().release(now)  # so this submit is refused

    def make(*args: Any) -> background.BackgroundSnapshots:
        started.append(Killed(*args))
        return started[-1]

    monkeypatch.setattr("context_service.sheets.importer.BackgroundSnapshots", make)
    report = import_sheet(write("people.csv", _rows()), batch_rows=10)
    assert report.rows_imported == 40
    assert started[0].error is not None
    versions = profile_versions(store)
    assert {pid: version for pid, (version, _) in _stored(store).items()} == versions
