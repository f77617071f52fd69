"""Run a connector's streams: each page's records and its cursor commit in one transaction.

Changed profiles are queued with each page and their snapshots rebuilt once, at the end of the
run, by a worker process and this one together; a long backfill also hands them to the worker
every ``SNAPSHOT_WINDOW`` seconds, so no snapshot lags far behind (without a worker, or once it
has failed, this process drains the queue every ``DRAIN_EVERY_PAGES`` pages instead). Not
once per page: a customer's orders, subscriptions and invoices come in other streams, and
building the profile after each of them cost three to four builds per profile in the ingest
bench.

A run killed at any moment (crash, Ctrl-C, a vendor that keeps failing) leaves every committed
page in the store with the cursor that follows it, so the next run resumes exactly there: no
record lost, none applied twice (records are keyed, and a repeated page is a no-op). A run
killed without a word (SIGKILL, out of memory) stays ``running`` in ``sync_runs``; its process
id and host and a heartbeat refreshed with each page (and as streams start and snapshots
build) let ``status`` show it as ``interrupted``. A run waiting on its vendor (a ``Retry-After``
of minutes, a page that takes one call per ticket) refreshes it too, every
``BEAT_WHILE_WAITING`` seconds (``_Pulse``): from this thread, while it waits for the fetching
thread's next page and between the look-ups it makes itself, never from the fetching thread,
so a heartbeat never runs into a page's ingest transaction. However long a vendor makes it
wait, a live run never looks silent for ``SILENT_AFTER`` to a ``status`` that cannot see its
process, so no second run of its source starts beside it.

One source syncs once at a time: a run that finds another run of its source still running (its
process alive, or, where that cannot be told, a heartbeat under an hour old) starts nothing and
says so; one whose process is gone does not hold the next back. A stream whose cursor stops
advancing (the same page served again and again) stops the run with an error instead of
spinning for ever.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import msgspec

from context_service.errors import ContextServiceError, FatalError
from context_service.models import Connector, Page, Stream, VendorObject
from context_service.snapshot.background import BackgroundSnapshots
from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.store.db import BUSY_TIMEOUT_MS, is_busy
from context_service.sync.collection import rare_full_collections
from context_service.sync.ingest import (
    IngestContext,
    IngestReport,
    drain_snapshots,
    from_vendor,
    ingest_batch,
    utc_now,
)
from context_service.sync.status import run_view
from context_service.sync.ties import SETTLE_ATTEMPTS, Seen, moved_since, settle_ties

Progress = Callable[[str, int], None]
DRAIN_EVERY_PAGES = 500
SNAPSHOT_WINDOW = 30.0  # seconds between two hand-overs of changed profiles to the worker
# How often a run that waits on its vendor shows a sign of life (``SILENT_AFTER`` is an hour).
BEAT_WHILE_WAITING = 60.0
_BEAT_LOCK_WAIT = 5.0  # seconds a waiting run's heartbeat waits for the write lock, else skipped
_clock: Callable[[], float] = time.monotonic  # the pulse's clock (tests put a fake one here)


class SyncOutcome(msgspec.Struct):
    """How a run went: counts, notes (such as a forced full backfill) and the error, if any.
    ``refused``: it never started, since another run of its source is live (its ``error``
    says which); nothing of it is recorded."""

    source: str
    mode: str
    status: str = "ok"
    pages: int = 0
    report: IngestReport = msgspec.field(default_factory=IngestReport)
    notes: list[str] = []
    error: str | None = None
    refused: bool = False


def run_sync(
    store: Store,
    connector: Connector,
    ctx: IngestContext,
    *,
    full: bool = False,
    progress: Progress | None = None,
    force: bool = False,
) -> SyncOutcome:
    """Sync every stream of a connector from its committed cursors (or from scratch).

    The run's mode is ``full`` when asked for, when the cursors are too old, or when no
    cursor is committed yet (a first run backfills); else ``incremental``. While another run
    of the source is running, nothing is done or recorded: the outcome is ``failed`` and
    ``refused``, with an error that names that run. ``force`` starts anyway: for a run the
    operator knows is gone but that cannot be told from here (killed in another container,
    whose heartbeat keeps it "running" for up to an hour).
    """
    source = connector.source
    outcome = SyncOutcome(source=source, mode="full" if full else "incremental")
    with store.transaction() as conn:
        busy = None if force else _live_run_of(conn, source)
        if busy is not None:
            outcome.status, outcome.error, outcome.refused = "failed", busy, True
            return outcome
        cursors = cursor_store.cursors_of(conn, source)
        if full or _needs_full(connector, cursors, outcome):
            cursor_store.reset_cursors(conn, source)
            outcome.mode = "full"
        elif not any(cursors.values()):
            outcome.mode = "full"  # nothing committed to resume from: every stream backfills
        run_id = cursor_store.start_run(conn, source, outcome.mode, utc_now())
    deferred = _Deferred(store, ctx)
    try:  # from here on, however the run ends (Ctrl-C in a drain included), it is recorded
        with rare_full_collections.during():
            _sync_streams(store, connector, ctx, run_id, outcome, progress, deferred)
    except BaseException as exc:  # a crash or Ctrl-C: record it, then let it propagate
        outcome.status, outcome.error = "failed", stopped_by(exc)
        _finish_quietly(store, run_id, outcome, deferred)
        raise
    _finish_quietly(store, run_id, outcome, deferred)
    return outcome


def _sync_streams(
    store: Store,
    connector: Connector,
    ctx: IngestContext,
    run_id: int,
    outcome: SyncOutcome,
    progress: Progress | None,
    deferred: _Deferred,
) -> None:
    """Every stream in turn, then the snapshots of what they changed; a failure of one is
    recorded in ``outcome`` and ends the streams, a crash or Ctrl-C propagates."""
    source = connector.source
    pulse = _Pulse(store, run_id)
    try:
        # Whatever a run killed while building its snapshots left queued: rebuilt by this
        # run, so counted among its profiles rebuilt.
        outcome.report.profiles_changed += drain_snapshots(store, ctx)
        for stream in connector.streams():
            _heartbeat(store, run_id)
            _note_listing_start(store, source, stream)
            _run_stream(store, connector, stream, ctx, run_id, outcome, progress, deferred, pulse)
            _retire_unlisted(store, connector, stream, ctx, run_id, outcome, deferred, pulse)
    except ContextServiceError as exc:
        outcome.status, outcome.error = "failed", exc.detail
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise  # a damaged or full store: no rerun helps, ``main`` says what is wrong
        # Another process's long write (a resolve --all, an erase's VACUUM, an import) held
        # the lock past the busy timeout: a failed run like a vendor's, resumed by the next.
        outcome.status, outcome.error = "failed", HELD_OFF
    _heartbeat(store, run_id)
    deferred.drain()  # what the pages committed so far changed, in either case


HELD_OFF = (
    "the database was busy: another process (a resolve --all, an erase, an import or another "
    f"writer) held its write lock for over {BUSY_TIMEOUT_MS // 1000} s"
)


def stopped_by(exc: BaseException) -> str:
    """The recorded error of a run that a crash or a signal stopped, in words: Ctrl-C's
    ``KeyboardInterrupt`` carries no message, and ``KeyboardInterrupt: `` says little."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted: stopped by Ctrl-C"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _live_run_of(conn: sqlite3.Connection, source: str) -> str | None:
    """Why a run of ``source`` may not start now (another one still runs), or ``None``.

    Read in the transaction that would record the new run, so two starting at once cannot
    both pass (``BEGIN IMMEDIATE`` serializes them)."""
    run = cursor_store.last_runs(conn).get(source)
    if run is None or run.status != "running":
        return None
    if run_view(run, datetime.now(UTC))["status"] != "running":
        return None  # killed without a word: the next run resumes from its cursors
    return (
        f"a {run.mode} sync of {source} is already running (process {run.pid} on {run.host}, "
        f"started {run.started_at}, last seen {run.heartbeat_at or run.started_at}); not "
        "starting another: let it finish or stop it, then sync again (`--force` if that "
        "run is gone but its host or container cannot tell)"
    )


