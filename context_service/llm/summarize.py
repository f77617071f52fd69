"""Summaries on demand: deterministic always; from the LLM when configured, cached per version.

``Summarizer.summary(snapshot, audience, mode)`` never raises because of the LLM: a timeout, an
HTTP error or an empty answer falls back to the deterministic summary, and the returned block
says so (``fallback``); so does an answer that fails the checks an LLM handoff note passes
(``summary_problem``): customer-written instructions or sentences outside quotes, a contact,
id or link the context does not show. With no LLM configured, ``mode="llm"`` is answered
deterministically with ``fallback="no LLM configured"``. A summary the cache cannot store (the
store is locked or failing) is still served: the cache is only a cache.

Readers asking at once for the same summary that is not cached yet share one LLM call: the
first makes it, the others wait for its outcome no longer than the LLM's timeout, and get its
summary, or its reason to fall back. Within a process they share it in memory; across the
processes sharing the store (API workers, the refresher), the first reader of each process
takes the key's lease (``lease``) or, when another process holds it, polls the cache and the
lease for as long as a follower waits in memory. A cache hit never reads the lease.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from typing import Literal, NamedTuple

from context_service.audience import Audience, ContextRequest, SummaryBlock, View, build_context
from context_service.audience.summary import deterministic_summary
from context_service.handoff.checks import customer_written, note_problem
from context_service.llm import cache, lease
from context_service.llm.client import LlmClient, LlmFailed
from context_service.llm.prompts import fence, latest
from context_service.models import Snapshot
from context_service.store import Store

log = logging.getLogger("context_service.llm")
SummaryMode = Literal["deterministic", "llm"]
CONTEXT_PROMPT = "context_summary"
_LLM_INPUT_TOKENS = 1500
# A lease outlives the LLM call's own timeout by this much before it is presumed dead.
LEASE_MARGIN_S = 3.0
# The longest a summary read waits for the store's write lock to take or end its lease (and
# to cache the answer, at least): a long import holds it for seconds, and the reader is served
# without the lease, calling as if alone.
WRITE_WAIT_S = 1.0
_POLL_FIRST_S = 0.02
_POLL_MAX_S = 0.2
# Why a reader falls back when the call it waited on in another process left no summary.
_UNCACHED = "the LLM summary could not be cached"


class _Call:
    """An LLM call in flight for one summary key; ``done`` is set once ``block`` is known
    (``None`` when the call raised)."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.block: SummaryBlock | None = None


class _Ask(NamedTuple):
    """What one LLM call for a summary needs: the client, the snapshot and view it summarizes,
    its cache key and the deterministic text to fall back to."""

    client: LlmClient
    snap: Snapshot
    audience: Audience
    view: View
    key: cache.SummaryKey
    fallback_text: str


