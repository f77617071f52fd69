"""The shortcuts of the row path give what the general path gives: single values without a
separator, phones without a float tail, record digests, and the collector thresholds an import
sets for its duration only."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import pytest

from context_service.models import Mapped
from context_service.sheets.admission import RecordsSeen, _data
from context_service.sheets.mapping import (
    _SPLIT,
    _values,
    _without_float_tail,
    map_sheet_record,
    row_payloads,
)
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("email", "ann@example.com"),
        ("email", "  ann@example.com  "),
        ("email", "ann@example.com; bo@example.com"),
        ("email", "ann@example.com,bo@example.com, "),
        ("email", " ; "),
        ("email", " "),
        ("phone", "(415) 555-0199"),
        ("phone", "415 555 0199; +44 20 7946 0958"),
        ("phone", "415,555,0199"),  # a comma does not split phones
        ("phone", "\t"),
    ],
)
def test_values_match_the_split(field: str, raw: str) -> None:
    expected = [v for part in _SPLIT[field].split(raw) if (v := part.strip())]
    assert _values({field: raw}, field) == expected


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("4155550123", "4155550123"),
        ("(415) 555-0123", "(415) 555-0123"),
        ("4155550123.0", "4155550123"),
        ("+14155550123.00", "+14155550123"),
        ("4.155550123E9", "4155550123"),
        ("4.15555E+11", "4.15555E+11"),  # digits lost: left as it is
        ("415.555.0123", "415.555.0123"),
    ],
)
def test_float_tail(phone: str, expected: str) -> None:
    assert _without_float_tail(phone) == expected


def test_data_digest_leaves_updated_at_out() -> None:
    payload = {"source": "crm", "email": "a@example.com", "name": "A"}
    assert _data(payload) == _data({**payload, "updated_at": "2026-01-01"})
    assert _data(payload) == _data(dict(reversed(payload.items())))
    assert _data(payload) != _data({**payload, "name": "B"})
    nested = {"source": "crm", "tags": [{"a": 1}]}  # a JSONL list: compared by its text
    assert _data(nested) == _data(dict(reversed(nested.items())))


def _admit(seen: RecordsSeen, line: int, row: dict[str, str]) -> tuple[list[int], str | None, int]:
    items = row_payloads("crm", row)
    mapped: list[Mapped] = [map_sheet_record(kind, payload) for kind, payload in items]
    admission = seen.admit(line, items, mapped)
    return admission.fresh, admission.conflict, len(admission.repeats)


def test_admission_fresh_repeat_and_conflict() -> None:
    seen = RecordsSeen()
    ann = {"external_id": "7", "email": "ann@example.com", "name": "Ann Lee"}
    order = {"order_number": "1001", "order_total": "10.00"}
    assert _admit(seen, 2, {**ann, **order}) == ([0, 1], None, 0)
    assert _admit(seen, 3, ann) == ([], None, 0)  # the same record again: not sent again
    assert _admit(seen, 4, {**ann, "name": "ANN  lee"}) == ([], None, 1)  # other data: noted
    assert _admit(seen, 5, {**ann, "company": "Acme"}) == ([], None, 1)
    fresh, conflict, _ = _admit(seen, 6, {**ann, "email": "bo@example.com", **order})
    assert (fresh, conflict is not None) == ([], True)  # someone else under the same id


def test_an_import_raises_full_collection_threshold_only_while_it_runs(
    write: Write, import_sheet: Importer
) -> None:
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    path = write("p.csv", "Email,Name\nann@example.com,Ann\nbo@example.com,Bo\n")
    import_sheet(path, progress=lambda done, total: during.append(gc.get_threshold()))
    assert gc.get_threshold() == before
    assert during
    assert all(t[:2] == before[:2] and t[2] >= max(before[2], 1000) for t in during)


def test_thresholds_come_back_when_an_import_fails(write: Write, import_sheet: Importer) -> None:
    before = gc.get_threshold()

    def stop(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_sheet(write("p.csv", "Email\nann@example.com\n"), progress=stop)
    assert gc.get_threshold() == before
