"""Import a spreadsheet file as records of a named source, with a report of every row.

Rows stream from the reader, are translated to canonical fields, checked by the same mapper
the ingest path uses, and go to ``ingest_batch`` a few thousand at a time with snapshot
rebuilds deferred to one drain at the end (also when the import stops part-way, for the batches
it committed). A row that cannot be read or mapped is still stored
raw (with its reason) and is listed in the report with its line; nothing is dropped silently.
A row about an erased person is skipped, as every ingest path skips it, and counted as
``rows_suppressed``. Imported rows are counted as their batches commit, so a run that stops
part-way records how many it kept; the run's row in ``sync_runs`` counts each batch (a page)
and its rows read and rejected in the batch's own transaction, so even an import killed
without a word (SIGKILL) shows in ``status`` what it had committed.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from context_service.errors import ContextServiceError
from context_service.models import Mapped, RecordKey
from context_service.sheets.columns import (
    ColumnMapping,
)
from context_service.sheets.conversion import (
    Premapped,
    Rejected,
    RowConverter,
    RowRejection,
    RowWarning,
    header_checked,
)
from context_service.sheets.fields import PERSON_KIND
from context_service.sheets.kept_fields import keep_stored
from context_service.sheets.mapping import (
    check_source_name,
    map_sheet_record,
    rejected_row_key,
)
from context_service.sheets.readers import RawRow, Sheet, open_sheet
from context_service.sheets.retired import note_rejection, retire_fixed
from context_service.sheets.stale import file_key, newest_record_id, note_and_prune
from context_service.snapshot.background import BackgroundSnapshots
from context_service.store import Store
from context_service.store import cursors as cursor_store
from context_service.store.records import rejected as stored_rejections
from context_service.sync import (
    IngestContext,
    IngestReport,
    RawPayload,
    drain_snapshots,
    ingest_batch,
    utc_now,
)
from context_service.sync.collection import rare_full_collections
from context_service.trust.suppression import Guard

log = logging.getLogger(__name__)

BATCH_ROWS = 2000

_encode_payload = msgspec.json.Encoder(order="deterministic").encode  # as ingest encodes

Progress = Callable[[int, int | None], None]


class ImportReport(msgspec.Struct):
    """What an import did: rows read, imported, rejected and suppressed, and what changed in
    the store. ``rows_imported``, ``rows_rejected`` and ``rows_suppressed`` count the rows of
    committed batches only, so a run that stops part-way says what it kept."""

    source: str
    path: str
    sheet: str | None = None  # the worksheet read, for a workbook
    other_sheets: list[str] = []  # the workbook's other visible sheets holding data: not read
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    rows_suppressed: int = 0  # rows about an erased person (``trust.suppression``), skipped
    rejections_retired: int = 0  # earlier rejections this import fixed (``sheets.retired``)
    # Records an earlier import of this file took that it no longer holds (``sheets.stale``),
    # and how many of them ``prune`` deleted (the others another file still holds).
    rows_gone: int = 0
    rows_pruned: int = 0
    prune_refused: str | None = None  # why ``prune`` deleted nothing, when it could not
    blank_rows: int = 0
    records: IngestReport = msgspec.field(default_factory=IngestReport)
    profiles_rebuilt: int = 0
    ignored_columns: list[str] = []
    # Rows that kept a stored field their file has no column for, by field (``kept_fields``).
    kept_fields: dict[str, int] = {}
    unmatched_mapping: list[str] = []  # mapping entries for columns no JSONL line had
    rejections: list[RowRejection] = []
    warnings: list[RowWarning] = []
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of wall-clock time."""
        return self.rows_read / self.seconds if self.seconds else 0.0


def superseded_rejections(store: Store, source: str) -> dict[str, list[str]]:
    """The rows of ``source`` that earlier imports kept raw under a key other than the one
    they have now (``rejected_row_key``; an older version hashed the reason into the key), as
    ``current key -> stored keys``: when such a row is rejected again, its old record is deleted
    through ingest, so a reworded reason never leaves two copies of one row."""
    superseded: dict[str, list[str]] = {}
    for record in stored_rejections(store.conn, source):
        if record.mapped is not None or record.key.kind != PERSON_KIND:
            continue
        try:
            payload = msgspec.json.decode(record.payload)
        except msgspec.DecodeError:
            continue
        if not isinstance(payload, dict) or "rejected" not in payload:
            continue
        line = payload.get("line")
        if not isinstance(line, int) or isinstance(line, bool):
            continue
        current = rejected_row_key(source, line, payload.get("raw"))
        if current != record.key.external_id:
            superseded.setdefault(current, []).append(record.key.external_id)
    return superseded


