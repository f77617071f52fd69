"""However a sync ends, its run is recorded: a Ctrl-C in the start-up drain, or in the drain
that follows a vendor failure, leaves it 'failed', never 'running' for good."""

from __future__ import annotations

from typing import Any

import pytest

from context_service.store import Store
from context_service.store.cursors import last_runs
from context_service.sync import IngestContext, drain_snapshots, run_sync, runner
from tests.sync.test_runner import ListConnector, ListStream, _pages


def _interrupt_drain_call(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    """Ctrl-C on the ``call``-th snapshot drain of the run (1: the start-up drain)."""
    real, calls = drain_snapshots, []  # the function runner.py imports

    def drain(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "drain_snapshots", drain)


def test_ctrl_c_in_the_start_up_drain_is_recorded(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupt_drain_call(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        run_sync(store, ListConnector(ListStream(_pages(2))), ctx)
    run = last_runs(store.conn)["zendesk"]
    assert run.status == "failed"
    assert run.finished_at is not None


def test_ctrl_c_in_the_drain_after_a_vendor_failure_is_recorded(
    store: Store, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupt_drain_call(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        run_sync(store, ListConnector(ListStream(_pages(3), fail_at=1)), ctx)
    run = last_runs(store.conn)["zendesk"]
    assert run.status == "failed"
    assert run.finished_at is not None
