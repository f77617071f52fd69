"""A live sync or import run is told from a dead one across containers and clock changes, and
``doctor`` says when it migrated the store it checks.

Two containers may share a host name (a pod's, or one set in the compose file) while each has
its own process ids: a process id recorded by one names nothing, or someone else, in the other.
So a run's process is only looked up where it provably runs on the same machine and in the same
process id namespace (``sync_runs.process_instance``); elsewhere its heartbeat alone tells.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from context_service import doctor
from context_service.doctor import check_database, diagnose
from context_service.settings import Settings
from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.store.migrations import MIGRATIONS, migrate
from context_service.sync.status import SILENT_AFTER, sync_status

ANOTHER_CONTAINER = "boot:0b5e1d7a-another-kernel pidns:4026532999"


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _start_run(
    store: Store, monkeypatch: pytest.MonkeyPatch, started: datetime, *, elsewhere: bool
) -> int:
    """Record a run as ``start_run`` does, by this process or (``elsewhere``) by one in another
    container with the same host name."""
    with monkeypatch.context() as patched:
        if elsewhere:
            patched.setattr(cursor_store, "process_space", lambda: ANOTHER_CONTAINER, raising=False)
        with store.transaction() as conn:
            return cursor_store.start_run(conn, "zendesk", "incremental", _iso(started))


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid names no process here now
    return gone.pid


def _last_run(store: Store, now: datetime) -> dict[str, object]:
    run: dict[str, object] = sync_status(store, [], now=now)["zendesk"]["last_run"]
    return run


# --- 1. same host name, separate process id namespaces --------------------------------------


def test_a_local_process_with_the_pid_of_a_silent_run_from_another_container_keeps_it_not_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run was killed in its container hours ago; here its pid names a process (this one)
    that started before it: that is not its process."""
    store = Store(tmp_path / "runs.db")
    started = datetime.now(UTC)
    _start_run(store, monkeypatch, started, elsewhere=True)
    run = _last_run(store, started + 3 * SILENT_AFTER)
    store.close()
    assert run["status"] == "interrupted"
    assert run["last_seen_at"] == _iso(started)


def test_a_live_run_in_another_container_is_not_gone_because_its_pid_is_free_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "runs.db")
    started = datetime.now(UTC)
    run_id = _start_run(store, monkeypatch, started, elsewhere=True)
    with store.transaction() as conn:
        conn.execute("UPDATE sync_runs SET pid = ? WHERE id = ?", (_dead_pid(), run_id))
        cursor_store.heartbeat(conn, run_id, _iso(started + timedelta(minutes=20)))
    run = _last_run(store, started + timedelta(minutes=21))
    store.close()
    assert run["status"] == "running", run.get("error")


_RECORD_A_RUN = """
import sys
from context_service.store import Store
from context_service.store import cursors
store = Store(sys.argv[1])
with store.transaction() as conn:
    cursors.start_run(conn, "zendesk", "incremental", sys.argv[2])
store.close()
"""


def test_a_run_killed_in_a_container_of_the_same_host_name_is_interrupted(
    tmp_path: Path,
) -> None:
    """No stand-in: a process in its own pid namespace (as in a container; the host name is
    the same) records a run and dies without finishing it. Its pid there is small, and here
    names a process that started long before: not the run's."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1)")
    db = tmp_path / "runs.db"
    Store(db).close()
    started = datetime.now(UTC)
    command = [unshare, "--pid", "--fork", "--mount-proc", sys.executable, "-c", _RECORD_A_RUN]
    done = subprocess.run(
        [*command, str(db), _iso(started)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot make a pid namespace here: {done.stderr.strip()[-200:]}")
    store = Store(db)
    [(pid, host)] = store.conn.execute("SELECT pid, host FROM sync_runs").fetchall()
    run = _last_run(store, started + 3 * SILENT_AFTER)
    store.close()
    assert host == socket.gethostname()
    assert pid is not None
    assert run["status"] == "interrupted"


def test_a_run_of_this_process_space_is_still_judged_by_its_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Here the pid is trusted: a live process that started before the run keeps a silent run
    (an import of hours) running, and a gone one makes a fresh run interrupted at once."""
    store = Store(tmp_path / "runs.db")
    started = datetime.now(UTC)
    run_id = _start_run(store, monkeypatch, started, elsewhere=False)
    silent = _last_run(store, started + 3 * SILENT_AFTER)
    with store.transaction() as conn:
        conn.execute("UPDATE sync_runs SET pid = ? WHERE id = ?", (_dead_pid(), run_id))
    gone = _last_run(store, started + timedelta(seconds=30))
    store.close()
    assert silent["status"] == "running", silent.get("error")
    assert gone["status"] == "interrupted"
    assert "gone" in str(gone["error"])


