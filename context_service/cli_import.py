"""``context-service import FILE``: a spreadsheet through the import path, with a progress bar
and a report that lists every rejected row by line and reason."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

from context_service.cli_identity import SQLITE_MAX_INT, bounded
from context_service.cli_runs import Terminated, remap_after_upgrade, sigterm_stops_the_run
from context_service.errors import ContextServiceError
from context_service.settings import load_settings
from context_service.store import Store
from context_service.wiring import ingest_context

if TYPE_CHECKING:
    from context_service.sheets import ImportReport


def cmd_import(args: argparse.Namespace) -> int:
    """Import ``args.file`` as source ``args.source``; print the report."""
    from context_service.sheets import (
        ColumnMapping,
        ImportReport,
        import_file,
        load_mapping_file,
        parse_map_options,
    )

    mapping = load_mapping_file(args.mapping) if args.mapping else ColumnMapping()
    mapping = mapping.merged(parse_map_options(args.map))
    settings = load_settings()
    _check_file(args.file, args.format, args.encoding)  # a file it cannot read: no store
    store = Store(settings.db)
    report = ImportReport(source=args.source, path=args.file)
    try:
        remap_after_upgrade(store, ingest_context(settings))  # rows join what this release maps
        with sigterm_stops_the_run(), _import_progress() as progress:
            task = progress.add_task(f"Importing {os.path.basename(args.file)}", total=None)
            report = import_file(
                store,
                args.file,
                args.source,
                ingest_context(settings),
                mapping=mapping,
                fmt=args.format,
                encoding=args.encoding,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                report=report,
                prune=args.prune,
            )
    except KeyboardInterrupt:
        print(f"stopped by Ctrl-C; {_what_was_kept(report)}", file=sys.stderr)
        return 128 + signal.SIGINT
    except (ContextServiceError, Terminated):
        if report.rows_read:  # stopped part-way: say what stays before the error is printed
            print(_what_was_kept(report), file=sys.stderr)
        raise
    finally:
        store.close()
    _print_import_report(report, args.show_rejections, args.prune)
    return 0


def _check_file(path: str, fmt: str | None, encoding: str | None) -> None:
    """``UnreadableFile`` for a file ``import_file`` would refuse before reading it (missing,
    a folder, an unknown format or encoding, unreadable), without parsing it: an XLSX
    workbook's shared strings, read in full on opening, would be parsed twice."""
    from context_service.sheets import UnreadableFile
    from context_service.sheets.readers import checked_sheet_file

    file, _ = checked_sheet_file(path, fmt, encoding)
    try:
        file.open("rb").close()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {file}: {exc.strerror or exc}") from exc


def _what_was_kept(report: ImportReport) -> str:
    """What an import that stopped part-way kept, and what to do next."""
    return (
        f"kept from {os.path.basename(report.path)}: {report.rows_imported} imported, "
        f"{report.rows_rejected} rejected (kept raw: context-service rejected), "
        f"{report.rows_suppressed} suppressed as erased, of the {report.rows_read} rows read; "
        "run the same command again to import the rest (rows already imported stay as they "
        "are, none is doubled); earlier rejections stay listed until an import of the file "
        "completes"
    )