class Summarizer:
    """Makes summary blocks; holds the optional LLM client and the store for the cache."""

    def __init__(
        self,
        store: Store,
        client: LlmClient | None = None,
        *,
        lease_margin_s: float = LEASE_MARGIN_S,
        write_wait_s: float = WRITE_WAIT_S,
    ) -> None:
        self.store = store
        self.client = client
        self.lease_margin_s = lease_margin_s
        self.write_wait_s = write_wait_s
        self._lock = threading.Lock()
        self._in_flight: dict[cache.SummaryKey, _Call] = {}

    def summary(
        self, snap: Snapshot, audience: Audience, view: View, mode: SummaryMode, part: str = ""
    ) -> SummaryBlock:
        """The summary block for one request (never fails because of the LLM). ``part``: which
        part of the profile ``snap`` shows when it is not all of it (``snapshot.proved``), so
        that the cache never serves one part's summary for another or for the whole."""
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
            cache.view_key(view) + (f":{part}" if part else ""),
        )
        cached = self._cached(key)
        if cached is not None:
            return cached
        call, leader = self._join(key)
        if not leader:
            return self._follow(call, fallback_text, prompt.version)
        try:
            ask = _Ask(self.client, snap, audience, view, key, fallback_text)
            call.block = self._lead(ask)
            return call.block
        finally:
            self._leave(key, call)

    def _lead(self, ask: _Ask) -> SummaryBlock:
        """This process's reader of ``key``: it makes the call under the key's lease, or waits
        for the process holding it no longer than the LLM's timeout; it takes over a lease
        left done or expired. A call that failed elsewhere is this reader's fallback too."""
        client, key, fallback_text = ask.client, ask.key, ask.fallback_text
        deadline = time.monotonic() + client.timeout_s
        lease_key, me = lease.lease_key(key), uuid.uuid4().hex
        awaited: str | None = None  # the other process's holder this reader waits for
        pause = _POLL_FIRST_S
        while True:
            # Looked up again: the call another reader just finished may have been stored since.
            cached = self._cached(key)
            if cached is not None:
                return cached
            try:
                held = lease.read(self.store, lease_key)
                if held is not None and held.done and held.holder == awaited:
                    reason = held.reason or _UNCACHED
                    return self._cached(key) or _fallback(fallback_text, reason, key)
                if held is None or held.free(time.time()):
                    ttl_s = client.timeout_s + self.lease_margin_s
                    wait_s = min(self.write_wait_s, max(deadline - time.monotonic(), 0.0))
                    held = lease.claim(self.store, lease_key, me, ttl_s, wait_s=wait_s)
            except sqlite3.Error as exc:  # the store cannot say who calls: call, as alone
                log.warning("LLM summary lease of %s unavailable: %s", key.profile_id, exc)
                return self._ask(ask)[0]
            if held is None:
                return self._hold(ask, me)
            awaited = held.holder
            left = deadline - time.monotonic()
            if left <= 0:
                return _fallback(fallback_text, _timed_out(client.timeout_s), key)
            time.sleep(min(pause, left))
            pause = min(pause * 2, _POLL_MAX_S)

    def _hold(self, ask: _Ask, me: str) -> SummaryBlock:
        """The call for ``key`` under the lease ``me`` holds, which ends however the call does:
        with the summary cached it goes, else it says why for the readers waiting on it."""
        key = ask.key
        reason: str | None = "the LLM summary failed"  # should what follows raise
        try:
            block = self._cached(key)  # cached by another process since this one looked
            if block is None:
                block, stored = self._ask(ask)
                reason = None if stored else block.fallback or _UNCACHED
            else:
                reason = None
            return block
        finally:
            try:
                lease.release(
                    self.store, lease.lease_key(key), me, reason, wait_s=self.write_wait_s
                )
            except sqlite3.Error as exc:  # it expires by itself
                log.warning("LLM summary lease of %s not released: %s", key.profile_id, exc)

    def _cached(self, key: cache.SummaryKey) -> SummaryBlock | None:
        text = cache.get(self.store, key)
        return (
            None
            if text is None
            else SummaryBlock(text, "llm-cache", prompt_version=key.prompt_version)
        )

    def _ask(self, ask: _Ask) -> tuple[SummaryBlock, bool]:
        """One LLM call for ``ask.key``: the summary, cached, or the fallback with its reason;
        and whether the summary is cached."""
        client, snap, audience, view, key, fallback_text = ask
        prompt = latest(CONTEXT_PROMPT)
        context = build_context(
            snap, ContextRequest(audience, "text", _LLM_INPUT_TOKENS), view
        ).body
        system, user = prompt.render(audience=audience, context=fence("customer context", context))
        try:
            text = client.complete(system, user)
        except LlmFailed as exc:
            log.warning("LLM summary of %s failed: %s", snap.profile_id, exc.reason)
            return _fallback(fallback_text, exc.reason, key), False
        problem = summary_problem(text, snap, view, context)
        if problem is not None:
            log.warning("LLM summary of %s not used: %s", snap.profile_id, problem)
            return _fallback(fallback_text, problem, key), False
        # The answer cost a call: worth waiting for the write lock as long as the call may take.
        stored = self._remember(key, text, max(self.write_wait_s, client.timeout_s))
        return SummaryBlock(text, "llm", prompt_version=prompt.version), stored

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
            reason = _timed_out(timeout_s)
        elif call.block is None:
            reason = "the LLM summary failed"
        elif call.block.source != "deterministic":
            return call.block
        else:
            reason = call.block.fallback or "the LLM summary failed"
        return SummaryBlock(
            fallback_text, "deterministic", fallback=reason, prompt_version=prompt_version
        )

    def _remember(self, key: cache.SummaryKey, text: str, wait_s: float) -> bool:
        """Cache a summary when the store allows (its write lock within ``wait_s``), and say
        whether it did; a failure only costs a later LLM call."""
        try:
            return cache.put(self.store, key, text, wait_s=wait_s)
        except sqlite3.Error as exc:
            log.warning("LLM summary of %s not cached: %s", key.profile_id, exc)
            return False


def summary_problem(text: str, snap: Snapshot, view: View, context: str) -> str | None:
    """Why an LLM summary may not be served (``None``: it may), by the checks an LLM handoff
    note passes (``handoff.checks.note_problem``): no contact, id or link the context the model
    read does not show, and customer-written text (ticket subjects and comments, order notes)
    kept as quoted data: no injected instructions ("ignore previous instructions", "system
    prompt"...) nor a customer's sentence repeated word for word outside quotes."""
    problem = note_problem(text, snap, view, context, customer_written(snap))
    return None if problem is None else problem.replace("LLM note", "LLM summary")


def _fallback(fallback_text: str, reason: str, key: cache.SummaryKey) -> SummaryBlock:
    return SummaryBlock(
        fallback_text, "deterministic", fallback=reason, prompt_version=key.prompt_version
    )


def _timed_out(timeout_s: float) -> str:
    return f"timeout: no whole answer within {timeout_s:g} s"
