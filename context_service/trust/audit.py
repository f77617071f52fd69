"""Read audit: who read which customer, for which audience, verified or not, and when.

``verification`` tells how a read served in full was allowed: ``verified`` (the end user's
``user_hash`` or ``user_token`` was accepted), ``trusted_backend`` (a trusted-backend key read
it on its own word, with no accepted proof) or ``unverified`` (only the unverified answer was
served). It is stored in the ``verified`` column, 1, 2 and 0 respectively, so rows written
before it existed (1 or 0) read as ``verified`` or ``unverified``, and ``verified`` (the
boolean) keeps its meaning: the full answer was served.

Every context, widget, tool and export read writes one row (``read_audit``). Rows hold no
personal value, only the profile id; erasing a person blanks that id in their rows
(``anonymize``), and a row written afterwards (a read served while the erasure ran, still in a
server's buffer) gets the same blank for a profile that no longer exists (``_gone``). Rows
older than ``audit_retention_days`` are deleted (``purge``), at most once an hour as reads are
recorded.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

from context_service.store import Store

ERASED = "erased"
PURGE_EVERY_SECONDS = 3600.0


BUFFER_ROWS = 8192  # a full buffer wakes the background writer at once
KEEP_ON_FAILURE = 10 * BUFFER_ROWS  # rows kept while writes keep failing or cannot keep up
_CHUNK = 500  # profile ids per existence query
_Row = tuple[str, str, str | None, str, int, str]
log = logging.getLogger(__name__)
Verification = Literal["verified", "trusted_backend", "unverified"]
# How each mode is stored in ``read_audit.verified``: 0 and 1 as the boolean always was.
_CODES: dict[str, int] = {"unverified": 0, "verified": 1, "trusted_backend": 2}
_MODES: dict[int, Verification] = {0: "unverified", 1: "verified", 2: "trusted_backend"}


class Read(msgspec.Struct, frozen=True):
    """One read of one profile; without ``verification``, ``verified`` says ``verified`` or
    ``unverified``."""

    key_name: str
    profile_id: str | None
    audience: str
    verified: bool
    channel: str  # context, lookup, widget, widget-link, tool:<name>, mcp, export, subject-export
    verification: Verification | None = None


class AuditEntry(msgspec.Struct):
    """A stored read, as ``GET /v1/audit/reads`` lists it."""

    id: int
    at: str
    key_name: str
    profile_id: str | None
    audience: str
    verified: bool  # the full answer was served (``verified`` or ``trusted_backend``)
    channel: str
    verification: Verification


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReadAudit:
    """Records reads into the store; ``clock`` gives POSIX seconds.

    With ``buffer_seconds`` above zero (the HTTP app), reads are kept in memory and written
    together by a background thread every ``buffer_seconds``, at once when 8192 are waiting,
    and whenever ``flush`` is called (before the audit is read, before an erasure, at
    shutdown). One write transaction per request would otherwise halve what the service
    answers, and each row costs a random insert into the per-profile index (10-25 us), so rows
    are written in large batches off the request path: a request never writes, since a write
    waits (up to the busy timeout) while another process holds SQLite's write lock. While the
    writer cannot write, at most ``KEEP_ON_FAILURE`` rows wait, the oldest given up first
    (``dropped``). A crash loses at most ``buffer_seconds`` of audit entries.
    """

    def __init__(
        self,
        store: Store,
        retention_days: int,
        clock: Callable[[], float],
        buffer_seconds: float = 0.0,
    ) -> None:
        self.store = store
        self.retention_days = retention_days
        self.clock = clock
        self.buffer_seconds = buffer_seconds
        self._last_purge = float("-inf")
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time: a flush returns once written
        self._pending: list[_Row] = []
        self.dropped = 0  # rows given up on after failed writes with a full buffer
        self._flusher: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # a full buffer: write now, not at the next interval
        self._stamp = (0, _iso(0))  # (whole second, its ISO form): one strftime a second

    def record(self, reads: Iterable[Read]) -> None:
        """Write these reads now, or buffer them (see the class docstring)."""
        now = self.clock()
        second, stamp = self._stamp
        if math.floor(now) != second:
            stamp = _iso(now)
            self._stamp = (math.floor(now), stamp)
        rows = [
            (
                stamp,
                r.key_name,
                r.profile_id,
                r.audience,
                _CODES[r.verification] if r.verification else int(r.verified),
                r.channel,
            )
            for r in reads
        ]
        if self.buffer_seconds <= 0 or self._stop.is_set():  # unbuffered, or closed
            self._write(rows)
            return
        with self._lock:
            self._pending.extend(rows)
            waiting = len(self._pending)
            if waiting > KEEP_ON_FAILURE:  # the writer is stuck: bounded memory, oldest go
                self.dropped += waiting - KEEP_ON_FAILURE
                del self._pending[: waiting - KEEP_ON_FAILURE]
            self._start_flusher()
        if waiting >= BUFFER_ROWS:
            self._wake.set()

    def flush(self) -> None:
        """Write every buffered read now; when it returns, every read recorded before the call
        is in the table (a flush already under way is waited for). A failed write puts its rows
        back, ahead of newer ones, and raises."""
        with self._flushing:
            with self._lock:
                rows, self._pending = self._pending, []
            if not rows:
                return
            try:
                self._write(rows)
            except BaseException:
                self._put_back(rows)
                raise

    def _put_back(self, rows: list[_Row]) -> None:
        with self._lock:
            kept = (rows + self._pending)[-KEEP_ON_FAILURE:]
            self.dropped += len(rows) + len(self._pending) - len(kept)
            self._pending = kept

    def close(self) -> None:
        """Stop the background writer, wait for it, and write what is buffered (reads recorded
        afterwards are written at once)."""
        self._stop.set()
        self._wake.set()
        if self._flusher is not None:
            self._flusher.join(timeout=10)
        self.flush()

    def _start_flusher(self) -> None:
        if self._flusher is None:
            self._flusher = threading.Thread(
                target=self._flush_loop, name="read-audit", daemon=True
            )
            self._flusher.start()

    def _flush_loop(self) -> None:
        while True:
            self._wake.wait(self.buffer_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.flush()
            except Exception:  # a locked or closed store: try again next time
                log.warning("read audit flush failed; retrying", exc_info=True)

    def _write(self, rows: list[_Row]) -> None:
        now = self.clock()
        with self.store.transaction() as conn:
            gone = _gone(conn, {row[2] for row in rows if row[2] and row[2] != ERASED})
            if gone:  # erased since the read: the row keeps only ``erased``, as ``anonymize``
                rows = [(*r[:2], ERASED, *r[3:]) if r[2] in gone else r for r in rows]
            conn.executemany(
                "INSERT INTO read_audit (at, key_name, profile_id, audience, verified, channel) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            if self._purge_due(now):
                purge(conn, _iso(now - self.retention_days * 86400.0))

    def _purge_due(self, now: float) -> bool:
        if self.retention_days <= 0:
            return False
        with self._lock:
            if now - self._last_purge < PURGE_EVERY_SECONDS:
                return False
            self._last_purge = now
            return True


def _gone(conn: sqlite3.Connection, profile_ids: set[str]) -> set[str]:
    """Those of ``profile_ids`` that are neither a profile nor an alias (any more)."""
    ids = sorted(profile_ids)
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        found.update(
            row[0]
            for row in conn.execute(
                f"SELECT id FROM profiles WHERE id IN ({marks}) "
                f"UNION SELECT alias FROM profile_aliases WHERE alias IN ({marks})",
                [*chunk, *chunk],
            )
        )
    return profile_ids - found


_COLUMNS = "id, at, key_name, profile_id, audience, verified, channel"
# The reads of one customer: those recorded under its id and under every id merged into it
# (its aliases), whether the caller names the id or one of the aliases.
_OF_CUSTOMER = (
    "WITH live(id) AS (SELECT coalesce("
    "(SELECT profile_id FROM profile_aliases WHERE alias = :id), :id)) "
    f"SELECT {_COLUMNS} FROM read_audit WHERE profile_id IN ("
    "SELECT id FROM live UNION "
    "SELECT alias FROM profile_aliases WHERE profile_id = (SELECT id FROM live)) "
)
_LATEST = f"SELECT {_COLUMNS} FROM read_audit WHERE 1 "
_BEFORE = "AND id < :before "  # a page's cursor: only the reads recorded before that one
_NEWEST_FIRST = "ORDER BY id DESC LIMIT :limit"


class ReadsPage(msgspec.Struct):
    """A page of reads, newest first (``GET /v1/audit/reads``). ``next_before`` is the id to
    send as ``before`` for the next (older) page, ``None`` on the last page: reads recorded
    while the pages are read are newer than every page, so none is skipped or listed twice."""

    reads: list[AuditEntry]
    limit: int
    before: int | None
    next_before: int | None


def reads_of(
    conn: sqlite3.Connection,
    profile_id: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> list[AuditEntry]:
    """The latest reads, newest first: of all, or of one customer, named by its id or by an
    id merged into it, with the reads recorded under either; with ``before``, only those with
    a smaller id (recorded earlier)."""
    sql = _OF_CUSTOMER if profile_id else _LATEST
    sql += (_BEFORE if before is not None else "") + _NEWEST_FIRST
    rows = conn.execute(sql, {"id": profile_id, "limit": limit, "before": before}).fetchall()
    return [AuditEntry(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], _mode(r[5])) for r in rows]


def reads_page(
    conn: sqlite3.Connection, profile_id: str | None, limit: int, before: int | None = None
) -> ReadsPage:
    """``limit`` reads as ``reads_of`` lists them, and the cursor of the page after them."""
    reads = reads_of(conn, profile_id, limit + 1, before)
    more, reads = len(reads) > limit, reads[:limit]
    return ReadsPage(reads, limit, before, reads[-1].id if more else None)


def _mode(code: int) -> Verification:
    """The mode stored as ``code`` (any other non-zero value reads as the old ``True``)."""
    return _MODES.get(code) or ("verified" if code else "unverified")


def purge(conn: sqlite3.Connection, before: str) -> int:
    """Delete reads recorded before ``before`` (ISO-8601); how many."""
    return conn.execute("DELETE FROM read_audit WHERE at < ?", (before,)).rowcount


def cutoff(now: datetime, retention_days: int) -> str:
    """The oldest time kept by a retention of ``retention_days``."""
    return (now - timedelta(days=retention_days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def anonymize(conn: sqlite3.Connection, profile_ids: Iterable[str]) -> int:
    """Blank the profile id of these profiles' reads (erasure); how many rows."""
    ids = sorted(set(profile_ids))
    marks = ",".join("?" * len(ids))
    if not ids:
        return 0
    sql = f"UPDATE read_audit SET profile_id = ? WHERE profile_id IN ({marks})"
    return conn.execute(sql, (ERASED, *ids)).rowcount
