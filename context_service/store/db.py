"""Opening the SQLite database: one file, WAL, migrations applied on open."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from context_service.errors import MigrationError
from context_service.store.migrations import MIGRATIONS, migrate
from context_service.store.snapshots import older_format, requeue_stale

BUSY_TIMEOUT_MS = 30000  # how long a connection waits for another's lock


class Store:
    """Two SQLite connections: ``conn`` for reads, and a writer behind a lock.

    Reads use ``conn`` from any thread and, thanks to WAL, only ever see committed data, even
    while a write transaction is open; every write goes through ``transaction()`` (the single
    write path), which serializes writers of this process. Other processes coordinate through
    SQLite's own locking (``busy_timeout``).

    Another process may be an older or a newer release on the same file. On opening, the
    store refuses migrations this code does not know (``MigrationError``: a newer release
    migrated the file). On opening, and in the first write transaction after another
    connection committed (``PRAGMA data_version``), it queues the snapshots an older release
    wrote for a rebuild by this code (``snapshots.requeue_stale``; ``stale_snapshots`` counts
    those); reads build such a row first (``snapshot.lookup``). A process that is running when
    a newer release migrates the file goes on as before (refusing its writes then left its
    reads unaudited and some answers failing); the newer release finds what it writes in its
    turn, by the same format marker.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._writer = _connect(self.path)
        self.db = sqlite_utils.Database(self._writer)
        self._lock = threading.RLock()
        try:
            refuse_unknown_migrations(self._writer, self.path)
            migrate(self.db)
        except BaseException:
            self._writer.close()
            raise
        self.stale_snapshots = 0  # snapshots of an older release queued again (class doc)
        self._seen_version: int | None = None  # ``PRAGMA data_version`` last checked
        self.conn = self._writer if self.path == ":memory:" else _connect(self.path)
        self._checkpointer: Checkpointer | None = None
        self._checkpoint_lock = threading.Lock()  # held by the checkpointer and maintenance()
        self._depth = threading.local()  # transaction() nesting of the calling thread
        self._ended = 0  # transactions SQLite ended in a nested block (``_savepoint``)
        if self.path != ":memory:":
            # Commits only append to the WAL; a background thread copies it into the file, so
            # no commit waits for a checkpoint and its fsync.
            self._writer.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = Checkpointer(self.path, self._checkpoint_lock)
        if older_format(self._writer, 1):  # one index probe: most stores have none
            try:
                with self.transaction():
                    pass  # the first transaction catches up (``_catch_up``)
            except BaseException:
                self.close()
                raise

    @contextmanager
    def transaction(self, *, wait_s: float | None = None) -> Iterator[sqlite3.Connection]:
        """Run a block in one ``BEGIN IMMEDIATE`` transaction; commit on success, else roll back
        (a failed ``COMMIT`` too, so that no later block joins a transaction left open).

        A nested call is a savepoint within the outer transaction: when its block raises, its
        own writes are rolled back and the exception propagates, so an outer block that
        catches it and goes on commits only its own writes; on success the savepoint is
        released into the outer transaction (one ``SAVEPOINT`` and one ``RELEASE`` each). When
        SQLite itself ended the whole transaction in the nested block (a full disk, an I/O
        error, an interrupt), the outer block's later statements run in a transaction that is
        rolled back, and the outer block raises instead of committing: nothing of it is kept.

        ``wait_s`` bounds the wait for the write lock, held by another thread of this process
        or another process (a long import): past it, ``sqlite3.OperationalError`` ("database is
        locked"). Without it, a writer waits for the store's busy timeout (30 s)."""
        deadline = None if wait_s is None else time.monotonic() + wait_s
        if not self._lock.acquire(timeout=-1 if wait_s is None else max(wait_s, 0.0)):
            raise _thread_busy()
        try:
            conn = self._writer
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            try:
                if conn.in_transaction:
                    with self._savepoint(conn, f"nested_{depth}"):
                        yield conn
                    return
                _begin_immediate(conn, deadline)
                ended = self._ended
                try:
                    seen = self._catch_up(conn)
                    yield conn
                    if self._ended != ended:
                        raise sqlite3.OperationalError(
                            "transaction rolled back: SQLite ended it in a nested block"
                        )
                    conn.execute("COMMIT")
                    self._seen_version = seen
                except BaseException:
                    roll_back(conn)
                    raise
            finally:
                self._depth.value = depth
        finally:
            self._lock.release()

    def _catch_up(self, conn: sqlite3.Connection) -> int:
        """At the start of a write transaction, when another connection committed since the
        last one here (or none ran yet), queue the snapshots an older release wrote (class
        doc). Return the ``data_version`` seen, to remember once the transaction commits (a
        rolled-back one checks again next time)."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._seen_version:
            self.stale_snapshots += requeue_stale(conn, _utc_now())
        return version

    @contextmanager
    def _savepoint(self, conn: sqlite3.Connection, name: str) -> Iterator[None]:
        """A savepoint ``name`` on ``conn``, inside its open transaction: released when the
        block succeeds; rolled back to and released when it raises, and the exception
        re-raised. When SQLite has already ended the whole transaction (a full disk, an I/O
        error, an interrupt) there is no savepoint left: a deferred transaction is begun in
        its place, so that the outer block's later statements do not commit one by one, and
        the outer block rolls it back and fails (``_ended``)."""
        conn.execute(f"SAVEPOINT {name}")
        ended = self._ended
        try:
            yield
        except BaseException:
            if self._ended == ended:  # else it went with the transaction SQLite ended
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                else:
                    self._end_by_sqlite(conn)
            raise
        if self._ended != ended:
            return  # the outer block fails
        if not conn.in_transaction:  # the block caught the error that ended the transaction
            self._end_by_sqlite(conn)
            raise sqlite3.OperationalError("the transaction was ended by SQLite in this block")
        conn.execute(f"RELEASE {name}")

    def _end_by_sqlite(self, conn: sqlite3.Connection) -> None:
        self._ended += 1
        conn.execute("BEGIN")  # the outer block's later statements are rolled back with it

    @property
    def in_transaction(self) -> bool:
        """Whether the calling thread is inside a ``transaction()`` block (a new block would
        be a savepoint within it rather than commit on its own)."""
        return getattr(self._depth, "value", 0) > 0

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A read connection of the block's own, in one read transaction that spans the block:
        every read in it sees the store as at the block's start, whatever is committed
        meanwhile, and no other thread's statements interleave with it (unlike ``conn``,
        shared by every thread of the API). For a multi-statement read that must be consistent
        (an export); the connection is closed, and its snapshot let go, when the block ends.

        An in-memory store has no second connection: the block holds the writer's lock
        instead, so that nothing is written (and no other thread reads) while it runs."""
        if self.path == ":memory:":
            with self._lock:
                yield self._writer
            return
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("BEGIN")
            # SQLite takes the snapshot at the first read, not at BEGIN: one now, so the block
            # sees the store as at its start.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            yield conn
        finally:
            conn.close()  # ends the read transaction

    @contextmanager
    def maintenance(self) -> Iterator[sqlite3.Connection]:
        """The writer, outside any transaction, with other writers of this process and the
        background checkpointer held off (for ``VACUUM`` and checkpoints, which cannot run inside
        a transaction, and a ``TRUNCATE`` checkpoint that a concurrent one would make fail)."""
        with self._lock, self._checkpoint_lock:
            yield self._writer

    def close(self) -> None:
        """Stop the checkpointer and close both connections (the last one to close checkpoints
        whatever is left in the WAL). A write transaction another thread has open (a
        background writer of key uses or audit rows) finishes first: closing a connection
        under a running statement is undefined behaviour in SQLite's C API (a crash); a write
        begun after this fails with ``sqlite3.ProgrammingError``."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            self.conn.close()
            if self.conn is not self._writer:
                self._writer.close()


class Checkpointer:
    """A daemon thread that copies committed WAL frames into the database file every
    ``interval`` seconds, through its own connection, without blocking writers (``PASSIVE``).

    SQLite's automatic checkpoint runs inside whichever commit makes the WAL cross 1,000 pages,
    so that commit waits for the copy and an fsync; here no commit does.

    Once a checkpoint has copied every frame, the next write transaction starts the WAL over
    by itself, unless a reader still uses it. With a reader all the time (a snapshot worker,
    say) that never happens, so the file would grow without end, and every page read searches
    the WAL's index, which grows with it. So when the WAL holds ``restart_frames`` frames and
    has not started over since the previous round (its header's salt is unchanged), the thread
    asks for a ``RESTART`` checkpoint, which waits (at most a second) for readers and writers to
    finish their current transaction, so the next commit writes the WAL from its start. Only
    then, and only past 128 MiB: a RESTART holds every writer off while it waits for the
    readers, copies and syncs (up to a few hundred milliseconds with a worker reading). In the
    ingest bench these stalls took 0.6 to 1.0 s of a 16 to 20 s backfill at 32 MiB without the
    salt check, and 0.4 to 0.6 s now.
    """

    restart_frames = 32768  # 128 MiB of 4 KiB pages

    def __init__(self, path: str, lock: threading.Lock, interval: float = 0.5) -> None:
        self.path = path
        self.lock = lock
        self.interval = interval
        self._stop = threading.Event()
        self._salt: bytes | None = None  # the WAL header's salt at the previous round
        self.restarts = 0  # RESTART checkpoints run so far
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """One passive checkpoint, or a restarting one when the WAL has grown long:
        (busy, frames in the WAL, frames copied)."""
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        salt, self._salt = self._salt, wal_salt(self.path)
        if frames >= self.restart_frames and salt is not None and salt == self._salt:
            busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self._salt = wal_salt(self.path)
            self.restarts += 1
        return int(busy), int(frames), int(copied)

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=1000")
        try:
            while not self._stop.wait(self.interval):
                try:
                    with self.lock:
                        self.checkpoint(conn)
                except (sqlite3.Error, OSError):  # busy, locked or unreadable WAL this time:
                    continue  # the next round catches up
        finally:
            conn.close()


def roll_back(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction of ``conn``, if SQLite has not done so itself: a full
    disk, an I/O error or an interrupt ends the whole transaction, and a ``ROLLBACK`` then
    would fail and hide the error that caused it. A failed ``COMMIT`` (a deferred constraint,
    a full disk) leaves the transaction open, and a later ``transaction()`` would join it and
    never commit."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _begin_immediate(conn: sqlite3.Connection, deadline: float | None) -> None:
    """``BEGIN IMMEDIATE``, waiting for another process's write lock until ``deadline``
    (``time.monotonic()``) rather than the connection's busy timeout, when there is one."""
    if deadline is None:
        conn.execute("BEGIN IMMEDIATE")
        return
    conn.execute(f"PRAGMA busy_timeout={max(int((deadline - time.monotonic()) * 1000), 0)}")
    try:
        conn.execute("BEGIN IMMEDIATE")
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _thread_busy() -> sqlite3.OperationalError:
    """The error a bounded wait for another thread's write raises: busy, as SQLite's own
    (``is_busy``), so callers that give up on a busy store give up on it too."""
    exc = sqlite3.OperationalError("database is locked (by another thread's write)")
    exc.sqlite_errorcode = sqlite3.SQLITE_BUSY
    return exc


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says another connection holds a lock (``SQLITE_BUSY``/``SQLITE_LOCKED``,
    extended codes included): the same statement may succeed later, unlike other errors."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def refuse_unknown_migrations(conn: sqlite3.Connection, path: str) -> None:
    """Raise ``MigrationError`` when the database records a migration this code does not
    know: a newer release wrote it, and this one would misread or damage its schema."""
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone():
        return
    known = {name for name, _ in MIGRATIONS}
    rows = conn.execute("SELECT name FROM _migrations ORDER BY id")
    unknown = [str(name) for (name,) in rows if name not in known]
    if unknown:
        raise MigrationError(
            f"database {path} "
            f"has migrations this version does not know ({', '.join(unknown)}): "
            "it was written by a newer release; upgrade context-service to open it"
        )


def _utc_now() -> str:
    """The time now, ISO-8601 UTC to the second (as ``queued_at`` is)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def wal_salt(path: str) -> bytes | None:
    """The salt in the header of the database's WAL file, which SQLite changes each time the
    WAL starts over (``None`` without a WAL)."""
    try:
        with open(f"{path}-wal", "rb") as wal:
            header = wal.read(24)
    except FileNotFoundError:
        return None
    return header[16:24] if len(header) == 24 else None


def read_only(path: str) -> sqlite3.Connection:
    """A read-only connection to the store at ``path`` for a worker process, which reads the
    committed state while the caller writes (WAL), with a 64 MB page cache."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"  # quotes ?, # and % in the path
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


def _connect(path: str) -> sqlite3.Connection:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    _use_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA cache_size=-65536")
    # Deleted content is overwritten with zeros, so an erased person leaves nothing in free
    # pages or freed cells (``context_service.trust.erasure``).
    conn.execute("PRAGMA secure_delete=ON")
    return conn


def _use_wal(conn: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch to WAL, retrying while the file is locked: when several processes open a new
    database at once (``serve --workers 4``), switching it fails with "database is locked" at
    once, SQLite not waiting in its busy handler there (a deadlock could follow), while a
    moment later the file is in WAL already and the switch is a no-op."""
    delay, waited = 0.002, 0.0
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or waited >= patience:
                raise
        time.sleep(delay)
        waited += delay
        delay = min(delay * 2, 0.1)
