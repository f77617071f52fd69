"""Which column feeds which canonical field: header normalization, ``--map`` and mapping files.

A header maps by itself when, normalized (``"E-mail"`` -> ``e_mail``, ``"First Name"`` ->
``first_name``), it is a field name or one of its aliases (``fields.ALIASES``). Explicit
entries (``--map COLUMN=FIELD`` or a mapping file) win over that, and ``FIELD`` may be ``-`` to
ignore a column on purpose. A target that is not a field is an error that lists the fields.

A column with a blank header (``email,,name``) feeds nothing and cannot be named by ``--map``;
it is listed among the ignored columns as ``(column 2, no header)`` when a row holds data in it
(an empty one says nothing), so its data never vanishes silently: give it a header in the file
to import it.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec

from context_service.errors import ConfigurationError
from context_service.sheets.fields import (
    ALIASES,
    FIELD_SET,
    FIELDS,
    IDENTIFYING_FIELDS,
    MULTI_VALUED,
)

IGNORE = "-"
_NON_WORD = re.compile(r"[^0-9a-z]+")


class ColumnMappingError(ConfigurationError):
    """A ``--map`` entry or mapping file is malformed or names an unknown field or column."""

    title = "Invalid column mapping"


def normalize_header(header: str) -> str:
    """``"  E-Mail Address "`` -> ``e_mail_address``: lower case, runs of non-alphanumerics to _."""
    return _NON_WORD.sub("_", header.strip().lower()).strip("_")


def auto_field(header: str) -> str | None:
    """The field a header maps to by itself, or ``None``."""
    key = normalize_header(header)
    if key in FIELD_SET:
        return key
    return ALIASES.get(key)


class ColumnMapping(msgspec.Struct, frozen=True):
    """Explicit column -> field entries; a ``None`` field ignores the column."""

    explicit: dict[str, str | None] = {}

    def merged(self, other: ColumnMapping) -> ColumnMapping:
        """This mapping with ``other``'s entries added (``other`` wins on the same column)."""
        return ColumnMapping({**self.explicit, **other.explicit})

    def field_for(self, header: str) -> str | None:
        """The field ``header`` feeds, explicit entries first; ``None`` when it feeds nothing."""
        if header in self.explicit:
            return self.explicit[header]
        stripped = header.strip()
        if stripped in self.explicit:
            return self.explicit[stripped]
        return auto_field(header)


def _target(column: str, field: str, where: str) -> str | None:
    target = field.strip()
    if target == IGNORE:
        return None
    if target not in FIELD_SET:
        raise ColumnMappingError(
            f"{where}: unknown field {target!r} for column {column!r}; "
            f"known fields: {', '.join(FIELDS)} (or {IGNORE!r} to ignore the column)"
        )
    return target


def parse_map_options(options: Iterable[str]) -> ColumnMapping:
    """``["E-Mail Adresse=email", "Notes=-"]`` -> a mapping; malformed entries are errors."""
    explicit: dict[str, str | None] = {}
    given: dict[str, str] = {}
    for option in options:
        column, sep, field = option.rpartition("=")
        if not sep or not column.strip():
            raise ColumnMappingError(f"--map {option!r}: expected COLUMN=FIELD")
        name = column.strip()
        if name in given:
            raise ColumnMappingError(
                f"--map {option!r}: the column {name!r} is already mapped by --map "
                f"{given[name]!r}; give each column one --map entry"
            )
        given[name] = option
        explicit[name] = _target(name, field, f"--map {option!r}")
    return ColumnMapping(explicit)


def load_mapping_file(path: str | Path) -> ColumnMapping:
    """Read a TOML or JSON mapping file: ``{"Column": "field", ...}``, flat or under ``columns``.

    TOML example::

        [columns]
        "E-Mail Adresse" = "email"
        "Kundennummer" = "external_id"
        "Notes" = "-"
    """
    file = Path(path)
    data = _read_mapping_document(file)
    table = data.get("columns", data)
    if not isinstance(table, Mapping):
        raise ColumnMappingError(f"{file}: 'columns' must be a table of COLUMN = FIELD")
    explicit: dict[str, str | None] = {}
    for column, field in table.items():
        if not isinstance(field, str):
            raise ColumnMappingError(f"{file}: column {column!r}: the field must be a string")
        name = str(column).strip()
        if name in explicit:  # names that differ only in the spaces around them
            raise _twice(file, name)
        explicit[name] = _target(str(column), field, str(file))
    return ColumnMapping(explicit)


def _twice(file: Path, column: str) -> ColumnMappingError:
    return ColumnMappingError(
        f"mapping file {file}: the column {column!r} is mapped twice; give each column one entry"
    )


