"""Per-source sync status: last run, cursors, record and rejection counts, webhook inbox, and
the open requests for a person's data that a vendor passed on (with the profile to export).

Shared by ``GET /v1/sync`` and ``context-service status``.

A run recorded as ``running`` whose process is gone, or that showed no sign of life
(``heartbeat_at``, refreshed as its pages commit and while it waits on its vendor) for
``SILENT_AFTER``, is shown as ``interrupted``, with ``last_seen_at``: killed without a word
(SIGKILL, out of memory), it could record nothing itself. The store is not changed: the next
sync resumes from the committed cursors as it always does (the next import reads its file again,
storing nothing twice).

Its process is looked up only where its id means the same: on the same machine since the same
boot and in the same pid namespace (``cursors.process_instance``; two containers may share a host
name and not their process ids). There, the very process (same id, same start) still running
keeps the run ``running`` however long it is silent (an import, a snapshot build of hours), and
its absence makes it ``interrupted`` at once. Anywhere else the heartbeat alone tells. A run
recorded before 0026 (no instance) is judged as then, by host name and process start time.

A heartbeat dated ahead of the clock (the clock was set back since, or the writer's runs ahead)
is as old as it is far from now: a dead run's would otherwise look fresh until the clock caught
up, so a clock set back keeps a dead run ``running`` at most ``SILENT_AFTER`` longer.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from context_service.models import RecordKey
from context_service.store import Store, access_requests, profiles
from context_service.store import cursors as cursor_store
from context_service.store import inbox as inbox_store
from context_service.trust.erasure import BLANKED_BY_ERASURE

# A live run commits a page every few seconds, and beats every minute while its vendor makes it
# wait (``runner.BEAT_WHILE_WAITING``); an hour without either (nor a stream starting, nor
# snapshots building) means its process is gone, or hung, or its id was reused after a reboot.
SILENT_AFTER = timedelta(hours=1)
# A process that started this long after the run it is recorded for is another one (the id was
# reused, or the host rebooted); the margin covers start times read at one-second precision.
PID_START_SLACK = timedelta(minutes=1)


def sync_status(store: Store, sources: list[str], now: datetime | None = None) -> dict[str, Any]:
    """Status of every configured or ever-synced source (``now``: the time runs are judged
    at, default the clock). ``webhooks_failed`` counts the failed deliveries that
    ``context-service webhooks retry`` can apply again (not those an erasure blanked)."""
    conn = store.conn
    runs = cursor_store.last_runs(conn)
    inbox = inbox_store.counts(conn)
    failed = inbox_store.retryable_failed_counts(conn, BLANKED_BY_ERASURE)
    requests = _open_access_requests(conn)
    at = now or datetime.now(UTC)
    out: dict[str, Any] = {}
    for source in sorted(set(sources) | set(runs) | _sources_with_records(conn) | set(requests)):
        run = runs.get(source)
        out[source] = {
            "last_run": run_view(run, at) if run else None,
            "cursors": cursor_store.cursors_of(conn, source),
            "records": _count(conn, source, "deleted = 0"),  # a deletion's tombstone is none
            "records_rejected": _count(conn, source, "error IS NOT NULL AND deleted = 0"),
            "webhooks": {status: n for (src, status), n in inbox.items() if src == source},
            "webhooks_failed": failed.get(source, 0),
            "access_requests": requests.get(source, []),
        }
    return out


def run_view(run: cursor_store.RunRow, now: datetime) -> dict[str, Any]:
    """A recorded run as shown: a ``running`` one that is dead is ``interrupted``, with
    ``last_seen_at`` and an ``error`` that says why it is thought dead and what the next run
    does: a sync resumes from its cursors, an import reads its file again from the start."""
    view: dict[str, Any] = msgspec.to_builtins(run)
    del view["process_instance"]  # for judging here, not for showing
    why = _why_dead(run, now) if run.status == "running" else None
    if why is not None:
        last_seen = run.heartbeat_at or run.started_at
        view["status"] = "interrupted"
        view["last_seen_at"] = last_seen
        view["error"] = f"interrupted: {why}; last seen {last_seen} ({_next_run(run.mode)})"
    return view


def _next_run(mode: str) -> str:
    """What the next run of an interrupted one does with what it committed."""
    if mode == "import":  # a file has no cursor: the rows stored are matched, not doubled
        return "importing the file again reads it from the start; the rows stored are not doubled"
    return "the next run resumes from the last committed page"


def _why_dead(run: cursor_store.RunRow, now: datetime) -> str | None:
    """Why a run recorded as ``running`` cannot be running any more, or ``None``."""
    who = f"process {run.pid} on {run.host}" if run.pid is not None else "its process"
    lives = _its_process_lives(run)
    if lives is False:
        return f"{who} is gone"
    if lives:
        # A long stretch without pages (an import's slow batch, or a snapshot build of
        # hours) is no sign of death when its process is still there.
        return None
    return _why_silent(run, now, who)


def _why_silent(run: cursor_store.RunRow, now: datetime, who: str) -> str | None:
    """Why a run's heartbeat says it is dead (too old, or dated too far ahead), or ``None``."""
    last_seen = _parse(run.heartbeat_at or run.started_at)
    if last_seen is None:
        return None
    if last_seen - now > SILENT_AFTER:
        ahead = int((last_seen - now).total_seconds() // 60)
        return (
            f"the last sign of life from {who} is dated {ahead} minutes ahead of this clock "
            "(was the clock set back?)"
        )
    if now - last_seen > SILENT_AFTER:
        minutes = int(SILENT_AFTER.total_seconds() // 60)
        return f"no sign of life from {who} for over {minutes} minutes"
    return None


def _its_process_lives(run: cursor_store.RunRow) -> bool | None:
    """Whether the run's own process still runs, ``None`` where that cannot be told from here
    (another machine or container, or a pid that was not recorded)."""
    if run.pid is None:
        return None
    if run.process_instance is None:
        return _recorded_before_0026_lives(run)
    here = cursor_store.process_space()
    ran_in = run.process_instance.rpartition(" start:")[0]
    if here is None or ran_in != here:
        return None
    there_now = cursor_store.process_instance(run.pid)
    if there_now is None:  # no such process, or one hidden from this user (``hidepid``)
        return None if process_alive(run.pid) else False
    return there_now == run.process_instance and not _zombie(run.pid)


def _recorded_before_0026_lives(run: cursor_store.RunRow) -> bool | None:
    """``_its_process_lives`` for a run that recorded no process instance: trusted on a
    matching host name, as then; a live process that started after the run tells nothing."""
    if run.pid is None or run.host != socket.gethostname():
        return None
    if not process_alive(run.pid):
        return False
    return True if _its_own_process_lives(run) else None


def _its_own_process_lives(run: cursor_store.RunRow) -> bool:
    """Whether the run's process still runs on this host: its id names a live process that
    started before the run (not one that took the id since, nor one after a reboot)."""
    if run.pid is None or run.host != socket.gethostname():
        return False
    born, started = process_started_at(run.pid), _parse(run.started_at)
    if born is None or started is None:
        return False
    return born <= started + PID_START_SLACK


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (a zombie, killed but not reaped by
    its parent yet, does not count)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return not _zombie(pid)


def process_started_at(pid: int) -> datetime | None:
    """When the process with this id started (Linux ``/proc``: its start in clock ticks after
    the boot time), ``None`` where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = _boot_time()
        ticks = int(stat.rpartition(")")[2].split()[19])
    except (OSError, ValueError, IndexError):
        return None
    if boot is None:
        return None
    return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)


def _boot_time() -> float | None:
    """The host's boot time in POSIX seconds (``btime`` of ``/proc/stat``)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return None


def _zombie(pid: int) -> bool:
    """Whether ``pid`` is a zombie (Linux ``/proc``; elsewhere, never)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _parse(value: str | None) -> datetime | None:
    """An ISO-8601 time as aware UTC, ``None`` if unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def open_access_requests(conn: Any) -> list[dict[str, Any]]:
    """Open access requests, oldest first, each with the profile that now holds the record it
    names (``profile_id``, ``None`` while nothing is stored about it)."""
    found = access_requests.open_requests(conn)
    keys = [RecordKey(r.source, r.kind, r.external_id) for r in found]
    held = profiles.profiles_of_keys(conn, keys)
    out: list[dict[str, Any]] = []
    for request, key in zip(found, keys, strict=True):
        entry = msgspec.to_builtins(request)
        entry["profile_id"] = held.get(key)
        out.append(entry)
    return out


def _open_access_requests(conn: Any) -> dict[str, list[dict[str, Any]]]:
    """``open_access_requests`` per source."""
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in open_access_requests(conn):
        out.setdefault(entry["source"], []).append(entry)
    return out


def _sources_with_records(conn: Any) -> set[str]:
    """Every source that has records (an import from a store older than import runs, say),
    one index seek per source."""
    rows = conn.execute(
        "WITH RECURSIVE seen(source) AS (SELECT min(source) FROM records UNION ALL "
        "SELECT (SELECT min(source) FROM records WHERE source > seen.source) FROM seen "
        "WHERE seen.source IS NOT NULL) SELECT source FROM seen WHERE source IS NOT NULL"
    )
    return {str(row[0]) for row in rows}


def _count(conn: Any, source: str, where: str) -> int:
    sql = f"SELECT count(*) FROM records WHERE source = ? AND {where}"
    return int(conn.execute(sql, (source,)).fetchone()[0])