def sheet_context(ctx: IngestContext, source: str) -> IngestContext:
    """``ctx`` with the spreadsheet mapper registered for ``source``."""
    return msgspec.structs.replace(ctx, mappers={**ctx.mappers, source: map_sheet_record})


def import_file(
    store: Store,
    path: str | Path,
    source: str,
    ctx: IngestContext,
    *,
    mapping: ColumnMapping | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
    report: ImportReport | None = None,
    prune: bool = False,
) -> ImportReport:
    """Import every row of ``path`` as records of ``source``; see the module docstring.

    Raises ``UnreadableFile`` or ``ColumnMappingError`` on a fatal problem (rows already
    committed stay, and their snapshots are built before it is raised; importing again after
    the fix changes only what is new). A caller that passes its own ``report`` (empty) can
    tell from it what was kept when the import stops part-way (Ctrl-C, SIGTERM, a fatal error).
    With ``prune``, the records an earlier import of this file took that it no longer holds
    are deleted (``sheets.stale``); without, they are counted in ``rows_gone``.
    """
    check_source_name(source)
    started = time.perf_counter()
    if report is None:
        report = ImportReport(source=source, path=str(path))
    sheet = open_sheet(path, fmt, encoding)  # a file that cannot be opened is no run
    report.sheet = sheet.sheet_name
    report.other_sheets = list(sheet.other_sheets)
    try:
        converter = RowConverter(
            source, mapping or ColumnMapping(), sheet.format != "jsonl", ctx.region
        )
        rows = header_checked(sheet, converter)  # a mapping that does not fit: no run either
        with store.transaction() as conn:
            run_id = cursor_store.start_run(conn, source, "import", utc_now())
        converter.superseded = superseded_rejections(store, source)
        mappers = {**ctx.mappers, source: converter.premapped}
        ingest_ctx = msgspec.structs.replace(ctx, mappers=mappers)
        try:
            with rare_full_collections.during():  # see ``sync.collection``
                flusher = _Flusher(store, ingest_ctx, report, sheet, progress, run_id)
                _run(rows, converter, flusher, batch_rows, prune)
            report.rejections_retired = _retire_fixed(store, source, report, converter)
        except ContextServiceError as exc:
            _record_run(store, run_id, report, exc.detail)
            raise
        except BaseException as exc:  # a crash or Ctrl-C: recorded, then it propagates
            _record_run(store, run_id, report, f"{type(exc).__name__}: {exc}")
            raise
    finally:
        sheet.close()
    report.blank_rows = sheet.blank_rows + converter.blank_rows
    report.ignored_columns = converter.ignored_columns()
    report.unmatched_mapping = converter.unmatched_mapping()
    report.warnings = converter.warnings
    report.seconds = time.perf_counter() - started
    _record_run(store, run_id, report, None)
    return report


def _retire_fixed(store: Store, source: str, report: ImportReport, converter: RowConverter) -> int:
    """``retire_fixed``, whose failure (a store locked past its busy timeout, say) leaves the
    earlier rejections listed and is logged, but does not turn a completed import into a
    failed run: every row of it is stored."""
    try:
        return retire_fixed(store, source, report.path, converter.seen)
    except sqlite3.Error as exc:
        log.warning("earlier rejections of %s stay listed: retiring them failed: %s", source, exc)
        return 0