def _import_progress() -> Any:
    """The progress bar, on standard error and only on a terminal: standard output holds the
    report alone, whatever it is piped to."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=(console := Console(stderr=True)),
        disable=not console.is_terminal,
        transient=True,
    )


def _print_import_report(report: ImportReport, show: int, pruning: bool = False) -> None:
    rec = report.records
    sheet = f" (sheet {report.sheet!r})" if report.sheet else ""
    print(
        f"imported {report.path}{sheet} as source {report.source!r}: {report.rows_read} rows in "
        f"{report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s): "
        f"{report.rows_imported} imported, {report.rows_rejected} rejected, "
        f"{report.rows_suppressed} suppressed as erased, {report.blank_rows} blank rows skipped"
    )
    print(
        f"records: {rec.inserted} new, {rec.updated} updated, {rec.unchanged} unchanged, "
        f"{rec.stale} stale, {rec.suppressed} suppressed as erased; "
        f"{report.profiles_rebuilt} profile snapshots rebuilt"
    )
    if report.other_sheets:
        named = ", ".join(repr(name) for name in report.other_sheets)
        print(
            f"not read: the workbook's other sheets holding data ({named}); only its first "
            "visible sheet is imported: save another as a file of its own to import it"
        )
    if report.rejections_retired:
        fixed = report.rejections_retired
        print(
            f"{fixed} earlier {'rejection' if fixed == 1 else 'rejections'} fixed (rows of "
            f"{os.path.basename(report.path)} since corrected or removed, or rows whose "
            "external_id is now imported): no longer listed by context-service rejected"
        )
    if report.rows_gone or pruning:
        print(_gone(report, pruning))
    if report.ignored_columns:
        print(
            "ignored columns (no matching field; use --map COLUMN=FIELD, or COLUMN=- to "
            "silence; a column with no header needs one in the file): "
            f"{_names_listed(report.ignored_columns, show)}"
        )
    if report.kept_fields:
        fields = ", ".join(
            f"{field} ({rows} {'row' if rows == 1 else 'rows'})"
            for field, rows in sorted(report.kept_fields.items())
        )
        print(
            "kept as stored, as the file has no column for them (a blank cell clears a field; "
            f"see the README, Spreadsheets): {fields}"
        )
    if report.unmatched_mapping:
        print(
            "the mapping names columns that no line of the file has: "
            f"{_names_listed(report.unmatched_mapping, show)} (check their spelling)"
        )
    if report.warnings:
        print(f"imported with a warning ({len(report.warnings)}):")
        _print_lines([(w.line, w.warning) for w in report.warnings], show)
    if report.rejections:
        print("rejected rows (each is kept raw in the store with its reason):")
        _print_lines([(r.line, r.reason) for r in report.rejections], show)


def _gone(report: ImportReport, pruning: bool) -> str:
    """The report's line on the records an earlier import of this file stored that it no
    longer holds (``sheets.stale``)."""
    name, gone = os.path.basename(report.path), report.rows_gone
    records = f"{gone} {'record' if gone == 1 else 'records'}"
    if pruning and report.prune_refused:
        return f"not pruned: {report.prune_refused}"
    if pruning and not gone:
        return f"pruned nothing: every record an earlier import of {name} noted is still in it"
    if not pruning:
        return (
            f"{records} an earlier import of {name} stored {'is' if gone == 1 else 'are'} no "
            "longer in it (rows corrected or removed since): kept; import it again with "
            "--prune to delete them"
        )
    line = f"pruned {records} an earlier import of {name} stored that it no longer holds: "
    line += f"{report.rows_pruned} deleted"
    if gone > report.rows_pruned:
        line += (
            f", {gone - report.rows_pruned} kept (another imported file holds them, or they "
            "were stored before this file's imports were noted)"
        )
    return line


def _names_listed(names: list[str], show: int) -> str:
    """``show`` of these names (all with 0), and how many were left out: a file of 20,000
    columns no field takes gets a line, not a page."""
    listed = names if show <= 0 else names[:show]
    text = ", ".join(listed)
    if len(listed) < len(names):
        text += f" ... and {len(names) - len(listed)} more (--show-rejections 0 lists all)"
    return text


def _print_lines(lines: list[tuple[int, str]], show: int) -> None:
    """Print ``show`` of these (line, text) pairs (all with 0) and how many were left out."""
    listed = lines if show <= 0 else lines[:show]
    for line, text in listed:
        print(f"  line {line}: {text}")
    if len(listed) < len(lines):
        print(f"  ... and {len(lines) - len(listed)} more (--show-rejections 0 lists all)")


def add_import_parser(sub: Any) -> None:
    """The ``import`` command's arguments."""
    p = sub.add_parser("import", help="import a CSV, XLSX or JSONL file as a named source")
    p.add_argument("file", help="the file to import")
    p.add_argument("--source", required=True, help="the source name its records get")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="map a column to a field (FIELD '-' ignores the column); repeatable",
    )
    p.add_argument("--mapping", default=None, help="TOML or JSON file of COLUMN = FIELD entries")
    p.add_argument(
        "--format", choices=["csv", "xlsx", "jsonl"], default=None, help="default: the extension"
    )
    p.add_argument(
        "--encoding", default=None, help="text encoding of a CSV or JSONL file (default: sniffed)"
    )
    p.add_argument(
        "--prune",
        action="store_true",
        help="delete the records an earlier import of this file stored that it no longer holds",
    )
    p.add_argument(
        "--show-rejections",
        type=bounded(0, SQLITE_MAX_INT),
        default=20,
        metavar="N",
        help="list at most N rejected rows, warnings and ignored columns (0: all; default 20)",
    )
    p.set_defaults(func=cmd_import)
