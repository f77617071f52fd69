"""One webhook pass at a time per store, in this process.

Every acknowledged delivery starts a pass over the pending inbox, and the startup drain and
the retry timer start more. Passes that run side by side each read the same pending rows and
each fetch the same objects from the vendor before any of them writes (a review counted seven
refetches of one Stripe customer in a burst): rate limits spent several times over, nothing
applied sooner. ``OnePass.run`` lets one pass run; a caller that finds one running asks it to
go round once more (the delivery it stored is then seen) and returns at once.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable


class OnePass:
    """Runs a pass in one thread at a time; a call made meanwhile makes it run once more."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def run(self, one_pass: Callable[[], int]) -> int:
        """``one_pass()`` now, and again while calls came in during it; return what the runs
        returned together, or 0 when another thread's pass will run for this call."""
        with self._lock:
            if self._running:
                self._again = True
                return 0
            self._running = True
        total = 0
        try:
            while True:
                total += one_pass()
                with self._lock:
                    if not self._again:
                        return total
                    self._again = False
        finally:
            with self._lock:
                self._running = False


_PASSES: weakref.WeakKeyDictionary[object, OnePass] = weakref.WeakKeyDictionary()
_PASSES_LOCK = threading.Lock()


def one_pass_of(store: object) -> OnePass:
    """The ``OnePass`` of ``store`` (one per store object, for as long as it lives)."""
    with _PASSES_LOCK:
        found = _PASSES.get(store)
        if found is None:
            found = _PASSES[store] = OnePass()
        return found