def _record_run(store: Store, run_id: int, report: ImportReport, error: str | None) -> None:
    """How the import ended, as a run of its source (``context-service status``, ``/v1/sync``):
    the rows read that no committed batch counted (read before a bad line, say) are added to
    ``records_seen``, as one more page if any."""
    note = (
        f"{Path(report.path).name}: {report.rows_read} rows, {report.rows_imported} imported, "
        f"{report.rows_rejected} rejected"
    )
    if report.rows_suppressed:
        note += f", {report.rows_suppressed} suppressed as erased"
    if report.rejections_retired:
        note += f", {report.rejections_retired} earlier rejections fixed"
    with store.transaction() as conn:
        uncounted = report.rows_read - _counted_rows(conn, run_id)
        if uncounted > 0:
            cursor_store.add_progress(conn, run_id, uncounted, 0)
        status = "failed" if error else "ok"
        cursor_store.finish_run(conn, run_id, status, utc_now(), note=note, error=error)


def _counted_rows(conn: Any, run_id: int) -> int:
    """The rows the run's committed batches counted so far (``records_seen``)."""
    row = conn.execute("SELECT records_seen FROM sync_runs WHERE id = ?", (run_id,)).fetchone()
    return int(row[0]) if row else 0


def _run(
    rows: Iterator[RawRow],
    converter: RowConverter,
    flusher: _Flusher,
    batch_rows: int,
    prune: bool,
) -> None:
    store, ctx, report = flusher.store, flusher.ctx, flusher.report
    try:
        try:
            _ingest_rows(rows, converter, flusher, report, batch_rows)
            pruned = note_and_prune(
                store,
                report.source,
                file_key(report.path, report.sheet),
                converter.seen,
                ctx,
                newest_before=flusher.newest_before,
                prune=prune,
                background=flusher.background,
            )
            report.rows_gone, report.rows_pruned = pruned.stale, pruned.deleted
            report.prune_refused = pruned.refused
            report.records.add(pruned.records)
        except (Exception, KeyboardInterrupt, SystemExit):  # SIGTERM's ``Terminated`` too
            _build_committed(store, ctx, flusher.background)
            raise
        report.profiles_rebuilt = drain_snapshots(store, ctx, background=flusher.background)
    finally:
        flusher.close()


def _ingest_rows(
    rows: Iterator[RawRow],
    converter: RowConverter,
    flusher: _Flusher,
    report: ImportReport,
    batch_rows: int,
) -> None:
    """Read every row and ingest them ``batch_rows`` at a time (one transaction per batch)."""
    batch: list[RawPayload] = []
    count = 0
    for raw in rows:
        if raw.uncalculated and converter.blank(raw):
            continue
        payloads, reason = converter.payloads(raw)
        batch.extend(payloads)
        count += 1
        report.rows_read += 1
        if reason is not None:  # then ``payloads`` is the row kept raw
            note_rejection(converter, raw, payloads[0], report.path)  # ``sheets.retired``
            converter.rejections.append(Rejected(RowRejection(raw.line, reason), payloads[0]))
        if count >= batch_rows:
            _flush(flusher, converter, batch)
            batch, count = [], 0
    _flush(flusher, converter, batch)


def _flush(flusher: _Flusher, converter: RowConverter, batch: list[RawPayload]) -> None:
    """Ingest one batch with the person records of its accepted rows and the rejections of
    the others, then forget them."""
    people, converter.people = converter.people, []
    rejections, converter.rejections = converter.rejections, []
    flusher.flush(batch, people, rejections, converter.kept.take(), converter.premapped)
    converter.premapped.clear()


def _build_committed(
    store: Store, ctx: IngestContext, background: BackgroundSnapshots | None
) -> None:
    """After a fatal error or Ctrl-C: build the snapshots of the batches committed so far (as
    a failed sync does), so their profiles can be served. When that fails too (or a second
    Ctrl-C stops it), they stay queued for the next drain, and the first error is the one
    that propagates."""
    try:
        drain_snapshots(store, ctx, background=background)
    except BaseException:
        log.warning(
            "the snapshots of the rows imported so far stay queued: building them failed",
            exc_info=True,
        )


def _suppressed_rows(conn: Any, people: list[Mapped], ctx: IngestContext) -> int:
    """How many of these rows ingest skipped as about an erased person: those whose person
    record the suppression list blocks (asked in the batch's own transaction, so the list is
    the one ingest saw)."""
    guard = Guard.load(conn, ctx.region)
    return 0 if guard is None else sum(guard.blocks(person) for person in people)


