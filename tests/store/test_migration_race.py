"""Processes that open one database at once (``serve --workers 2``, ``serve`` and ``sync`` after
an upgrade) each apply the migrations it lacks: every migration runs once, and none fails."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path

import pytest
import sqlite_utils

from context_service.store import Store, migrations

ALL = [name for name, _ in migrations.MIGRATIONS]
OLD = 10  # an old database: the first ten migrations applied


def _old_database(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    db = sqlite_utils.Database(conn)
    db.execute(
        "CREATE TABLE _migrations "
        "(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, applied_at TEXT NOT NULL)"
    )
    for name, script in migrations.MIGRATIONS[:OLD]:
        assert migrations._apply(db, name, script)
    conn.close()


def _open_in_another_process(path: Path) -> None:
    code = "import sys; from context_service.store import Store; Store(sys.argv[1]).close()"
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=120)


def test_a_migration_another_process_applied_meanwhile_is_not_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving: this process reads what is applied, another process opens the store
    and migrates, then this one goes on to apply what it read as missing."""
    path = tmp_path / "old.db"
    _old_database(path)
    read = migrations.applied
    ran_here: list[list[str]] = []

    def read_then_let_the_other_process_migrate(db: sqlite_utils.Database) -> list[str]:
        names = read(db)
        if not ran_here:
            ran_here.append([])
            _open_in_another_process(path)
        return names

    monkeypatch.setattr(migrations, "applied", read_then_let_the_other_process_migrate)
    store = Store(path)  # raised MigrationError ("table ... already exists") before
    try:
        assert read(store.db) == ALL  # each recorded once, in order
        assert migrations.migrate(store.db) == []
    finally:
        store.close()


def test_migrate_returns_only_what_it_applied_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    _old_database(path)
    monkeypatch.setattr(migrations, "applied", lambda db: ALL[:OLD])  # a stale read
    _open_in_another_process(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrations.migrate(sqlite_utils.Database(conn)) == []
    finally:
        conn.close()


def _open(path: str, start: Event) -> None:
    start.wait()
    Store(path).close()


def test_several_processes_opening_an_old_database_at_once_all_open_it(tmp_path: Path) -> None:
    """Real processes, released together (the interleaving above is then a matter of luck)."""
    path = tmp_path / "old.db"
    _old_database(path)
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    openers = [spawn.Process(target=_open, args=(str(path), start)) for _ in range(4)]
    for opener in openers:
        opener.start()
    start.set()
    for opener in openers:
        opener.join(timeout=120)
    assert [opener.exitcode for opener in openers] == [0] * 4
    conn = sqlite3.connect(path)
    try:
        names = [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY id")]
    finally:
        conn.close()
    assert names == ALL


def _open_each(paths: list[str], together: Barrier) -> None:
    for path in paths:
        together.wait(timeout=20)
        Store(path).close()


def test_several_processes_creating_one_database_at_once_all_open_it(tmp_path: Path) -> None:
    """On a new file, switching to WAL can fail with 'database is locked' at once, without
    SQLite's busy wait, when another process is switching it too; opening retries it. Each
    process opens the same eight new files in turn, all four at once, so they race on each."""
    paths = [str(tmp_path / f"new{n}.db") for n in range(8)]
    spawn = multiprocessing.get_context("spawn")
    together = spawn.Barrier(4)
    openers = [spawn.Process(target=_open_each, args=(paths, together)) for _ in range(4)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join(timeout=120)
    assert [opener.exitcode for opener in openers] == [0] * 4
    for path in paths:
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            names = [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY id")]
        finally:
            conn.close()
        assert names == ALL
