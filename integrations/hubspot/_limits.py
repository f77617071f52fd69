"""Client-side pacing for HubSpot: request budgets per interval and the pauses HubSpot asks for.

HubSpot limits each portal to a burst of requests per 10 seconds (100 for Free/Starter, more on
higher tiers) and the search endpoints to a few requests per second, answering 429 beyond them.
``Pacer`` keeps a sliding window of send times per budget and waits, through the injected
``sleep``, before a request that would overflow one. It also reads the rate-limit headers of every
response (``observe``, the ``VendorHttp`` decide hook): when
``X-HubSpot-RateLimit-Remaining`` is 0 it pauses for ``X-HubSpot-RateLimit-Interval-Milliseconds``
before the next request, retries included (``retry_sleep``). A 429 that names no
``Retry-After`` pauses likewise until the limit it hit resets (its ``policyName``: a second for
the search limit, the 10-second interval otherwise), so backoff alone (about 8 s over all
retries at worst) cannot give up inside one 10-second window. A 429 for the daily limit (its
``policyName``, or ``X-HubSpot-RateLimit-Daily-Remaining: 0``) is not retried at all: the run
stops with HubSpot's words and resumes from its cursor next time.

Time is ``max(clock(), the end of the last wait)``, so a frozen test clock still moves forward
by what was slept, and nothing in a test really sleeps.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import httpx
import msgspec

from integrations._http import Decision

__all__ = ["Budget", "Pacer"]

REMAINING_HEADER = "X-HubSpot-RateLimit-Remaining"
INTERVAL_HEADER = "X-HubSpot-RateLimit-Interval-Milliseconds"
DEFAULT_INTERVAL_SECONDS = 10.0
SECONDLY_POLICY = "SECONDLY"  # the ``policyName`` of a 429 from the per-second search limit
DAILY_POLICY = "DAILY"  # the portal's daily limit: it resets at midnight in the portal's zone
DAILY_REMAINING_HEADER = "X-HubSpot-RateLimit-Daily-Remaining"


class Budget:
    """At most ``limit`` requests in any ``period`` seconds (a sliding window of send times)."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._sent: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds to wait from ``now`` before one more request fits."""
        while self._sent and self._sent[0] <= now - self.period:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        return self._sent[0] + self.period - now

    def record(self, now: float) -> None:
        """Count a request sent at ``now``."""
        self._sent.append(now)


class Pacer:
    """Waits before requests so that every budget holds, and after HubSpot says none are left.

    One pacer serves every thread of the connector (the server applies webhook deliveries in
    its thread pool while a timer retries waiting ones), so its bookkeeping is done under a
    lock: two threads reading a budget's window at once would both drop the same expired send
    time, losing a fresh one (the budget overshoots HubSpot's limit) or popping an empty deque.
    The lock is never held while sleeping; a thread computes its wait under it, sleeps, then
    checks again.
    """

    def __init__(self, sleep: Callable[[float], None], clock: Callable[[], float]) -> None:
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._time = float("-inf")
        self._paused_until = float("-inf")
        self._last = threading.local()  # per thread: a retry repeats that thread's request
        self.waited = 0.0

    def now(self) -> float:
        """The pacer's time: the clock, or the end of the last wait if that is later."""
        with self._lock:
            return self._now()

    def acquire(self, *budgets: Budget) -> None:
        """Wait until a pause is over and every budget has room, then count one request."""
        self._last.budgets = budgets
        self._fit(budgets, until=float("-inf"))

    def retry_sleep(self, delay: float) -> None:
        """``VendorHttp``'s wait before a retry: the longer of its delay and a pending pause.

        The retry counts against the budgets of the request it repeats.
        """
        with self._lock:
            until = self._now() + delay
        self._fit(getattr(self._last, "budgets", ()), until=until)

    def _fit(self, budgets: tuple[Budget, ...], until: float) -> None:
        """Wait until ``until``, any pause and every budget allow one more request, then count
        it in every budget, deciding and counting under the lock."""
        while True:
            with self._lock:
                now = self._now()
                delay = max(until - now, self._paused_until - now, _room(budgets, now))
                if delay <= 0:
                    for budget in budgets:
                        budget.record(now)
                    return
            self._wait(delay)

    def observe(self, response: httpx.Response) -> Decision:
        """Note a rate-limit pause the answer asks for; leave the retry decision to the rules.

        ``X-HubSpot-RateLimit-Remaining: 0`` pauses for the interval; so does a 429 without
        ``Retry-After`` (one with it is waited as it says by ``VendorHttp``).
        """
        if response.headers.get(REMAINING_HEADER, "").strip() == "0":
            self._pause(_interval_seconds(response))
        if response.status_code != 429:
            return None
        policy = _policy_name(response)
        if policy == DAILY_POLICY or _daily_spent(response):
            return False  # resets at midnight: retrying spends more of it; the run stops here
        if not response.headers.get("retry-after"):
            self._pause(_rate_limit_reset_seconds(response, policy))
        return None

    def _now(self) -> float:
        """``now``, with the lock held."""
        self._time = max(self._clock(), self._time)
        return self._time

    def _pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._now() + seconds)

    def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` without the lock; the pacer's time then moves past the wait."""
        with self._lock:
            start = self._now()
        self._sleep(seconds)
        with self._lock:
            self.waited += seconds
            self._time = max(self._clock(), self._time, start + seconds)


def _room(budgets: tuple[Budget, ...], now: float) -> float:
    """Seconds from ``now`` until every budget has room for one more request."""
    return max((budget.wait(now) for budget in budgets), default=0.0)


def _policy_name(response: httpx.Response) -> str | None:
    """The ``policyName`` of a 429's body (``SECONDLY``, ``TEN_SECONDLY_ROLLING``, ``DAILY``)."""
    try:
        policy = msgspec.json.decode(response.content).get("policyName")
    except (msgspec.DecodeError, AttributeError):
        return None
    return policy if isinstance(policy, str) else None


def _daily_spent(response: httpx.Response) -> bool:
    """Whether the headers say the day's requests are all spent (a 429 whose body names no
    policy: a proxy's page, an empty body)."""
    remaining: str = response.headers.get(DAILY_REMAINING_HEADER, "")
    return remaining.strip() == "0"


def _rate_limit_reset_seconds(response: httpx.Response, policy: str | None) -> float:
    """How long until the limit a 429 names resets: a second for the per-second (search)
    limit, else the interval the headers name (10 s when they name none)."""
    if policy == SECONDLY_POLICY and INTERVAL_HEADER not in response.headers:
        return 1.0
    return _interval_seconds(response)


def _interval_seconds(response: httpx.Response) -> float:
    """The rate-limit interval the response names, in seconds (10 s when it names none)."""
    value = response.headers.get(INTERVAL_HEADER, "").strip()
    return int(value) / 1000 if value.isdigit() else DEFAULT_INTERVAL_SECONDS