def _heartbeat(store: Store, run_id: int) -> None:
    """A sign of life of the run between its pages."""
    with store.transaction() as conn:
        cursor_store.heartbeat(conn, run_id, utc_now())


class _Pulse:
    """The run's heartbeat while it waits on its vendor, at most every ``BEAT_WHILE_WAITING``
    seconds (on ``_clock``). Called by the runner's own thread only: while it waits for the
    fetching thread's next page (``prefetched``) and before each look-up it makes itself
    (retirement, settling ties), never inside a transaction. One short write; when another
    writer holds the lock past ``_BEAT_LOCK_WAIT``, that beat is skipped and the next call
    tries again (the pages are held off by that writer anyway)."""

    def __init__(self, store: Store, run_id: int) -> None:
        self.store, self.run_id = store, run_id
        self.last = _clock()

    def __call__(self) -> None:
        now = _clock()
        if now - self.last < BEAT_WHILE_WAITING:
            return
        try:
            with self.store.transaction(wait_s=_BEAT_LOCK_WAIT) as conn:
                cursor_store.heartbeat(conn, self.run_id, utc_now())
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            return
        self.last = now

    def before(
        self, fetch_one: Callable[[str, str], VendorObject | None]
    ) -> Callable[[str, str], VendorObject | None]:
        """``fetch_one`` with a beat (when due) before each call: a call waits at most
        ``SYNC_MAX_WAIT`` (its vendor's policy), any number of them stay in sight."""

        def fetch(kind: str, external_id: str) -> VendorObject | None:
            self()
            return fetch_one(kind, external_id)

        return fetch


