"""Per-key rate limits: a token bucket per key, refilled continuously.

A key may make ``per_minute`` requests a minute on average and up to ``per_minute`` at once
after a quiet spell (the bucket holds one minute of requests). Over the limit, ``take`` answers
how many seconds to wait, for a ``429`` with ``Retry-After``. Limits are per process: with
several workers each keeps its own buckets.

A bucket left alone for a minute is full again, the same as no bucket at all, so at most once a
minute the limiter drops every such bucket: it holds the callers of the last minute or so, not
every key (or revoked key) the process has ever seen. Time is monotonic, so a wall clock set
back or forward neither refills nor empties a bucket.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from context_service.errors import ContextServiceError

REFILL_SECONDS = 60.0  # an empty bucket is full again after this long


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
        self._swept_at = clock()

    def __len__(self) -> int:
        """How many callers' buckets are held."""
        return len(self._buckets)

    def take(self, name: str, per_minute: int | None = None) -> None:
        """Spend one request of the bucket ``name``'s budget; raise ``RateLimited`` when it is
        empty."""
        limit = per_minute or self.default
        if limit <= 0:
            return
        now = self.clock()
        rate = limit / REFILL_SECONDS
        with self._lock:
            self._sweep(now)
            tokens, at = self._buckets.get(name, (float(limit), now))
            tokens = min(float(limit), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[name] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / rate))
                raise RateLimited(f"rate limit of {limit} requests a minute exceeded", wait)
            self._buckets[name] = (tokens - 1.0, now)

    def _sweep(self, now: float) -> None:
        """Drop the buckets idle for ``REFILL_SECONDS`` (full again), at most that often; the
        caller holds the lock."""
        if 0 <= now - self._swept_at < REFILL_SECONDS:
            return
        self._swept_at = now
        self._buckets = {
            name: bucket
            for name, bucket in self._buckets.items()
            if now - bucket[1] < REFILL_SECONDS
        }