def _kept_raw(conn: Any, rejections: list[Rejected], ctx: IngestContext) -> list[Rejected]:
    """The rejected rows ingest kept raw: those the suppression list does not block as about
    an erased person (asked in the batch's own transaction, with the key and text ingest gave
    them: the payload's ``id``, ``rejected_row_key``)."""
    guard = Guard.load(conn, ctx.region)
    if guard is None or not rejections:
        return rejections
    kept = []
    for rejected in rejections:
        text = _encode_payload(rejected.kept_as.payload).decode()
        key_id = str(rejected.kept_as.payload["id"])
        key = RecordKey(rejected.kept_as.source, rejected.kept_as.kind, key_id)
        if not guard.blocks_raw(key, text):
            kept.append(rejected)
    return kept


class _Flusher:
    """Sends batches to ``ingest_batch``; from the second batch on (a file worth it), changed
    profiles' snapshots are built by a worker process while the next batches are ingested."""

    def __init__(
        self,
        store: Store,
        ctx: IngestContext,
        report: ImportReport,
        sheet: Sheet,
        progress: Progress | None,
        run_id: int,
    ) -> None:
        self.store, self.ctx, self.report = store, ctx, report
        self.sheet, self.progress, self.run_id = sheet, progress, run_id
        self.batches = 0
        self.counted = 0  # of ``report.rows_read``, the rows counted in the run's row
        self.newest_before = newest_record_id(store)  # ``sheets.stale``: what it stores first
        self.background: BackgroundSnapshots | None = None

    def flush(
        self,
        batch: list[RawPayload],
        people: list[Mapped],
        rejections: list[Rejected],
        absent: dict[int, tuple[str, ...]],
        premapped: Premapped,
    ) -> None:
        """Ingest ``batch`` in one transaction; ``people`` are the person records of its
        accepted rows, counted as imported, or as suppressed, once it commits, and
        ``rejections`` its rejected rows, counted as rejected once they are stored raw (or as
        suppressed, when about an erased person). The rows in ``absent`` first keep the stored
        fields their file has no column for (``kept_fields``), mapped again in ``premapped``."""
        if batch:
            if self.batches == 1 and self.store.path != ":memory:":
                self.background = BackgroundSnapshots(
                    self.store.path, self.ctx.links, self.ctx.region
                )
            self.batches += 1
            with self.store.transaction() as conn:
                kept = keep_stored(conn, batch, absent, premapped.remember)
                records = ingest_batch(
                    self.store, batch, self.ctx, defer_snapshots=True, background=self.background
                )
                suppressed = _suppressed_rows(conn, people, self.ctx) if records.suppressed else 0
                raws = _kept_raw(conn, rejections, self.ctx) if records.suppressed else rejections
                self._count(conn, len(raws))  # with the batch, and a sign of life (``status``)
            if self.background is not None:  # a nested ingest leaves the release to its caller
                self.background.release(utc_now())
            self.report.records.add(records)
            for field, rows in kept.items():
                self.report.kept_fields[field] = self.report.kept_fields.get(field, 0) + rows
            self.report.rows_imported += len(people) - suppressed
            self.report.rows_suppressed += suppressed + len(rejections) - len(raws)
            self.report.rows_rejected += len(raws)
            self.report.rejections.extend(rejected.rejection for rejected in raws)
        elif people:  # rows that only repeat earlier rows' records: nothing new to ingest
            with self.store.transaction() as conn:
                suppressed = _suppressed_rows(conn, people, self.ctx)
                self._count(conn, 0)
            self.report.rows_imported += len(people) - suppressed
            self.report.rows_suppressed += suppressed
        if self.progress is not None:
            self.progress(self.sheet.done(), self.sheet.total)

    def _count(self, conn: Any, rejected: int) -> None:
        """Count the rows read since the last batch, ``rejected`` of them kept raw, as one
        page of the run, in the batch's transaction: a sign of life, and what it kept."""
        read = self.report.rows_read - self.counted
        cursor_store.add_progress(conn, self.run_id, read, rejected, utc_now())
        self.counted = self.report.rows_read

    def close(self) -> None:
        if self.background is not None:
            self.background.close()
