"""One webhook pass at a time per server (app), in this process.

Every acknowledged delivery starts a pass over the pending inbox, and the startup drain and
the retry timer start more. Passes that run side by side each read the same pending rows and
each fetch the same objects from the vendor before any of them writes (a review counted seven
refetches of one Stripe customer in a burst): rate limits spent several times over, nothing
applied sooner. ``OnePass.run`` lets one pass run; a caller that finds one running asks it to
go round once more (the delivery it stored is then seen) and returns at once.

Each app holds its own gate (its passes use its own vendor clients). ``stop`` (the app shutting
down) makes the running pass end after the delivery in hand and every later call return at
once, so no pass outlives those clients; another app on the same store has a gate of its own
and goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class OnePass:
    """Runs a pass in one thread at a time; a call made meanwhile makes it run once more."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self._stopped = threading.Event()

    @property
    def stopped(self) -> bool:
        """Whether ``stop`` was called: a pass ends at its next row."""
        return self._stopped.is_set()

    def stop(self) -> None:
        """Let no pass start, and the running one end after the delivery in hand (for good)."""
        self._stopped.set()

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
