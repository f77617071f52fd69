"""Per-stream sync cursors and the history of sync runs (for ``status`` and ``GET /v1/sync``).

A run records the process that runs it (``pid``, ``host``, ``process_instance``) and a heartbeat
refreshed as its pages commit, so that a run killed without a word (SIGKILL, out of memory),
which stays ``running`` here, can be told from a live one (``sync.status``).

A process id means something only on one machine, since its boot, and in one process id
namespace (a container has its own, and two containers may share a host name): the
``process_instance`` names all three and when the process started, so that another process can
tell whether that very process still runs, or whether the id means nothing where it looks.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import msgspec

_SQL_NOW = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"


class RunRow(msgspec.Struct):
    """One sync run as recorded."""

    id: int
    source: str
    mode: str
    started_at: str
    finished_at: str | None
    status: str
    records_seen: int
    records_rejected: int
    pages: int
    note: str | None
    error: str | None
    pid: int | None = None  # the process that runs it (``None``: recorded before 0023)
    host: str | None = None
    heartbeat_at: str | None = None  # its last sign of life: its start, then each page
    # ``process_instance`` of its process (``None``: recorded before 0026; ``UNKNOWN_INSTANCE``:
    # where it could not be read)
    process_instance: str | None = None


UNKNOWN_INSTANCE = "unknown"
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")  # new at each boot, unique to a machine
_PID_NAMESPACE = Path("/proc/self/ns/pid")


def process_space() -> str | None:
    """Where a process id of this process means something: this machine since its boot (the
    kernel's boot id) and this process's pid namespace (its device and inode), as
    ``boot:<id> pidns:<dev>:<ino>``; ``None`` where that cannot be read (not Linux, no
    ``/proc``)."""
    try:
        boot = _BOOT_ID.read_text().strip()
        namespace = os.stat(_PID_NAMESPACE)
    except OSError:
        return None
    return f"boot:{boot} pidns:{namespace.st_dev}:{namespace.st_ino}"


def process_instance(pid: int) -> str | None:
    """The process with id ``pid`` as seen from here: ``process_space`` and when it started
    (clock ticks after boot, which no clock change alters), ``None`` where no such process runs
    here or that cannot be read. Equal values name the same process: an id reused since, or
    the same id in another container, gives another value."""
    space = process_space()
    if space is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rpartition(")")[2].split()[19])
    except (OSError, ValueError, IndexError):
        return None
    return f"{space} start:{ticks}"


def get_cursor(conn: sqlite3.Connection, source: str, stream: str) -> str | None:
    """The committed cursor of a stream (``None``: never synced, or reset)."""
    row = conn.execute(
        "SELECT cursor FROM sync_cursors WHERE source = ? AND stream = ?", (source, stream)
    ).fetchone()
    return None if row is None else row[0]


def set_cursor(
    conn: sqlite3.Connection, source: str, stream: str, cursor: str | None, now: str
) -> None:
    """Store a stream's cursor (call inside the transaction that stored the page)."""
    conn.execute(
        "INSERT INTO sync_cursors (source, stream, cursor, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (source, stream) DO UPDATE SET cursor = excluded.cursor, "
        "updated_at = excluded.updated_at",
        (source, stream, cursor, now),
    )


def cursors_of(conn: sqlite3.Connection, source: str) -> dict[str, str | None]:
    """Every stream cursor of a source."""
    rows = conn.execute("SELECT stream, cursor FROM sync_cursors WHERE source = ?", (source,))
    return {str(stream): cursor for stream, cursor in rows}


def reset_cursors(conn: sqlite3.Connection, source: str) -> None:
    """Forget a source's cursors: the next run is a full backfill."""
    conn.execute("DELETE FROM sync_cursors WHERE source = ?", (source,))


def start_run(conn: sqlite3.Connection, source: str, mode: str, now: str) -> int:
    """Record the start of a run by this process and return its id."""
    pid = os.getpid()
    instance = process_instance(pid) or UNKNOWN_INSTANCE
    cursor = conn.execute(
        "INSERT INTO sync_runs (source, mode, started_at, status, pid, host, heartbeat_at, "
        "process_instance) VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
        (source, mode, now, pid, socket.gethostname(), now, instance),
    )
    return int(cursor.lastrowid or 0)


def add_progress(
    conn: sqlite3.Connection, run_id: int, seen: int, rejected: int, now: str | None = None
) -> None:
    """Count one committed page of a run, a sign of life at ``now`` (default: the clock)."""
    conn.execute(
        "UPDATE sync_runs SET pages = pages + 1, records_seen = records_seen + ?, "
        f"records_rejected = records_rejected + ?, heartbeat_at = coalesce(?, {_SQL_NOW}) "
        "WHERE id = ?",
        (seen, rejected, now, run_id),
    )


def heartbeat(conn: sqlite3.Connection, run_id: int, now: str) -> None:
    """Record a sign of life of a run between its pages (a stream starts, snapshots build)."""
    conn.execute("UPDATE sync_runs SET heartbeat_at = ? WHERE id = ?", (now, run_id))


def finish_run(
    conn: sqlite3.Connection,
    run_id: int,
    status: str,
    now: str,
    *,
    note: str | None = None,
    error: str | None = None,
) -> None:
    """Record how a run ended."""
    conn.execute(
        "UPDATE sync_runs SET status = ?, finished_at = ?, note = ?, error = ? WHERE id = ?",
        (status, now, note, error, run_id),
    )


def last_run_of(conn: sqlite3.Connection, source: str) -> RunRow | None:
    """The most recent run of one source (an index search, however many runs are kept)."""
    row = conn.execute(
        "SELECT id, source, mode, started_at, finished_at, status, records_seen, "
        "records_rejected, pages, note, error, pid, host, heartbeat_at, process_instance "
        "FROM sync_runs WHERE source = ? ORDER BY id DESC LIMIT 1",
        (source,),
    ).fetchone()
    return RunRow(*row) if row else None


def last_runs(conn: sqlite3.Connection) -> dict[str, RunRow]:
    """The most recent run of every source."""
    rows = conn.execute(
        "SELECT id, source, mode, started_at, finished_at, status, records_seen, "
        "records_rejected, pages, note, error, pid, host, heartbeat_at, process_instance "
        "FROM sync_runs "
        "WHERE id IN (SELECT max(id) FROM sync_runs GROUP BY source) ORDER BY source"
    )
    return {str(row[1]): RunRow(*row) for row in rows}
