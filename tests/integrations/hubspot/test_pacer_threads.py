"""The HubSpot pacer is shared by the threads that apply webhook deliveries at once.

The server applies each delivery in its thread pool (and a timer thread retries the waiting
ones), and every applier refetches through the one connector, so its ``Pacer`` and ``Budget``s
are used by several threads together. ``Budget.wait`` reads the head of its window, then drops
it if expired: two threads doing that at once both drop it, and the second drops a send time
that has not expired (the budget undercounts and overshoots HubSpot's limit) or pops an empty
deque (``IndexError``, which fails the delivery for good).
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from typing import Any

import pytest

from integrations.hubspot import _limits
from integrations.hubspot._limits import Budget, Pacer

# How long a thread that reads a budget's window waits for a second one to read it too. With
# the pacer's lock the second never can, so the wait always runs out; without it the second
# arrives at once. The test's outcome never depends on this length.
MEET_SECONDS = 0.5


def _meeting_deque(barrier: threading.Barrier, armed: threading.Event) -> type[deque[Any]]:
    """A deque whose head read waits (while ``armed``) for another thread's head read."""

    class Meeting(deque[Any]):
        def __getitem__(self, index: Any) -> Any:
            value = super().__getitem__(index)
            if armed.is_set():
                # Broken when no other thread could come: the bookkeeping is serialised.
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait()
            return value

    return Meeting


def test_two_threads_pacing_at_once_both_count_in_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both threads find the one send time in the window expired; each must count its own
    request, and neither may drop the other's."""
    barrier, armed = threading.Barrier(2, timeout=MEET_SECONDS), threading.Event()
    monkeypatch.setattr(_limits, "deque", _meeting_deque(barrier, armed))
    clock = [0.0]
    pacer = Pacer(sleep=lambda seconds: None, clock=lambda: clock[0])
    burst = Budget(100, 10.0)
    pacer.acquire(burst)  # sent at t=0
    clock[0] = 11.0  # its window has passed: the next two requests both find it expired
    armed.set()
    errors: list[BaseException] = []

    def send() -> None:
        try:
            pacer.acquire(burst)
        except BaseException as exc:  # recorded for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    armed.clear()
    assert errors == []
    assert list(burst._sent) == [11.0, 11.0]  # both requests counted, the expired one dropped


class _Logged(Budget):
    """A budget that also keeps every send time it counted."""

    def __init__(self, limit: int, period: float) -> None:
        super().__init__(limit, period)
        self.log: list[float] = []

    def record(self, now: float) -> None:
        super().record(now)
        self.log.append(now)


def test_many_threads_never_overshoot_a_budget() -> None:
    """Eight threads sending 50 requests each through a budget of 10 per second: every request
    is counted, and no second ever holds more than 10 of them."""
    clock = [0.0]
    clock_lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with clock_lock:
            clock[0] += seconds

    pacer = Pacer(sleep=sleep, clock=lambda: clock[0])
    budget = _Logged(10, 1.0)

    def send() -> None:
        for _ in range(50):
            pacer.acquire(budget)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(budget.log) == 400
    busiest = max(len([t for t in budget.log if start <= t < start + 1.0]) for start in budget.log)
    assert busiest <= 10


def test_a_retry_counts_against_its_own_threads_request() -> None:
    """A retry repeats the request its thread sent, not whichever request another thread sent
    last: a search's retry counts against the search budget, a plain read's does not."""
    pacer = Pacer(sleep=lambda seconds: None, clock=lambda: 0.0)
    burst, search = Budget(100, 10.0), Budget(100, 1.0)
    searched, read = threading.Event(), threading.Event()

    def searcher() -> None:
        pacer.acquire(burst, search)
        searched.set()
        read.wait(10)
        pacer.retry_sleep(0.0)  # the search is retried after the other thread's plain read

    thread = threading.Thread(target=searcher)
    thread.start()
    searched.wait(10)
    pacer.acquire(burst)
    read.set()
    thread.join(10)
    assert (len(burst._sent), len(search._sent)) == (3, 2)
