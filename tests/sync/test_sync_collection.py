"""A sync run makes full garbage collections rare while it goes on (they walked every object of
the process again and again, to find almost nothing) and gives the process its own thresholds
back however the run ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from context_service.models import Page
from context_service.store import Store
from context_service.sync import IngestContext, run_sync
from context_service.sync.collection import FULL_COLLECTION_EVERY
from context_service.wiring import default_mappers
from tests.sync.test_runner import ListConnector, ListStream, _pages


class _Watching(ListStream):
    """Pages that note the collector's thresholds as they are read, and may stop the run."""

    def __init__(self, interrupt: bool = False) -> None:
        super().__init__(_pages(2))
        self.seen: list[tuple[int, int, int]] = []
        self.interrupt = interrupt

    def pages(self, cursor: str | None) -> Iterator[Page]:
        for page in super().pages(cursor):
            self.seen.append(gc.get_threshold())
            if self.interrupt:
                raise KeyboardInterrupt
            yield page


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_full_collections_are_rare_during_a_sync_and_restored_after(
    store: Store, thresholds: tuple[int, int, int]
) -> None:
    stream = _Watching()
    outcome = run_sync(store, ListConnector(stream), IngestContext(default_mappers()))
    assert outcome.status == "ok", outcome.error
    assert stream.seen
    assert all(seen == (700, 10, FULL_COLLECTION_EVERY) for seen in stream.seen)
    assert gc.get_threshold() == thresholds


def test_thresholds_come_back_after_a_run_stopped_by_ctrl_c(
    store: Store, thresholds: tuple[int, int, int]
) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_sync(store, ListConnector(_Watching(interrupt=True)), IngestContext(default_mappers()))
    assert gc.get_threshold() == thresholds