def _json_table(file: Path) -> Any:
    """``object_pairs_hook`` for ``json.loads``, which would keep a repeated key's last value
    and drop the first silently (TOML refuses a repeated key itself)."""

    def table(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise _twice(file, key)
            out[key] = value
        return out

    return table


def _read_mapping_document(file: Path) -> Mapping[str, Any]:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ColumnMappingError(f"cannot read mapping file {file}: {exc.strerror}") from exc
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(text, object_pairs_hook=_json_table(file))
        else:
            data = tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ColumnMappingError(f"mapping file {file} is not valid: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ColumnMappingError(f"mapping file {file}: expected a table of COLUMN = FIELD")
    return data


def unnamed_label(index: int) -> str:
    """How the report names the column at ``index`` (0-based) when its header is blank."""
    return f"(column {index + 1}, no header)"


def column_names(header: Iterable[str]) -> list[str]:
    """The header's columns as a report names them: blank ones by ``unnamed_label``."""
    return [column if column.strip() else unnamed_label(i) for i, column in enumerate(header)]


class HeaderPlan(msgspec.Struct, frozen=True):
    """How one file's header row maps: ``fields[i]`` is the field of column ``i`` (or None).

    ``ignored`` names the named columns that feed nothing (not those ignored on purpose), with
    their position when several share a header;
    ``unnamed`` holds the indices of the columns with a blank header, which are reported as
    ignored only once a row is seen with data in them.
    """

    fields: list[str | None]
    ignored: list[str]
    unnamed: list[int] = []


def plan_header(
    header: list[str], mapping: ColumnMapping, check_missing: bool = True
) -> HeaderPlan:
    """Resolve a header row; clashes are errors, and so (``check_missing``) are explicit
    entries that name a column the header does not have."""
    present = {h.strip() for h in header}
    missing = [column for column in mapping.explicit if column not in present]
    if check_missing and missing:
        raise ColumnMappingError(
            f"the mapping names column(s) the file does not have: {', '.join(missing)}; "
            f"the file's columns are: {', '.join(column_names(header))}"
        )
    fields = [mapping.field_for(column) for column in header]
    _check_clashes(header, fields)
    if check_missing and IDENTIFYING_FIELDS.isdisjoint(fields):
        raise ColumnMappingError(_identifies_no_one(header))
    on_purpose = {column for column, field in mapping.explicit.items() if field is None}
    labels = _report_labels(header)
    ignored = [
        label
        for h, f, label in zip(header, fields, labels, strict=True)
        if f is None and h.strip() and h.strip() not in on_purpose
    ]
    unnamed = [i for i, column in enumerate(header) if not column.strip()]
    return HeaderPlan(fields=fields, ignored=ignored, unnamed=unnamed)


def _identifies_no_one(header: list[str]) -> str:
    """Why a header that maps no column to a field saying who a row is about is refused: every
    row would be rejected. Says what the columns are and how to fix it."""
    shown = column_names(header)
    columns = ", ".join(shown[:MAX_COLUMNS_SHOWN])
    if len(shown) > MAX_COLUMNS_SHOWN:
        columns += f" and {len(shown) - MAX_COLUMNS_SHOWN} more"
    return (
        "no column maps to a field that says who a row is about (email, phone, name, "
        "first_name, last_name, external_id or a linked id such as shopify_customer_id), so "
        f"every row would be rejected; the file's header row is: {columns}. Name the columns "
        "with --map COLUMN=FIELD (for example --map 'E-Mail=email') or a mapping file; the "
        "first row that is not empty is read as the header, so remove any title rows above it"
    )


MAX_COLUMNS_SHOWN = 20  # columns named in one message or report line; the rest are counted


def _report_labels(header: list[str]) -> list[str]:
    """How the report names each named column: by its header, with its position added when
    another column has the same header (``note (column 2)``, ``note (column 3)``), so that a
    report lists each of them rather than one name for both."""
    counts = Counter(column.strip() for column in header)
    return [
        f"{column.strip()} (column {index + 1})" if counts[column.strip()] > 1 else column
        for index, column in enumerate(header)
    ]


def _check_clashes(header: list[str], fields: list[str | None]) -> None:
    """Two columns feeding one single-valued field is an error that says how to resolve it.

    ``--map`` names a column by its header, so it cannot tell apart two columns with the same
    header: for those the advice is to rename one in the file.
    """
    seen: dict[str, int] = {}
    for index, (column, field) in enumerate(zip(header, fields, strict=True)):
        if field is None or field in MULTI_VALUED:
            continue
        if field not in seen:
            seen[field] = index
            continue
        first = header[seen[field]]
        if first.strip() == column.strip():
            raise ColumnMappingError(
                f"columns {seen[field] + 1} and {index + 1} are both named {column.strip()!r} "
                f"and both map to {field!r}; a mapping names columns by their header, so it "
                "cannot tell them apart: rename one of them in the file's header row "
                f"(or ignore both with --map {column.strip()!r}={IGNORE})"
            )
        raise ColumnMappingError(
            f"columns {first!r} and {column!r} both map to {field!r}; "
            f"map one of them elsewhere or ignore it with --map {column!r}={IGNORE}"
        )
