"""One LLM call per uncached summary across processes: API workers and the refresher share a
SQLite store, and a lease row there lets one of them make the call while the others wait for
its cached summary (or its reason to fall back)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx2
import pytest

from context_service.audience import SummaryBlock
from context_service.llm import Summarizer, lease
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.llm.helpers import completion, copy_db, mock_client
from tests.llm.upstream import (
    AGENT,
    SUMMARY,
    Outcome,
    Upstream,
    read,
    read_in_child,
    summarizer,
    upstream,
)

SPAWN = multiprocessing.get_context("spawn")
PATIENCE_S = 90.0  # generous: spawned readers import the whole service first


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> str:
    return str(copy_db(demo_db, tmp_path))


def _leases(db: str) -> list[tuple[Any, ...]]:
    store = Store(db)
    try:
        return store.conn.execute(
            "SELECT holder, expires_at, done, reason FROM llm_summary_leases"
        ).fetchall()
    finally:
        store.close()


def _held(db: str) -> list[tuple[Any, ...]]:
    return [row for row in _leases(db) if not row[2]]


class Readers(NamedTuple):
    procs: list[Any]
    waiting: Any  # released by each reader once it waits for another process's call
    out: Any  # their outcomes


def _readers(db: str, base_url: str, timeout_s: float, margin_s: float, count: int) -> Readers:
    """``count`` spawned readers, started, ready, and then asking at once."""
    ready, waiting, go, out = SPAWN.Semaphore(0), SPAWN.Semaphore(0), SPAWN.Event(), SPAWN.Queue()
    procs = [
        SPAWN.Process(
            target=read_in_child,
            args=(db, base_url, timeout_s, margin_s, ready, waiting, go, out),
            daemon=True,
        )
        for _ in range(count)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        assert ready.acquire(timeout=PATIENCE_S)
    go.set()
    return Readers(procs, waiting, out)


def _all_asking(readers: Readers, llm: Upstream) -> None:
    """Return once one reader's call has reached ``llm`` and every other one waits for it (or,
    were they not to share it, has made a call of its own)."""
    assert llm.arrived.wait(PATIENCE_S)
    waiting, deadline = 0, time.monotonic() + PATIENCE_S
    while waiting + llm.requests - 1 < len(readers.procs) - 1:
        assert time.monotonic() < deadline
        waiting += readers.waiting.acquire(timeout=0.05)


def _outcomes(readers: Readers) -> list[Outcome]:
    outcomes = [readers.out.get(timeout=PATIENCE_S) for _ in readers.procs]
    for proc in readers.procs:
        proc.join(PATIENCE_S)
    return outcomes


@pytest.fixture
def reap() -> Iterator[list[Any]]:
    """Processes to kill should a test fail before it joined them."""
    procs: list[Any] = []
    yield procs
    for proc in procs:
        if proc.is_alive():
            proc.kill()
            proc.join(10)


def test_processes_asking_at_once_for_one_uncached_summary_make_one_llm_call(
    db: str, reap: list[Any]
) -> None:
    with upstream(gated=True) as llm:
        readers = _readers(db, llm.url, timeout_s=30.0, margin_s=2.0, count=3)
        reap.extend(readers.procs)
        _all_asking(readers, llm)
        llm.gate.set()
        outcomes = _outcomes(readers)
        assert llm.requests == 1
    assert sorted(outcomes) == [
        ("llm", SUMMARY, None),
        ("llm-cache", SUMMARY, None),
        ("llm-cache", SUMMARY, None),
    ]
    assert _held(db) == []


def test_a_failing_upstream_is_called_once_and_its_lease_is_released(
    db: str, reap: list[Any]
) -> None:
    # Leases that would outlast the whole test: a lease left held would show as a timeout.
    with upstream(status=503, gated=True) as llm:
        readers = _readers(db, llm.url, timeout_s=30.0, margin_s=600.0, count=2)
        reap.extend(readers.procs)
        _all_asking(readers, llm)
        llm.gate.set()
        outcomes = _outcomes(readers)
        assert llm.requests == 1  # the waiter fell back with its reason, and did not ask again
        assert outcomes == [("deterministic", outcomes[0][1], "HTTP 503 from the LLM endpoint")] * 2
        assert _held(db) == []

        llm.status = 200
        store = Store(db)
        try:
            after = read(store, summarizer(store, llm.url, timeout_s=30.0, margin_s=600.0))
        finally:
            store.close()
        assert after == ("llm", SUMMARY, None)
        assert llm.requests == 2


def test_a_lease_left_by_a_killed_holder_is_taken_over_once_it_expires(
    db: str, reap: list[Any]
) -> None:
    with upstream(hang_first=True) as llm:
        readers = _readers(db, llm.url, timeout_s=3.0, margin_s=5.0, count=1)
        reap.extend(readers.procs)
        assert llm.arrived.wait(PATIENCE_S)
        readers.procs[0].kill()
        readers.procs[0].join(PATIENCE_S)
        [(_, expires_at, _, _)] = _held(db)  # the dead holder's lease is still there

        store = Store(db)
        try:
            # Before it expires, a reader waits (here for its own short deadline) and falls
            # back rather than call again.
            early = read(store, summarizer(store, llm.url, timeout_s=0.5, margin_s=5.0))
            assert early[0] == "deterministic"
            assert early[2] is not None
            assert early[2].startswith("timeout")
            assert llm.requests == 1
            waited = 0.0
            while time.time() <= expires_at and waited < PATIENCE_S:
                time.sleep(0.1)
                waited += 0.1
            late = read(store, summarizer(store, llm.url, timeout_s=30.0, margin_s=5.0))
        finally:
            store.close()
        assert late == ("llm", SUMMARY, None)
        assert llm.requests == 2
    assert _held(db) == []


def test_two_stores_on_one_file_share_one_call(db: str) -> None:
    """Two summarizers with stores of their own (what two processes have) in two threads."""
    calls: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        threading.Event().wait(0.5)
        return httpx2.Response(200, json=completion(SUMMARY))

    stores = [Store(db), Store(db)]
    blocks: list[SummaryBlock] = []
    try:
        summarizers = [Summarizer(store, mock_client(handler)) for store in stores]
        snap = snapshot_of(stores[0])

        def ask(the_summarizer: Summarizer) -> None:
            blocks.append(the_summarizer.summary(snap, "agent", AGENT, "llm"))

        threads = [threading.Thread(target=ask, args=(s,)) for s in summarizers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(PATIENCE_S)
    finally:
        for store in stores:
            store.close()
    assert len(calls) == 1
    assert [block.text for block in blocks] == [SUMMARY] * 2


def test_a_cache_hit_reads_no_lease(db: str) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=completion(SUMMARY))

    store = Store(db)
    try:
        the_summarizer = Summarizer(store, mock_client(handler))
        snap = snapshot_of(store)
        assert the_summarizer.summary(snap, "agent", AGENT, "llm").source == "llm"
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        store.db.conn.set_trace_callback(statements.append)
        try:
            assert the_summarizer.summary(snap, "agent", AGENT, "llm").source == "llm-cache"
        finally:
            store.conn.set_trace_callback(None)
            store.db.conn.set_trace_callback(None)
    finally:
        store.close()
    assert statements
    assert not [s for s in statements if "lease" in s.lower()]
    assert not [s for s in statements if s.lstrip().upper().startswith("BEGIN")]


def test_a_lease_is_free_once_released_or_expired_and_old_rows_are_swept(db: str) -> None:
    store = Store(db)
    try:
        assert lease.claim(store, "k", "a", ttl_s=600) is None
        held = lease.claim(store, "k", "b", ttl_s=600)
        assert held is not None
        assert (held.holder, held.done) == ("a", False)
        lease.release(store, "k", "b", "not b's to end")  # someone else's lease stays held
        assert lease.read(store, "k") == held
        lease.release(store, "k", "a", "HTTP 503 from the LLM endpoint")
        failed = lease.read(store, "k")
        assert failed is not None
        assert (failed.done, failed.reason) == (True, "HTTP 503 from the LLM endpoint")
        assert lease.claim(store, "k", "b", ttl_s=-1) is None  # b's lease has expired at once
        assert lease.claim(store, "k", "c", ttl_s=600) is None  # c takes it over
        lease.release(store, "k", "c", None)
        assert lease.read(store, "k") is None
        assert lease.claim(store, "old", "d", ttl_s=-lease.KEEP_S - 1) is None
        assert lease.claim(store, "k", "e", ttl_s=600) is None
        assert lease.read(store, "old") is None  # swept
    finally:
        store.close()
