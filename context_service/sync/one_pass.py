"""One webhook pass at a time per store, in this process.

Every acknowledged delivery starts a pass over the pending inbox, and the startup drain and
the retry timer start more. Passes that run side by side each read the same pending rows and
each fetch the same objects from the vendor before any of them writes (a review counted seven
refetches of one Stripe customer in a burst): rate limits spent several times over, nothing
applied sooner. ``OnePass.run`` lets one pass run; a caller that finds one running asks it to
go round once more (the delivery it stored is then seen) and returns at once.

``stop`` (an app shutting down) makes the running pass end after the delivery in hand and
every later call return at once, so no pass outlives the vendor clients it uses; ``start``
(an app starting on the store) lets passes run again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from context_service.store.per_store import PerStore


class OnePass:
    """Runs a pass in one thread at a time; a call made meanwhile makes it run once more."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self._stopped = threading.Event()

    @property
    def stopped(self) -> bool:
        """Whether ``stop`` was called (and ``start`` not since): a pass ends at its next row."""
        return self._stopped.is_set()

    def stop(self) -> None:
        """Let no pass start, and the running one end after the delivery in hand."""
        self._stopped.set()

    def start(self) -> None:
        """Let passes run (again)."""
        self._stopped.clear()

    def run(self, one_pass: Callable[[], int]) -> int:
        """``one_pass()`` now, and again while calls came in during it; return what the runs
        returned together, or 0 when another thread's pass will run for this call (or the
        passes are stopped)."""
        with self._lock:
            if self._running or self.stopped:
                self._again = not self.stopped
                return 0
            self._running = True
        total = 0
        try:
            while True:
                total += one_pass()
                with self._lock:  # one locked step: a call now either sees us running or runs
                    if not self._again or self.stopped:
                        self._running = False
                        return total
                    self._again = False
        except BaseException:
            with self._lock:
                self._running = False
            raise


_PASSES: PerStore[OnePass] = PerStore(OnePass)


def one_pass_of(store: object) -> OnePass:
    """The ``OnePass`` of ``store`` (one per store object, for as long as it lives)."""
    return _PASSES.of(store)
