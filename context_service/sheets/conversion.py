"""Rows of a sheet turned into payloads for one source: the plan of each header, the canonical
row, the mapped records (checked by the mapper ingest uses), the rows that repeat a record,
and the rows rejected with their reason (kept raw, never dropped). ``importer`` sends what this
makes to ingest, in this process or, for a large file, from a second one (``reader_process``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import msgspec

from context_service.errors import MappingError
from context_service.identity.normalize import normalize_phone
from context_service.models import Mapped
from context_service.sheets.admission import RecordsSeen
from context_service.sheets.columns import (
    ColumnMapping,
    ColumnMappingError,
    HeaderPlan,
    plan_header,
    unnamed_label,
)
from context_service.sheets.kept_fields import KeptFields, absent_fields
from context_service.sheets.mapping import (
    canonical_row,
    map_sheet_record,
    rejected_payload,
    row_payloads,
)
from context_service.sheets.readers import RawRow, Sheet
from context_service.sync import RawPayload


class RowRejection(msgspec.Struct):
    """A row that was not imported: where it is and why. It is kept raw in ``records``."""

    line: int
    reason: str


class RowWarning(msgspec.Struct):
    """A row that was imported with something the report must say: a value that cannot be
    used to match it (a phone that is not a phone number, kept with the row), or a record it
    repeats from an earlier row with other data (the earlier row's is kept)."""

    line: int
    warning: str


class Premapped:
    """The spreadsheet mapper for one import: the record the converter already mapped for a
    payload (the same object, still in the batch), so ingest does not map each row twice."""

    def __init__(self) -> None:
        self.mapped: dict[int, tuple[Mapping[str, Any], Mapped]] = {}

    def remember(self, payload: Mapping[str, Any], mapped: Mapped) -> None:
        self.mapped[id(payload)] = (payload, mapped)

    def clear(self) -> None:
        self.mapped.clear()

    def __call__(self, kind: str, payload: Mapping[str, Any]) -> Mapped:
        hit = self.mapped.pop(id(payload), None)
        if hit is not None and hit[0] is payload:
            return hit[1]
        return map_sheet_record(kind, payload)


class RowConverter:
    """Turns ``RawRow``s into payloads for one source, caching one plan per header."""

    def __init__(
        self, source: str, mapping: ColumnMapping, strict_header: bool, region: str = "US"
    ) -> None:
        self.source = source
        self.region = region
        self.warnings: list[RowWarning] = []
        self.mapping = mapping
        self.strict_header = strict_header
        self.plans: dict[tuple[str, ...], HeaderPlan] = {}
        self.unnamed_filled: dict[tuple[str, ...], set[int]] = {}
        self.premapped = Premapped()
        self.kept = KeptFields()  # rows whose file leaves fields to the stored record
        self.absent: dict[tuple[str, ...], tuple[str, ...]] = {}  # by header, ``kept_fields``
        self.seen = RecordsSeen()
        self.people: list[Mapped] = []  # the person record of each row accepted since a flush
        self.rejections: list[Rejected] = []  # the rows rejected since a flush
        self.superseded: dict[str, list[str]] = {}  # see ``superseded_rejections``
        self.blank_rows = 0  # rows of uncalculated formulas feeding nothing: see ``blank``

    def plan(self, header: tuple[str, ...]) -> HeaderPlan:
        plan = self.plans.get(header)
        if plan is None:
            plan = plan_header(list(header), self.mapping, check_missing=self.strict_header)
            self.plans[header] = plan
        return plan

    def blank(self, raw: RawRow) -> bool:
        """Whether the row holds nothing but formulas never calculated in columns that feed no
        field (a helper column filled down past the data): a blank row, counted as one, as it
        was before such formulas were looked for. One in a column that feeds a field is a row
        (rejected, naming the formula)."""
        if not raw.uncalculated or raw.error is not None:
            return False
        if any(cell is not None for cell in raw.cells):
            return False
        try:
            fields = self.plan(raw.header).fields
        except ColumnMappingError:
            return False
        if any(fields[index] is not None for index, _ in raw.uncalculated):
            return False
        self.blank_rows += 1
        return True

    def payloads(self, raw: RawRow) -> tuple[list[RawPayload], str | None]:
        """The row's payloads, and the reason when it is rejected (then one raw payload)."""
        if raw.error is not None:
            return self._rejected(raw, raw.error, raw.raw)
        try:
            plan = self.plan(raw.header)
        except ColumnMappingError as exc:
            if self.strict_header:
                raise
            return self._rejected(raw, exc.detail, _as_dict(raw))
        if plan.unnamed:
            self._note_unnamed(raw, plan)
        if raw.nested or raw.uncalculated:
            unusable = _unusable_cells(raw, plan)
            if unusable is not None:
                return self._rejected(raw, *unusable)
        row = canonical_row(plan.fields, raw.cells)
        try:
            items = row_payloads(self.source, row)
            mapped = [map_sheet_record(kind, payload) for kind, payload in items]
        except MappingError as exc:
            return self._rejected(raw, exc.detail, _as_dict(raw))
        admission = self.seen.admit(raw.line, items, mapped)
        if admission.conflict is not None:
            return self._rejected(raw, admission.conflict, _as_dict(raw))
        if admission.repeats:
            self.warnings.extend(RowWarning(raw.line, note) for note in admission.repeats)
        self.people.append(mapped[0])  # ``row_payloads`` puts the person first
        fresh = admission.fresh
        if 0 in fresh and items[0][1].get("external_id"):
            self.kept.note(items[0][1], self._absent(raw.header, plan))
        for index in fresh:
            self.premapped.remember(items[index][1], mapped[index])
            self._check_phones(raw.line, mapped[index])
        return [RawPayload(self.source, *items[index]) for index in fresh], None

    def _absent(self, header: tuple[str, ...], plan: HeaderPlan) -> tuple[str, ...]:
        absent = self.absent.get(header)
        if absent is None:
            absent = self.absent[header] = absent_fields(plan.fields)
        return absent

    def _check_phones(self, line: int, record: Mapped) -> None:
        """Note each phone that is not a phone number in the import's region: it stays with
        the row but cannot match it to anyone, which the report must say."""
        person = record.person
        for phone in person.phones if person is not None else []:
            if normalize_phone(phone, self.region) is None:
                self.warnings.append(
                    RowWarning(
                        line,
                        f"phone: not a phone number {phone[:40]!r} in region {self.region} "
                        "(kept with the row, not used to match it)",
                    )
                )

    def _rejected(self, raw: RawRow, reason: str, original: Any) -> tuple[list[RawPayload], str]:
        """The row kept raw (first), then the deletion of each earlier record of the same row
        kept under another key (``superseded_rejections``), so one copy of it stays."""
        payload = rejected_payload(self.source, raw.line, reason, original)
        earlier = self.superseded.pop(payload["id"], [])
        deletions = [RawPayload(self.source, "row", {"id": old}, deleted=True) for old in earlier]
        return [RawPayload(self.source, "row", payload), *deletions], reason

    def _note_unnamed(self, raw: RawRow, plan: HeaderPlan) -> None:
        """Remember the blank-header columns this row holds data in (they are reported)."""
        for index in plan.unnamed:
            cell = raw.cells[index] if index < len(raw.cells) else None
            if cell is not None and cell.strip():
                self.unnamed_filled.setdefault(raw.header, set()).add(index)

    def unmatched_mapping(self) -> list[str]:
        """The explicit mapping's columns that no row's header had. A CSV or XLSX header is
        checked against them before its rows are read (``plan_header``); a JSONL file's keys
        vary by line, so a mistyped entry is only known once every line was read."""
        if self.strict_header:
            return []
        present: set[str] = set()
        for header in self.plans:
            present.update(column.strip() for column in header)
        return [column for column in self.mapping.explicit if column not in present]

    def ignored_columns(self) -> list[str]:
        """Columns that fed nothing: named ones, then blank-header ones that held data."""
        seen: dict[str, None] = {}
        for header, plan in self.plans.items():
            seen.update(dict.fromkeys(plan.ignored))
            filled = sorted(self.unnamed_filled.get(header, ()))
            seen.update(dict.fromkeys(unnamed_label(index) for index in filled))
        return list(seen)


def _nested_mapped(raw: RawRow, plan: HeaderPlan) -> str | None:
    """Why the row is rejected when a column holding a list of objects maps to a field."""
    for column in raw.nested:
        field = plan.fields[raw.header.index(column)]
        if field is not None:
            return (
                f"field {column!r} holds a list of objects, which cannot fill {field!r}; "
                f"map it elsewhere or ignore it with --map {column!r}=-"
            )
    return None


def _unusable_cells(raw: RawRow, plan: HeaderPlan) -> tuple[str, Any] | None:
    """Why the row is rejected, and what keeps it raw, when a cell that feeds a field holds
    no value the row can use (a list of objects, a formula never calculated); else None."""
    reason = _nested_mapped(raw, plan) if raw.nested else None
    if reason is not None:
        return reason, raw.raw
    reason = _uncalculated_mapped(raw, plan) if raw.uncalculated else None
    if reason is not None:
        return reason, _as_dict(_with_formulas(raw))
    return None


def _uncalculated_mapped(raw: RawRow, plan: HeaderPlan) -> str | None:
    """Why the row is rejected when a column that feeds a field holds a formula that was never
    calculated: its value is unknown, not empty, so the row is not imported without it (as a
    formula's error such as ``#N/A`` is no value either). In a column that feeds nothing it
    changes nothing, and the row is imported."""
    named = [
        f"{raw.header[index].strip() or unnamed_label(index)!r} ({formula})"
        for index, formula in raw.uncalculated
        if plan.fields[index] is not None
    ]
    if not named:
        return None
    which = "column" if len(named) == 1 else "columns"
    return (
        f"{which} {', '.join(named)}: a formula with no saved value (the workbook was written "
        "by a program that does not calculate formulas); open the file in Excel or "
        "LibreOffice and save it there to calculate it, then import it again"
    )


def _with_formulas(raw: RawRow) -> RawRow:
    """The row with its uncalculated cells holding their formulas (to keep it raw)."""
    cells = list(raw.cells)
    for index, formula in raw.uncalculated:
        cells[index] = formula
    return raw._replace(cells=cells)


def _as_dict(raw: RawRow) -> dict[str, str]:
    """A rejected row's cells by column, keeping those of blank or repeated headers too."""
    out: dict[str, str] = {}
    for index, (column, cell) in enumerate(zip(raw.header, raw.cells, strict=False)):
        if cell is None:
            continue
        key = column if column.strip() else unnamed_label(index)
        out[f"{key} (column {index + 1})" if key in out else key] = cell
    return out


def header_checked(sheet: Sheet, converter: RowConverter) -> Iterator[RawRow]:
    """The sheet's rows, read up to the first one after the header, whose plan is made now:
    a mapping that does not fit a CSV or XLSX header (a column the file lacks, two columns for
    one field) is a usage error raised here, before the import is recorded as a run, even for
    a file with no row under its header. An error reading that far (a file with no header, a
    first row that cannot be decoded) comes from the rows returned, inside the run, as it
    would from any later row. A JSONL file's keys vary by line: see ``unmatched_mapping``."""
    rows = sheet.rows()
    ahead: list[RawRow] = []
    failed: Exception | None = None
    try:
        ahead.append(next(rows))
    except StopIteration:
        pass
    except Exception as exc:  # a crash reading the file too: recorded as a failed run
        failed = exc
    if converter.strict_header and sheet.header is not None:
        converter.plan(sheet.header)
    return _raising(failed) if failed is not None else itertools.chain(ahead, rows)


def _raising(exc: Exception) -> Iterator[RawRow]:
    """Rows that raise ``exc`` when the first is asked for."""
    yield from ()
    raise exc


class Rejected(NamedTuple):
    """A rejected row: what the report says of it, and the payload that keeps it raw."""

    rejection: RowRejection
    kept_as: RawPayload
