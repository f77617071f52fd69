"""By default an import's batches grow: small first (the progress bar moves, the snapshot
worker starts early), then larger (fewer commits, each rewriting the indexes' pages)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from context_service.sheets import importer
from context_service.store import Store
from tests.sheets.helpers import Importer

Write = Callable[[str, str | bytes], Path]


def _rows(count: int) -> str:
    return "email,name\n" + "".join(f"p{i}@example.com,Person {i}\n" for i in range(count))


def _batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    flush = importer._Flusher.flush

    def counted(self: importer._Flusher, batch: list, people: list, rejections: list) -> None:  # type: ignore[type-arg]
        if people or rejections:  # the last call may have nothing left
            sizes.append(len(people) + len(rejections))
        flush(self, batch, people, rejections)

    monkeypatch.setattr(importer._Flusher, "flush", counted)
    return sizes


def test_default_batches_double_up_to_the_cap(
    write: Write, import_sheet: Importer, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_ROWS", 2)
    monkeypatch.setattr(importer, "MAX_BATCH_ROWS", 8)
    sizes = _batch_sizes(monkeypatch)
    report = import_sheet(write("people.csv", _rows(25)))
    assert sizes == [2, 4, 8, 8, 3]
    assert report.rows_imported == 25
    assert store.conn.execute("SELECT count(*) FROM records").fetchone()[0] == 25


def test_a_batch_size_asked_for_stays_fixed(
    write: Write, import_sheet: Importer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_BATCH_ROWS", 8)
    sizes = _batch_sizes(monkeypatch)
    import_sheet(write("people.csv", _rows(25)), batch_rows=5)
    assert sizes == [5, 5, 5, 5, 5]