def _finish_quietly(store: Store, run_id: int, outcome: SyncOutcome, deferred: _Deferred) -> None:
    """Stop the snapshot worker and record how the run ended, even if stopping fails."""
    try:
        deferred.close()
    finally:
        _finish(store, run_id, outcome)


BACKGROUND_AFTER_PAGES = 20


class _Deferred:
    """The run's deferred snapshots: queued with each page and, once a run proves long
    (``BACKGROUND_AFTER_PAGES``), built by a worker process while later pages are ingested."""

    def __init__(self, store: Store, ctx: IngestContext) -> None:
        self.store, self.ctx = store, ctx
        self.pages = 0
        self.background: BackgroundSnapshots | None = None

    def page_committed(self) -> None:
        self.pages += 1
        if self.background is not None:
            self.background.release(utc_now())
        elif self.pages == BACKGROUND_AFTER_PAGES and self.store.path != ":memory:":
            self.background = BackgroundSnapshots(
                self.store.path, self.ctx.links, self.ctx.region, window=SNAPSHOT_WINDOW
            )
        if drain_due(self.pages, self.background):
            self.drain()

    def drain(self) -> None:
        drain_snapshots(self.store, self.ctx, background=self.background)

    def close(self) -> None:
        if self.background is not None:
            self.background.close()


_RETIRE_CHUNK = 100


def _note_listing_start(store: Store, source: str, stream: Stream) -> None:
    """Remember when a stream that lists a whole kind (``lists_kind``) starts from the top, so
    that the objects its listing does not bring can be retired once it ends (``sync_listings``:
    this survives a run that is interrupted before then)."""
    kind = getattr(stream, "lists_kind", None)
    if not isinstance(kind, str):
        return
    with store.transaction() as conn:
        if cursor_store.get_cursor(conn, source, stream.name) is None:
            conn.execute(
                "INSERT OR REPLACE INTO sync_listings (source, stream, kind, since) "
                "VALUES (?, ?, ?, ?)",
                (source, stream.name, kind, utc_now()),
            )


