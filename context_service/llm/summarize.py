"""Summaries on demand: deterministic always; from the LLM when configured, cached per version.

``Summarizer.summary(snapshot, audience, mode)`` never raises because of the LLM: a timeout, an
HTTP error or an empty answer falls back to the deterministic summary, and the returned block
says so (``fallback``). With no LLM configured, ``mode="llm"`` is answered deterministically
with ``fallback="no LLM configured"``. A summary the cache cannot store (the store is locked
or failing) is still served: the cache is only a cache.
"""

from __future__ import annotations

import logging
import sqlite3
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


class Summarizer:
    """Makes summary blocks; holds the optional LLM client and the store for the cache."""

    def __init__(self, store: Store, client: LlmClient | None = None) -> None:
        self.store = store
        self.client = client

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
        cached = cache.get(self.store, key)
        if cached is not None:
            return SummaryBlock(cached, "llm-cache", prompt_version=prompt.version)
        context = build_context(
            snap, ContextRequest(audience, "text", _LLM_INPUT_TOKENS), view
        ).body
        system, user = prompt.render(audience=audience, context=fence("customer context", context))
        try:
            text = self.client.complete(system, user)
        except LlmFailed as exc:
            log.warning("LLM summary of %s failed: %s", snap.profile_id, exc.reason)
            return SummaryBlock(
                fallback_text, "deterministic", fallback=exc.reason, prompt_version=prompt.version
            )
        self._remember(key, text)
        return SummaryBlock(text, "llm", prompt_version=prompt.version)

    def _remember(self, key: cache.SummaryKey, text: str) -> None:
        """Cache a summary when the store allows; a failure only costs a later LLM call."""
        try:
            cache.put(self.store, key, text)
        except sqlite3.Error as exc:
            log.warning("LLM summary of %s not cached: %s", key.profile_id, exc)
