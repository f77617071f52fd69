"""``POST /v1/webhooks/{source}``: signed vendor deliveries, verified before anything else.

Authenticated by the vendor's signature over the raw body, not by an API key (vendors cannot
send ours). A delivery that fails verification gets 401 and leaves no trace; an authentic one
is stored in the durable inbox (off the event loop: it may wait for the write lock),
acknowledged at once and applied right after the response; one that waits for its vendor is
applied again when due (``RetryWaker``, by an app still serving the store), with or without
further deliveries; an authentic one that cannot be read is kept raw and answered 422. Behind
a proxy, the URL HubSpot signs is rebuilt from ``CONTEXT_SERVICE_PUBLIC_URL``.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from anyio import to_thread
from litestar import Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath

from context_service.errors import SourceNotConfigured
from context_service.models import Connector
from context_service.store import Store
from context_service.store import inbox as inbox_store
from context_service.store import snapshots as snapshot_store
from context_service.store.per_store import PerStore
from context_service.sync import (
    InboxPruner,
    IngestContext,
    apply_pending,
    drain_snapshots,
    receive,
)
from context_service.sync.ingest import utc_now
from context_service.sync.one_pass import OnePass
from context_service.sync.snapshot_queue import SnapshotDrain, refresh_due

MAX_WEBHOOK_BYTES = 1_048_576
log = logging.getLogger("context_service.webhooks")


@post(
    "/v1/webhooks/{source:str}",
    status_code=200,
    request_max_body_size=MAX_WEBHOOK_BYTES,
    summary="Receive a signed vendor webhook",
)
async def receive_webhook(
    request: Request[Any, Any, Any], source: FromPath[str]
) -> Response[dict[str, Any]]:
    """Verify, store once, acknowledge; apply in the background (snapshots update in ms)."""
    state = request.app.state
    connectors: Mapping[str, Connector] = state.connectors
    connector = connectors.get(source)
    if connector is None:
        name = source if len(source) <= 40 else source[:40] + "..."
        raise SourceNotConfigured(f"no webhook source {name!r} is configured on this server")
    body = await request.body()
    urls = _called_urls(request, state, source)
    # Off the event loop: storing waits for the write lock (a sync run, a delivery being
    # applied), and every other request, context lookups included, would wait with it.
    receipt = await to_thread.run_sync(
        receive, state.store, connector, request.headers, body, urls, time.time()
    )
    task = BackgroundTask(_apply, state, connectors)
    content = {"status": receipt.status, "topic": receipt.topic}
    return Response(content, background=task)


def _called_urls(request: Request[Any, Any, Any], state: Any, source: str) -> list[str]:
    """The URLs the vendor may have called, for signatures that cover it (HubSpot v3).

    Behind a proxy that terminates TLS or rewrites the host, the request arrives at another URL
    than the one HubSpot called and signed: that one is ``CONTEXT_SERVICE_PUBLIC_URL`` plus this
    route's path and the query as received. The URL the request arrived at is tried as well.
    """
    own = str(request.url)
    public = getattr(state.get("settings"), "public_url", None)
    if not public:
        return [own]
    query = request.scope.get("query_string", b"").decode("latin-1")
    called = f"{public.rstrip('/')}/v1/webhooks/{source}" + (f"?{query}" if query else "")
    return [called, own]


def _apply(state: Any, connectors: Mapping[str, Connector]) -> None:
    """Apply pending deliveries and build again the snapshots whose time-dependent signals
    changed (``refresh_due``); then let cached LLM summaries of changed profiles refresh,
    delete applied deliveries past their retention (at most once an hour), and plan the
    store's next pass for when the earliest delivery still pending falls due. A pass that
    raises (the store locked past its busy timeout) comes back after
    ``RETRY_AFTER_FAILURE_SECONDS``: the delivery just stored would otherwise wait for the
    next one to arrive."""
    try:
        _apply_and_prune(state, connectors)
    except sqlite3.ProgrammingError:  # the store was closed under it: nothing to come back to
        log.warning("webhook pass found its store closed", exc_info=True)
        return
    except Exception:
        log.warning("applying webhook deliveries failed; tried again later", exc_info=True)
        waker_of(state.store).after_failure(time.time())
        return
    waker_of(state.store).plan(state.store, time.time())


def webhook_pass(state: Any, connectors: Mapping[str, Connector]) -> Callable[[], None]:
    """The pass of one app (``state`` its ``app.state``), for ``drain_inbox`` and the store's
    ``RetryWaker`` to run when a delivery falls due."""
    return partial(_apply, state, connectors)


def _apply_and_prune(state: Any, connectors: Mapping[str, Connector]) -> None:
    gate: OnePass | None = state.get("webhook_passes")
    applied = apply_pending(state.store, connectors, state.ingest_context, gate=gate)
    if refresh_due(state.store, state.ingest_context, utc_now()) or applied:
        refresher = state.get("summary_refresher")
        if refresher is not None:
            refresher.wake()
    pruner: InboxPruner | None = state.get("inbox_pruner")
    if pruner is not None:
        pruner.maybe_purge(time.time())


def drain_inbox(
    store: Any,
    connectors: Mapping[str, Connector],
    ctx: IngestContext,
    app_pass: Callable[[], None],
    snapshot_drain: SnapshotDrain | None = None,
    gate: OnePass | None = None,
) -> threading.Thread:
    """Start applying what a previous process left behind (at startup): deliveries, in a
    thread of their own, and queued snapshots, by ``snapshot_drain``'s background thread or,
    without one, by that same thread after the deliveries. It returns at once: the server
    answers meanwhile (reads build a queued profile first, deliveries arriving now join the
    pass: one runs at a time), instead of waiting for deliveries whose refetches may take
    minutes. What still waits for its vendor is applied when due, by ``app_pass`` (the app's
    own pass, ``webhook_pass``) or the pass of another app serving the store, until
    ``waker_of(store).stop(app_pass)``. Returns the thread."""
    waker_of(store).start(app_pass)
    if snapshot_drain is not None:
        snapshot_drain.start()
    thread = threading.Thread(
        target=_drain_left_behind,
        args=(store, connectors, ctx, snapshot_drain is None, gate),
        name="inbox-drain",
        daemon=True,
    )
    thread.start()
    return thread


def _drain_left_behind(
    store: Store,
    connectors: Mapping[str, Connector],
    ctx: IngestContext,
    snapshots: bool,
    gate: OnePass | None,
) -> None:
    try:
        apply_pending(store, connectors, ctx, limit=10_000, gate=gate)
        if snapshots:
            drain_snapshots(store, ctx)
    except sqlite3.ProgrammingError:  # the store was closed under it (a quick shutdown)
        log.warning("startup webhook pass found its store closed", exc_info=True)
        return
    except Exception:
        log.warning("applying the deliveries left behind failed; tried again later", exc_info=True)
        waker_of(store).after_failure(time.time())
        return
    waker_of(store).plan(store, time.time())


RETRY_WAKE_MIN_SECONDS = 1.0  # never sooner: a store that stays locked is not polled in a loop
RETRY_AFTER_FAILURE_SECONDS = 60.0  # a pass that raised (a locked store) is tried again then


class RetryWaker:
    """Runs a pass again when the earliest pending delivery of a store falls due, or the
    earliest snapshot whose time-dependent signals change (``refresh_at``: an invoice falls
    overdue; the pass builds it again, ``refresh_due``).

    A delivery whose vendor could not be reached waits for its next attempt
    (``sync.webhooks.retry_delay``); without this it would wait for the next delivery to
    arrive, which on a quiet night is hours. One timer per store, the earliest one kept, and
    the pass it runs is chosen when it fires: that of an app still serving the store. Every
    app that serves the store calls ``start`` with its own pass, and ``stop`` with it before it
    closes its vendor clients or the store; a timer planned by an app that has closed since
    then runs another app's pass (with that app's clients), and none once no app serves the
    store. A pass that raises is tried again after ``RETRY_AFTER_FAILURE_SECONDS``, unless it
    found the store closed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passing = threading.Lock()  # held while a planned pass runs
        self._timer: threading.Timer | None = None
        self._at = math.inf
        self._passes: list[Callable[[], None]] = []  # of the apps serving, latest last
        self._running: Callable[[], None] | None = None

    @property
    def planned_at(self) -> float | None:
        """When the planned pass runs (POSIX seconds), ``None`` when none is planned."""
        with self._lock:
            return None if self._timer is None else self._at

    def plan(self, store: Store, now: float) -> float | None:
        """Arrange for a pass when the earliest pending delivery is due, or the earliest
        snapshot's ``refresh_at`` (at least ``RETRY_WAKE_MIN_SECONDS`` from ``now``); return
        when, or ``None`` if neither is pending or no app serves the store (it may be closed
        already)."""
        with self._lock:
            if not self._passes:
                return None
        times = [inbox_store.next_attempt(store.conn), snapshot_store.next_refresh(store.conn)]
        due = min((t for t in times if t is not None), default=None)
        if due is None:
            return None
        return self._arm(now, max(_posix(due), now + RETRY_WAKE_MIN_SECONDS))

    def after_failure(self, now: float) -> float | None:
        """Arrange for a pass ``RETRY_AFTER_FAILURE_SECONDS`` after ``now`` (a pass raised);
        return when, or ``None`` if no app serves the store."""
        return self._arm(now, now + RETRY_AFTER_FAILURE_SECONDS)

    def start(self, app_pass: Callable[[], None]) -> None:
        """An app starts serving the store: planned passes may run ``app_pass``."""
        with self._lock:
            self._passes.append(app_pass)

    def stop(self, app_pass: Callable[[], None]) -> None:
        """The app of ``app_pass`` stops serving the store: no planned pass runs it from now
        on, and one running it finishes first (its vendor clients are about to close). Once
        no app serves the store, the planned pass is dropped. Never call it from inside a
        pass."""
        with self._lock:
            if app_pass in self._passes:
                self._passes.remove(app_pass)
            wait = self._running is app_pass or not self._passes
            if not self._passes and self._timer is not None:
                self._timer.cancel()
                self._timer, self._at = None, math.inf
        if wait:
            with self._passing:
                pass

    def _arm(self, now: float, at: float) -> float | None:
        """Run a pass at ``at`` unless one is planned no later; ``None`` when no app serves."""
        with self._lock:
            if not self._passes:
                return None
            if self._timer is not None and self._at <= at:
                return self._at
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(max(0.0, at - now), self._fire)
            self._timer.daemon = True
            self._timer.name = "webhook-retry-waker"
            self._at = at
            self._timer.start()
        return at

    def _fire(self) -> None:
        with self._passing:
            with self._lock:
                if not self._passes:
                    return
                self._timer, self._at = None, math.inf
                run = self._running = self._passes[-1]
            try:
                run()
            except sqlite3.ProgrammingError:  # the store was closed under it: nothing to retry
                log.warning("webhook retry pass found its store closed", exc_info=True)
            except Exception:  # a locked store, say: without a new delivery, nothing else would
                log.warning("applying waiting webhook deliveries failed", exc_info=True)
                self.after_failure(time.time())
            finally:
                with self._lock:
                    self._running = None


_WAKERS: PerStore[RetryWaker] = PerStore(RetryWaker)


def waker_of(store: Store) -> RetryWaker:
    """The ``RetryWaker`` of ``store`` (one per store, shared by the apps serving it)."""
    return _WAKERS.of(store)


def _posix(iso: str) -> float:
    """An inbox time (ISO-8601 UTC, ``Z``) as POSIX seconds."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