def _retire_unlisted(
    store: Store,
    connector: Connector,
    stream: Stream,
    ctx: IngestContext,
    run_id: int,
    outcome: SyncOutcome,
    deferred: _Deferred,
    pulse: _Pulse,
) -> None:
    """Once a stream's listing of its kind has reached its end (its ``completed_listing`` names
    the kind) after starting from the top (``sync_listings``), ask the vendor about each stored
    object of the kind the listing did not bring (fetched before it started): gone or deleted,
    it is retired; otherwise its current copy is stored. A deletion whose event has expired
    (Stripe keeps 30 days of events, so a sync paused longer does a full backfill) would
    otherwise leave the object live here for good. The listing's note is dropped only once
    every object is looked up, so an interrupted retirement is finished by the next run."""
    kind = getattr(stream, "completed_listing", None)
    if not isinstance(kind, str):
        return
    key = (connector.source, stream.name)
    row = store.conn.execute(
        "SELECT since FROM sync_listings WHERE source = ? AND stream = ? AND kind = ?",
        (*key, kind),
    ).fetchone()
    if row is None:
        return
    unlisted = _unlisted(store, connector.source, kind, row[0], getattr(stream, "retirable", None))
    fetch_one = pulse.before(connector.fetch_one)
    retired = 0
    for at in range(0, len(unlisted), _RETIRE_CHUNK):
        objects = [
            fetch_one(kind, external_id)
            or VendorObject(kind, {"id": external_id}, observed_at=utc_now(), deleted=True)
            for external_id in unlisted[at : at + _RETIRE_CHUNK]
        ]
        items = [from_vendor(connector.source, obj) for obj in objects]
        with store.transaction() as conn:
            report = ingest_batch(
                store, items, ctx, defer_snapshots=True, background=deferred.background
            )
            _count_lookups(conn, run_id, report)
        outcome.report.add(report)
        retired += sum(obj.deleted for obj in objects)
    with store.transaction() as conn:
        conn.execute("DELETE FROM sync_listings WHERE source = ? AND stream = ?", key)
    if retired:
        outcome.notes.append(
            f"{stream.name}: {retired} no longer in {connector.source} since the last sync, retired"
        )


def _unlisted(store: Store, source: str, kind: str, since: str, retirable: object) -> list[str]:
    """The external ids of the stored live records of ``kind`` fetched before the listing
    started at ``since``, less those the stream's ``retirable(payload, since)`` (when it has
    one) says its listing could not show: a look-up by id cannot show them either, so a
    missing answer would not mean they are gone."""
    where = "FROM records WHERE source = ? AND kind = ? AND deleted = 0 AND fetched_at < ?"
    if not callable(retirable):  # the payloads are read only for a stream that judges them
        rows = store.conn.execute(f"SELECT external_id {where}", (source, kind, since))
        return [str(external_id) for (external_id,) in rows]
    rows = store.conn.execute(f"SELECT external_id, payload {where}", (source, kind, since))
    return [str(external_id) for external_id, payload in rows if retirable(payload, since)]


def _count_lookups(conn: sqlite3.Connection, run_id: int, report: IngestReport) -> None:
    """Count a retirement batch's records in the recorded run, as its pages' are (no page is
    counted: the run's ``pages`` are the streams' own), with a sign of life."""
    conn.execute(
        "UPDATE sync_runs SET records_seen = records_seen + ?, "
        "records_rejected = records_rejected + ?, heartbeat_at = ? WHERE id = ?",
        (report.seen, report.rejected, utc_now(), run_id),
    )


def drain_due(pages: int, background: BackgroundSnapshots | None) -> bool:
    """Whether a long backfill should stop and build the queued snapshots itself after
    ``pages`` pages: only every ``DRAIN_EVERY_PAGES`` pages, and only without a working worker
    (one that works gets the queue every ``SNAPSHOT_WINDOW`` seconds; draining as well would
    make this process build half of it, off the pages it should be ingesting)."""
    working = background is not None and background.error is None
    return pages % DRAIN_EVERY_PAGES == 0 and not working


def _needs_full(connector: Connector, cursors: dict[str, str | None], out: SyncOutcome) -> bool:
    check = getattr(connector, "needs_full_backfill", None)
    if callable(check) and cursors and check(cursors):
        out.notes.append("cursor is too old for incremental sync: running a full backfill")
        return True
    return False


def _run_stream(
    store: Store,
    connector: Connector,
    stream: Stream,
    ctx: IngestContext,
    run_id: int,
    outcome: SyncOutcome,
    progress: Progress | None,
    deferred: _Deferred,
    pulse: _Pulse,
) -> None:
    cursor = cursor_store.get_cursor(store.conn, connector.source, stream.name)
    advancing = _Advancing(f"{connector.source} {stream.name}")
    for page in prefetched(stream.pages(cursor), while_waiting=pulse):
        advancing.check(page.cursor)
        _commit_page(store, connector, stream.name, page, ctx, run_id, outcome, deferred, pulse)
        if progress:
            progress(stream.name, len(page.objects))


STALLED_PAGES = 3  # pages in a row whose cursor this run already committed: a paging loop


