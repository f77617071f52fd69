"""Summaries on demand: deterministic always; from the LLM when configured, cached per version.

``Summarizer.summary(snapshot, audience, mode)`` never raises because of the LLM: a timeout, an
HTTP error or an empty answer falls back to the deterministic summary, and the returned block
says so (``fallback``). With no LLM configured, ``mode="llm"`` is answered deterministically
with ``fallback="no LLM configured"``. A summary the cache cannot store (the store is locked
or failing) is still served: the cache is only a cache.

Readers asking at once for the same summary that is not cached yet share one LLM call: the
first makes it, the others wait for its outcome no longer than the LLM's timeout, and get its
summary, or its reason to fall back.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Literal

from context_service.audience import Audience, ContextRequest, SummaryBlock, View, build_context
from context_service.audience.summary import deterministic_summary
from context_service.llm import cache
from context_service.llm.client import LlmClient, LlmFailed
from context_service.llm.prompts import fence, latest
from context_service.models import Snapshot
from context_service.store import Store

log = logging.getLogger("context_service.llm")
SummaryMode = Literal["deterministic", "llm"]
CONTEXT_PROMPT = "context_summary"
_LLM_INPUT_TOKENS = 1500


class _Call:
    """An LLM call in flight for one summary key; ``done`` is set once ``block`` is known
    (``None`` when the call raised)."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.block: SummaryBlock | None = None


class Summarizer:
    """Makes summary blocks; holds the optional LLM client and the store for the cache."""

    def __init__(self, store: Store, client: LlmClient | None = None) -> None:
        self.store = store
        self.client = client
        self._lock = threading.Lock()
        self._in_flight: dict[cache.SummaryKey, _Call] = {}

    def summary(
        self, snap: Snapshot, audience: Audience, view: View, mode: SummaryMode
    ) -> SummaryBlock:
        """The summary block for one request (never fails because of the LLM)."""
        fallback_text = deterministic_summary(snap, view)
        if mode == "deterministic":
            return SummaryBlock(fallback_text, "deterministic")
        if self.client is None:
            return SummaryBlock(fallback_text, "deterministic", fallback="no LLM configured")
        prompt = latest(CONTEXT_PROMPT)
        key = cache.SummaryKey(
            snap.profile_id,
            snap.version,
            audience,
            prompt.version,
            self.client.model,
            cache.view_key(view),
        )
        cached = self._cached(key)
        if cached is not None:
            return cached
        call, leader = self._join(key)
        if not leader:
            return self._follow(call, fallback_text, prompt.version)
        try:
            # Looked up again: the call another reader just finished may have been stored since.
            call.block = self._cached(key) or self._ask(
                self.client, snap, audience, view, key, fallback_text
            )
            return call.block
        finally:
            self._leave(key, call)

    def _cached(self, key: cache.SummaryKey) -> SummaryBlock | None:
        text = cache.get(self.store, key)
        return (
            None
            if text is None
            else SummaryBlock(text, "llm-cache", prompt_version=key.prompt_version)
        )

    def _ask(
        self,
        client: LlmClient,
        snap: Snapshot,
        audience: Audience,
        view: View,
        key: cache.SummaryKey,
        fallback_text: str,
    ) -> SummaryBlock:
        """One LLM call for ``key``: the summary, cached, or the fallback with its reason."""
        prompt = latest(CONTEXT_PROMPT)
        context = build_context(
            snap, ContextRequest(audience, "text", _LLM_INPUT_TOKENS), view
        ).body
        system, user = prompt.render(audience=audience, context=fence("customer context", context))
        try:
            text = client.complete(system, user)
        except LlmFailed as exc:
            log.warning("LLM summary of %s failed: %s", snap.profile_id, exc.reason)
            return SummaryBlock(
                fallback_text, "deterministic", fallback=exc.reason, prompt_version=prompt.version
            )
        self._remember(key, text)
        return SummaryBlock(text, "llm", prompt_version=prompt.version)

    def _join(self, key: cache.SummaryKey) -> tuple[_Call, bool]:
        """The call in flight for ``key``, and whether this caller started it (and must make it)."""
        with self._lock:
            call = self._in_flight.get(key)
            if call is not None:
                return call, False
            call = self._in_flight[key] = _Call()
            return call, True

    def _leave(self, key: cache.SummaryKey, call: _Call) -> None:
        with self._lock:
            self._in_flight.pop(key, None)
        call.done.set()

    def _follow(self, call: _Call, fallback_text: str, prompt_version: str) -> SummaryBlock:
        """The outcome of the call another reader made, waited for no longer than the LLM's own
        budget; a failure there is this reader's fallback too."""
        timeout_s = self.client.timeout_s if self.client is not None else 0.0
        if not call.done.wait(timeout_s):
            reason = f"timeout: no whole answer within {timeout_s:g} s"
        elif call.block is None:
            reason = "the LLM summary failed"
        elif call.block.source != "deterministic":
            return call.block
        else:
            reason = call.block.fallback or "the LLM summary failed"
        return SummaryBlock(
            fallback_text, "deterministic", fallback=reason, prompt_version=prompt_version
        )

    def _remember(self, key: cache.SummaryKey, text: str) -> None:
        """Cache a summary when the store allows; a failure only costs a later LLM call."""
        try:
            cache.put(self.store, key, text)
        except sqlite3.Error as exc:
            log.warning("LLM summary of %s not cached: %s", key.profile_id, exc)
