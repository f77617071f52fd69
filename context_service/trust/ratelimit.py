"""Per-key rate limits: a token bucket per key, refilled continuously.

A key may make ``per_minute`` requests a minute on average and up to ``per_minute`` at once
after a quiet spell (the bucket holds one minute of requests). Over the limit, ``take`` answers
how many seconds to wait, for a ``429`` with ``Retry-After``. Limits are per process: with
several workers each keeps its own buckets.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from context_service.errors import ContextServiceError


class RateLimited(ContextServiceError):
    """Too many requests for this key; ``headers`` carries ``Retry-After``."""

    status_code = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class RateLimiter:
    """Token buckets, one per caller (a stored key's id, a bootstrap key's name); ``clock``
    returns monotonic seconds."""

    def __init__(self, default_per_minute: int, clock: Callable[[], float]) -> None:
        self.default = default_per_minute
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, name: str, per_minute: int | None = None) -> None:
        """Spend one request of the bucket ``name``'s budget; raise ``RateLimited`` when it is
        empty."""
        limit = per_minute or self.default
        if limit <= 0:
            return
        now = self.clock()
        rate = limit / 60.0
        with self._lock:
            tokens, at = self._buckets.get(name, (float(limit), now))
            tokens = min(float(limit), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[name] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / rate))
                raise RateLimited(f"rate limit of {limit} requests a minute exceeded", wait)
            self._buckets[name] = (tokens - 1.0, now)