class _Advancing:
    """Stops a stream whose cursor does not advance: ``STALLED_PAGES`` pages in a row that
    bring back a cursor one of its last pages committed (the same page served again and again,
    or a few pages taking turns; a longer loop is the connector's ``LoopGuard``'s to catch).
    One such page is normal (an incremental run with nothing new may end on its cursor)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.recent: collections.deque[str | None] = collections.deque(maxlen=2 * STALLED_PAGES)
        self.stalled = 0

    def check(self, cursor: str | None) -> None:
        """Raise ``FatalError`` once the cursor has not advanced for ``STALLED_PAGES`` pages."""
        self.stalled = self.stalled + 1 if cursor in self.recent else 0
        if self.stalled >= STALLED_PAGES:
            shown = "none" if cursor is None else repr(cursor[:80])
            raise FatalError(
                f"{self.what}: the cursor does not advance ({self.stalled} pages in a row at "
                f"{shown}); stopping: the vendor or the connector is paging in a loop"
            )
        self.recent.append(cursor)


_AHEAD = 2  # pages fetched ahead of the one being committed
_DONE = object()


def prefetched(
    pages: Iterator[Page],
    ahead: int = _AHEAD,
    *,
    while_waiting: Callable[[], None] | None = None,
) -> Iterator[Page]:
    """The same pages, fetched by a background thread while the caller commits earlier ones.

    The vendor's answer time and the store's work overlap. Pages come out in order; an error
    (any exception, even ``SystemExit``) raised while fetching is raised here, at the page where
    it happened, so pages before it are committed and nothing after it is. When the caller stops
    early, the thread stops after at most ``ahead`` more pages. While no page is ready,
    ``while_waiting`` is called every ``BEAT_WHILE_WAITING`` seconds in the caller's thread
    (the run's heartbeat: one page may take hours of a vendor's ``Retry-After``).
    """
    box: queue.Queue[object] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                if stop.is_set():
                    return
                box.put(page)
            box.put(_DONE)
        except BaseException as exc:  # handed to the consumer, never lost in the thread
            box.put(_Failure(exc))

    worker = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            try:
                item = box.get(timeout=BEAT_WHILE_WAITING if while_waiting else None)
            except queue.Empty:
                if while_waiting is not None:
                    while_waiting()
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):  # unblock a producer waiting on a full queue
            while True:
                box.get_nowait()


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _commit_page(
    store: Store,
    connector: Connector,
    stream: str,
    page: Page,
    ctx: IngestContext,
    run_id: int,
    outcome: SyncOutcome,
    deferred: _Deferred,
    pulse: _Pulse,
) -> None:
    """Store a page and commit its cursor with it. A record the page shows with the date of
    its stored copy but other content (a change of the same second, such as a webhook applied
    since the page was read) is fetched again (``settle_ties``): which is newer cannot be told.
    A copy of the same second that another writer stores between that check and this
    transaction (a webhook) has the page settled again (``moved_since``); the last attempt is
    written as it stands."""
    source = connector.source
    objects = [from_vendor(source, o) for o in page.objects]
    for attempt in range(1, SETTLE_ATTEMPTS + 1):
        seen: Seen = {}
        items = settle_ties(
            store, connector, objects, ctx, seen=seen, fetch_one=pulse.before(connector.fetch_one)
        )
        with store.transaction() as conn:
            if attempt < SETTLE_ATTEMPTS and moved_since(conn, seen):
                continue
            report = ingest_batch(
                store, items, ctx, defer_snapshots=True, background=deferred.background
            )
            now = utc_now()
            cursor_store.set_cursor(conn, source, stream, page.cursor, now)
            cursor_store.add_progress(conn, run_id, report.seen, report.rejected, now)
        break
    outcome.pages += 1
    deferred.page_committed()
    outcome.report.add(report)
    if page.note and page.note not in outcome.notes:
        outcome.notes.append(page.note)


def _finish(store: Store, run_id: int, outcome: SyncOutcome) -> None:
    with store.transaction() as conn:
        cursor_store.finish_run(
            conn,
            run_id,
            outcome.status,
            utc_now(),
            note="; ".join(outcome.notes) or None,
            error=outcome.error,
        )
