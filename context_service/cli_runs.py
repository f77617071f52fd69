"""What the long-running and read-only commands share: SIGTERM stopping a sync or an import
like Ctrl-C, and opening the store with its queued snapshots built first."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from context_service.errors import ConfigurationError
from context_service.settings import Settings
from context_service.store import Store
from context_service.sync import drain_snapshots
from context_service.wiring import ingest_context

__all__ = ["Terminated", "existing_store", "open_for_reading", "sigterm_stops_the_run"]


class Terminated(SystemExit):
    """SIGTERM (``timeout``, systemd, ``kill``) stopped a sync or an import. Raised like
    Ctrl-C's ``KeyboardInterrupt``, so the run is recorded as failed and its snapshot worker
    is stopped; ``main`` exits with status 143."""


@contextlib.contextmanager
def sigterm_stops_the_run() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``Terminated`` in the main thread; a second one
    kills the process at once. Elsewhere than in the main thread, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated("stopped by SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def open_for_reading(settings: Settings) -> Store:
    """The store, with every queued snapshot built first, as ``serve`` does at start-up: a
    command that prints or hands out snapshots never shows one queued for a rebuild (after an
    upgrade whose migration queued them, or a run that stopped before building its own)."""
    store = existing_store(settings)
    try:
        if store.conn.execute("SELECT 1 FROM snapshot_queue LIMIT 1").fetchone() is not None:
            drain_snapshots(store, ingest_context(settings))
    except BaseException:
        store.close()
        raise
    return store


def existing_store(settings: Settings) -> Store:
    """The store, which must exist already: a command that only reads would otherwise create
    an empty database wherever a mistyped ``CONTEXT_SERVICE_DB`` points, and answer that there
    is no such customer."""
    if settings.db != ":memory:" and not Path(settings.db).exists():
        raise ConfigurationError(
            f"no store at {settings.db}: CONTEXT_SERVICE_DB names no database yet (check the "
            "path, or run `context-service sync`, `import` or `demo` first)"
        )
    return Store(settings.db)
