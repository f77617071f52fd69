"""A summary read while the store's write lock is held for long (an import in another process,
or in another thread of this one) waits for the lock no longer than the LLM's own timeout: the
lease, the cache and the release are only a saving, and the reader is still served."""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx2

from context_service.llm import Summarizer
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.llm.helpers import completion, mock_client
from tests.llm.upstream import AGENT, SUMMARY

HELD_S = 6.0  # how long the "import" holds the write lock
TIMEOUT_S = 1.0  # the LLM's timeout


def _answer(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=completion(SUMMARY))


def _summarizer(store: Store) -> Summarizer:
    client = mock_client(_answer)
    client.timeout_s = TIMEOUT_S
    return Summarizer(store, client)


def _timed_read(store: Store) -> tuple[float, str, str]:
    snap = snapshot_of(store)
    started = time.monotonic()
    block = _summarizer(store).summary(snap, "agent", AGENT, "llm")
    return time.monotonic() - started, block.source, block.text


def test_a_summary_read_under_another_process_s_long_write_is_served_in_time(
    store: Store,
) -> None:
    other = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # a long import in another process
    timer = threading.Timer(HELD_S, other.execute, ("COMMIT",))
    timer.start()
    try:
        elapsed, source, text = _timed_read(store)
    finally:
        timer.join()
        other.close()
    assert (source, text) == ("llm", SUMMARY)
    assert elapsed < HELD_S - 1.5


def test_a_summary_read_under_another_thread_s_long_write_is_served_in_time(
    store: Store,
) -> None:
    writing, done = threading.Event(), threading.Event()

    def import_batch() -> None:
        with store.transaction():
            writing.set()
            done.wait(HELD_S)

    writer = threading.Thread(target=import_batch)
    writer.start()
    assert writing.wait(10)
    try:
        elapsed, source, text = _timed_read(store)
    finally:
        done.set()
        writer.join()
    assert (source, text) == ("llm", SUMMARY)
    assert elapsed < HELD_S - 1.5
