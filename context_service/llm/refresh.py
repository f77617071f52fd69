"""Refresh cached LLM summaries off the request path when a profile changes.

A summary is cached per (profile, version, audience, prompt version, model). Any change to a
profile bumps its version, so the next ``summary=llm`` request for it misses the cache and pays
an LLM call while the caller waits. The refresher makes those summaries again ahead of time:
it looks for cached summaries whose profile has a newer snapshot than the summary (someone
asked for this profile and audience before, and the data has moved on since) and asks the
``Summarizer`` for the current version, which stores it. Only what was asked for before is
refreshed, never the whole store, and at most ``batch`` profiles per round.

``run_once()`` does one round, synchronously; ``start()`` runs rounds in a daemon thread every
``interval_s`` seconds or as soon as ``wake()`` is called (after an ingest, say), and ``stop()``
ends it. A round stops at the first failure that says the LLM endpoint is down (a timeout, no
connection, a 429 or a 5xx, or a 401, 402, 403 or 404: ``client.unavailable``), or at the
second summary in a row answered with no chat completion at all (no choices, a body that does
not parse: ``client.malformed``; the first alone may be a glitch), and leaves the rest for the
next round, so a down LLM is not hammered. A summary whose answer is unusable (it
fails grounding, carries an instruction a customer slipped in, is empty...) is only skipped:
the round goes on with the next, and that profile and audience are not asked again for
``backoff_s``, doubled after each further failure up to ``max_backoff_s`` (remembered in this
process, and forgotten when the profile changes again), so one profile the model always
answers badly neither starves the others nor costs a call every round. Each summary is made
with the audience's default field view (the view of a request without a key of its own).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

import msgspec

from context_service.audience import Audience, FieldPolicy
from context_service.llm.cache import view_key
from context_service.llm.client import malformed, unavailable
from context_service.llm.prompts import latest
from context_service.llm.summarize import CONTEXT_PROMPT, Summarizer
from context_service.models import Snapshot
from context_service.snapshot.lookup import current_snapshot

log = logging.getLogger("context_service.llm")
_decode = msgspec.json.Decoder(Snapshot).decode


class Stale(NamedTuple):
    """A cached summary whose profile has a newer version."""

    profile_id: str
    audience: str
    cached_version: int
    current_version: int


class Round(NamedTuple):
    """What one round did: summaries made again, failed (skipped, or the one that stopped the
    round), and left stale (failed and backed-off ones included)."""

    refreshed: int
    failed: int
    left: int


class _Backoff(NamedTuple):
    """A summary skipped after unusable answers: for which profile version, how many failures
    in a row, and the ``clock()`` time before which it is not asked for again."""

    version: int
    failures: int
    until: float


BACKOFF_S = 60.0
MAX_BACKOFF_S = 3600.0


class SummaryRefresher:
    """Re-makes stale cached summaries; see the module doc."""

    def __init__(
        self,
        summarizer: Summarizer,
        policy: FieldPolicy | None = None,
        *,
        interval_s: float = 60.0,
        batch: int = 20,
        backoff_s: float = BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.summarizer = summarizer
        self.policy = policy or FieldPolicy()
        self.interval_s = interval_s
        self.batch = batch
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._clock = clock
        self._backoff: dict[tuple[str, str], _Backoff] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def stale(self) -> list[Stale]:
        """Every stale summary of the current prompt and model made from the audience's default
        view (the one a refresh can make again), oldest profile version first."""
        client = self.summarizer.client
        if client is None:
            return []
        rows = self.summarizer.store.conn.execute(
            "SELECT c.profile_id, c.audience, c.view, MAX(c.version), s.version "
            "FROM llm_summaries c JOIN snapshots s ON s.profile_id = c.profile_id "
            "WHERE c.prompt_version = ? AND c.model = ? "
            "GROUP BY c.profile_id, c.audience, c.view HAVING MAX(c.version) < s.version "
            "ORDER BY c.profile_id, c.audience",
            (latest(CONTEXT_PROMPT).version, client.model),
        ).fetchall()
        return [
            Stale(profile_id, audience, cached, current)
            for profile_id, audience, view, cached, current in rows
            if view == self._default_view_key(audience)
        ]

    def _default_view_key(self, audience: str) -> str:
        return view_key(self.policy.view(audience, None))

    def prune(self) -> int:
        """Drop the cached summaries no read can be served and no round can refresh: those of
        another prompt version or model whose profile has a newer version (or is gone). Rows
        of the current version stay, whatever their model (another server of a rolling deploy
        may serve them). Returns how many went."""
        client = self.summarizer.client
        if client is None:
            return 0
        with self.summarizer.store.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM llm_summaries WHERE (prompt_version != ? OR model != ?) "
                "AND version < coalesce((SELECT s.version FROM snapshots s "
                "WHERE s.profile_id = llm_summaries.profile_id), version + 1)",
                (latest(CONTEXT_PROMPT).version, client.model),
            )
        return max(cursor.rowcount, 0)

    def run_once(self) -> Round:
        """Refresh up to ``batch`` profiles' stale summaries, those backing off left out; stop
        at the first failure that says the LLM endpoint is down, skip (and back off) a summary
        whose answer was unusable. Summaries of an old prompt or model that can no longer be
        used are pruned first."""
        self.prune()
        todo = self.stale()
        now = self._clock()
        self._forget_backoffs(todo)
        ready = [s for s in todo if not self._backing_off(s, now)]
        profiles = set(list(dict.fromkeys(s.profile_id for s in ready))[: self.batch])
        refreshed = failed = 0
        unparsed: list[Stale] = []  # the summaries just before answered with no completion
        for stale in (s for s in ready if s.profile_id in profiles):
            reason = self._refresh(stale)
            if reason is None:
                refreshed += 1
                unparsed.clear()
                self._backoff.pop((stale.profile_id, stale.audience), None)
                continue
            failed += 1
            unparsed = [*unparsed, stale] if malformed(reason) else []
            if unavailable(reason) or len(unparsed) > 1:
                for earlier in unparsed:  # the endpoint's doing, not theirs: no back-off
                    self._backoff.pop((earlier.profile_id, earlier.audience), None)
                log.warning("summary refresh stopped at %s: %s", stale.profile_id, reason)
                break
            wait_s = self._back_off(stale, now)
            log.warning(
                "summary refresh of %s (%s) skipped for %g s: %s",
                stale.profile_id,
                stale.audience,
                wait_s,
                reason,
            )
        return Round(refreshed, failed, len(todo) - refreshed)

    def _forget_backoffs(self, todo: list[Stale]) -> None:
        """Keep the back-offs of summaries still stale at the version that failed: one made
        since, or whose profile changed again (worth asking at once), or gone, is forgotten."""
        kept: dict[tuple[str, str], _Backoff] = {}
        for stale in todo:
            key = (stale.profile_id, stale.audience)
            held = self._backoff.get(key)
            if held is not None and held.version == stale.current_version:
                kept[key] = held
        self._backoff = kept

    def _backing_off(self, stale: Stale, now: float) -> bool:
        held = self._backoff.get((stale.profile_id, stale.audience))
        return held is not None and now < held.until

    def _back_off(self, stale: Stale, now: float) -> float:
        """Skip ``stale`` for a while after an unusable answer; returns for how long."""
        key = (stale.profile_id, stale.audience)
        held = self._backoff.get(key)
        failures = held.failures + 1 if held is not None else 1
        wait_s = min(self.backoff_s * 2.0 ** min(failures - 1, 32), self.max_backoff_s)
        self._backoff[key] = _Backoff(stale.current_version, failures, now + wait_s)
        return wait_s

    def _refresh(self, stale: Stale) -> str | None:
        """Make ``stale`` again; ``None`` when done (or nothing is left to do), else why the
        summary fell back."""
        # Built first when queued for a rebuild: a queued row may be one no reader is shown.
        stored = current_snapshot(self.summarizer.store.conn, stale.profile_id)
        if stored is None:  # merged away or erased since the query: nothing to refresh
            return None
        audience: Audience = stale.audience  # type: ignore[assignment]
        view = self.policy.view(audience, None)
        block = self.summarizer.summary(_decode(stored.json), audience, view, "llm")
        return block.fallback

    def start(self) -> None:
        """Run rounds in a daemon thread until ``stop()``."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="summary-refresh", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run a round now rather than at the next interval (profiles just changed)."""
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        """End the thread after its current summary."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:  # a background round must never kill the thread
                log.exception("summary refresh round failed")
