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
ends it. A round stops at the first LLM failure and leaves the rest for the next round, so a
down LLM is not hammered. Each summary is made with the audience's default field view (the
view of a request without a key of its own).
"""

from __future__ import annotations

import logging
import threading
from typing import NamedTuple

import msgspec

from context_service.audience import Audience, FieldPolicy
from context_service.llm.cache import view_key
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
    """What one round did."""

    refreshed: int
    failed: int
    left: int


class SummaryRefresher:
    """Re-makes stale cached summaries; see the module doc."""

    def __init__(
        self,
        summarizer: Summarizer,
        policy: FieldPolicy | None = None,
        *,
        interval_s: float = 60.0,
        batch: int = 20,
    ) -> None:
        self.summarizer = summarizer
        self.policy = policy or FieldPolicy()
        self.interval_s = interval_s
        self.batch = batch
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
        """Refresh up to ``batch`` profiles' stale summaries; stop at the first LLM failure.
        Summaries of an old prompt or model that can no longer be used are pruned first."""
        self.prune()
        todo = self.stale()
        profiles = set(list(dict.fromkeys(s.profile_id for s in todo))[: self.batch])
        refreshed = 0
        for stale in (s for s in todo if s.profile_id in profiles):
            if not self._refresh(stale):
                return Round(refreshed, 1, len(todo) - refreshed)
            refreshed += 1
        return Round(refreshed, 0, len(todo) - refreshed)

    def _refresh(self, stale: Stale) -> bool:
        # Built first when queued for a rebuild: a queued row may be one no reader is shown.
        stored = current_snapshot(self.summarizer.store.conn, stale.profile_id)
        if stored is None:  # merged away or erased since the query: nothing to refresh
            return True
        audience: Audience = stale.audience  # type: ignore[assignment]
        view = self.policy.view(audience, None)
        block = self.summarizer.summary(_decode(stored.json), audience, view, "llm")
        if block.fallback is not None:
            log.warning("summary refresh of %s stopped: %s", stale.profile_id, block.fallback)
            return False
        return True

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