def test_a_run_records_the_process_instance_that_runs_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "runs.db")
    with store.transaction() as conn:
        run_id = cursor_store.start_run(conn, "zendesk", "incremental", _iso(datetime.now(UTC)))
    [(instance,)] = store.conn.execute(
        "SELECT process_instance FROM sync_runs WHERE id = ?", (run_id,)
    ).fetchall()
    shown = sync_status(store, [])["zendesk"]["last_run"]
    store.close()
    assert instance == cursor_store.process_instance(os.getpid())
    assert str(cursor_store.process_space()) in instance
    assert "process_instance" not in shown  # judged here, not shown


# --- 2. a clock set back ----------------------------------------------------------------------


def _add_foreign_run(store: Store, heartbeat: datetime) -> None:
    """A run recorded on another host (no process to look at): only its heartbeat tells."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO sync_runs (source, mode, started_at, status, pid, host, heartbeat_at) "
            "VALUES ('zendesk', 'incremental', ?, 'running', 4242, 'another-host.example', ?)",
            (_iso(heartbeat - timedelta(minutes=5)), _iso(heartbeat)),
        )


def test_a_heartbeat_dated_far_ahead_of_the_clock_does_not_keep_a_dead_run_running(
    tmp_path: Path,
) -> None:
    """The clock was set back by hours after the run's last heartbeat, and the run died: its
    heartbeat, hours "in the future", would look fresh until the clock caught up."""
    store = Store(tmp_path / "runs.db")
    now = datetime.now(UTC)
    heartbeat = now + 3 * SILENT_AFTER
    _add_foreign_run(store, heartbeat)
    run = _last_run(store, now)
    store.close()
    assert run["status"] == "interrupted"
    assert run["last_seen_at"] == _iso(heartbeat)
    assert "clock" in str(run["error"])


def test_a_heartbeat_a_little_ahead_of_the_clock_is_fresh(tmp_path: Path) -> None:
    """Clocks of writers differ by seconds: a heartbeat just ahead is a sign of life."""
    store = Store(tmp_path / "runs.db")
    now = datetime.now(UTC)
    _add_foreign_run(store, now + timedelta(seconds=40))
    run = _last_run(store, now)
    store.close()
    assert run["status"] == "running", run.get("error")


# --- 3. doctor says what it migrated --------------------------------------------------------


def _store_missing_a_migration(path: Path) -> str:
    """A store as older code left it: its newest re-runnable migration not applied yet."""
    store = Store(path)
    name = "0024_snapshots_bounded"
    with store.transaction() as conn:
        conn.execute("DELETE FROM _migrations WHERE name = ?", (name,))
    store.close()
    return name


def test_doctor_says_which_migrations_it_applied_to_the_store_it_checks(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    name = _store_missing_a_migration(db)
    settings = Settings(db=str(db))
    first = list(check_database(settings))
    again = list(check_database(settings))
    said = [f for f in first if name in f.text]
    assert len(said) == 1
    assert said[0].level == "warning"  # the store changed; nothing is wrong with it
    assert again == [f for f in first if f not in said]
    store = Store(db)
    assert migrate(store.db) == []
    store.close()


def test_doctor_on_a_current_store_says_nothing_of_migrations(tmp_path: Path) -> None:
    db = tmp_path / "current.db"
    Store(db).close()
    findings = diagnose(Settings(db=str(db)), [], probe=lambda url: None)
    names = [name for name, _ in MIGRATIONS]
    assert not [f for f in findings if any(name in f.text for name in names)]


def test_doctor_names_the_migrations_due_on_a_store_it_cannot_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store on a read-only disk cannot be migrated: doctor says which migrations are due,
    as every command that opens it fails the same way."""
    db = tmp_path / "old.db"
    name = _store_missing_a_migration(db)

    def read_only(path: object) -> Store:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(doctor, "Store", read_only)
    findings = list(check_database(Settings(db=str(db))))
    said = [f for f in findings if name in f.text]
    assert [f.level for f in said] == ["problem"]
    assert "readonly" in said[0].text
