"""The litestar application: ``create_app(settings)`` wires the store and the routes.

This module (and ``cli.py``) are the only places that wire integrations in.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from anyio import to_thread
from litestar import Litestar, Response, Router, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from context_service import __version__
from context_service.api.audit import ROUTES as AUDIT_ROUTES
from context_service.api.auth import ApiKeys, key_grant, method_not_allowed, require_api_key
from context_service.api.context import get_context, lookup_context
from context_service.api.context_state import context_state
from context_service.api.erasure import ROUTES as ERASURE_ROUTES
from context_service.api.escalations import create_escalation
from context_service.api.guarded_tools import GuardedToolBox
from context_service.api.http_rules import head_as_get, never_stored
from context_service.api.identify import thresholds_of
from context_service.api.keys import ROUTES as KEY_ROUTES
from context_service.api.params import strict_asgi_query, strict_query, valid_host
from context_service.api.problems import EXCEPTION_HANDLERS, ApiRequest, problem, utf8_query
from context_service.api.profiles import ROUTES as PROFILE_ROUTES
from context_service.api.sync_status import get_sync
from context_service.api.tools import call_tool_route, get_openai_tools, mcp_route
from context_service.api.webhooks import drain_inbox, receive_webhook, waker_of, webhook_pass
from context_service.api.widget import get_widget, mint_widget_url
from context_service.handoff import NotePoster, ZendeskNotes
from context_service.identity.features import INDEX_VERSION
from context_service.identity.state import index_version
from context_service.llm import LlmClient, Summarizer, SummaryRefresher
from context_service.mcp_server.http import McpHttp
from context_service.models import Connector
from context_service.settings import Settings, check_settings, load_settings
from context_service.store import Store
from context_service.sync import InboxPruner, remap
from context_service.sync.one_pass import OnePass
from context_service.sync.snapshot_queue import SnapshotDrain, build_queued_on_read
from context_service.trust import ADMIN, AUTHENTICATED, Trust
from context_service.wiring import build_webhook_connectors, ingest_context, vendor_client

log = logging.getLogger(__name__)
PARENT_CHECK_SECONDS = 0.5
PARENT_GONE_GRACE_SECONDS = 10.0
HEALTH_TIMEOUT_SECONDS = 2.0
# How long a shutdown waits for the webhook pass in progress to end: longer than a vendor call
# may take (``wiring.vendor_client``: 30 s to read), so no pass runs on a closed client.
INBOX_DRAIN_JOIN_S = 45.0
HEALTH_FILE_EVERY = 1.0  # seconds between two reads of the file itself


@get("/health", summary="Liveness and database check")
async def health(store: NamedDependency[Store]) -> Response[Any]:
    """Open to everyone: 200 when the database answers (a real table is read), else 503."""
    try:
        if time.monotonic() - _file_read_at.get(store.path, -HEALTH_FILE_EVERY) < HEALTH_FILE_EVERY:
            store.conn.execute("SELECT 1 FROM profiles LIMIT 1").fetchone()
        else:
            await to_thread.run_sync(read_profiles, store)
            _file_read_at[store.path] = time.monotonic()
    except sqlite3.Error as exc:
        _file_read_at.pop(store.path, None)
        log.warning("health check: the database does not answer: %s", exc)
        return problem(503, "Service unavailable", "the database does not answer")
    return Response({"status": "ok", "version": __version__})


# When each database file was last read through a connection of its own (``read_profiles``):
# at most once every ``HEALTH_FILE_EVERY`` seconds, so a load balancer that asks many times a
# second costs one indexed read on the store's connection for most of them.
_file_read_at: dict[str, float] = {}


def read_profiles(store: Store) -> None:
    """Read a row of ``profiles`` through a connection of its own, opened read-only: the
    store's connections keep pages in memory, which would hide a damaged or replaced file.
    Raises ``sqlite3.Error`` when the file cannot be read."""
    if store.path == ":memory:":
        store.conn.execute("SELECT 1 FROM profiles LIMIT 1").fetchone()
        return
    uri = f"file:{quote(store.path)}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=HEALTH_TIMEOUT_SECONDS)
    try:
        conn.execute("SELECT 1 FROM profiles LIMIT 1").fetchone()
    finally:
        conn.close()


@get("/metrics", sync_to_thread=False, media_type="text/plain", opt={"scope": ADMIN})
def metrics(store: NamedDependency[Store]) -> str:
    """Prometheus-style gauges of the store's size: records held (a deletion's tombstone is
    counted apart, as deleted), those rejected among them."""
    conn = store.conn
    profiles = conn.execute("SELECT count(*) FROM profiles").fetchone()[0]
    held, deleted = conn.execute(
        "SELECT count(*) FILTER (WHERE deleted = 0), count(*) FILTER (WHERE deleted <> 0) "
        "FROM records"
    ).fetchone()
    rejected = conn.execute(
        "SELECT count(*) FROM records WHERE error IS NOT NULL AND deleted = 0"
    ).fetchone()[0]
    return (
        f"context_service_profiles {profiles}\n"
        f"context_service_records {held}\n"
        f"context_service_records_rejected {rejected}\n"
        f"context_service_records_deleted {deleted}\n"
    )


async def schema_not_found(response: Response[Any]) -> Response[Any]:
    """Litestar answers an unknown ``/schema/...`` path with an HTML page: a problem instead."""
    if response.status_code != 404:
        return response
    detail = "no such schema document; the OpenAPI document is /schema/openapi.json"
    return problem(404, "Not found", detail)


def app_from_env() -> Litestar:
    """App factory for the server process: settings from ``CONTEXT_SERVICE_*`` variables.

    What is built here lives as long as the process, so it is taken out of the cyclic garbage
    collector's scans (``gc.freeze``): otherwise each full collection walks the whole app, and
    requests allocate enough to set collections off often (about a tenth of a context
    request's CPU). Only the server does this; tests build many apps and must get them back.

    The worker also stops when the ``serve`` process that started it is gone (killed, so it
    could not stop its workers): otherwise it would keep answering on the port with the old
    settings (``exit_with_parent``).
    """
    app = create_app(load_settings())
    threading.Thread(
        target=exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True
    ).start()
    gc.collect()
    gc.freeze()
    return app


def exit_with_parent(parent: int) -> None:
    """Wait until the ``serve`` process is gone, then stop this worker: SIGTERM to itself (the
    server's graceful stop: the read audit is written), repeated until it takes, and after
    ``PARENT_GONE_GRACE_SECONDS`` an immediate exit should that stop hang.

    A worker started by ``multiprocessing`` (granian's) waits on the pipe its parent holds,
    which tells even of a parent that died before this thread started; any other process
    watches ``parent``, the parent process id it had when the app was built.
    """
    process = multiprocessing.parent_process()
    if process is not None:
        process.join()
    else:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
    log.warning("the server process is gone; stopping this worker")
    deadline = time.monotonic() + PARENT_GONE_GRACE_SECONDS
    while time.monotonic() < deadline:  # again and again: a worker still starting ignores it
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def build_note_poster(settings: Settings, client: httpx.Client) -> NotePoster | None:
    """Escalation notes go to Zendesk when its API credentials are configured."""
    from integrations.zendesk.connector import basic_auth, zendesk_base_url

    base = zendesk_base_url(settings.zendesk_subdomain, settings.zendesk_base_url)
    if not (base and settings.zendesk_email and settings.zendesk_api_token):
        return None
    auth = basic_auth(settings.zendesk_email, settings.zendesk_api_token)
    return ZendeskNotes(client, base, auth)


def _protected_routes(settings: Settings) -> Router:
    """Everything but ``/health``, ``/widget`` (a signed link) and signed webhooks needs an API
    key; a query parameter the route does not take, or one given twice, is a 400
    (``params.strict_query``; ``/mcp`` and ``/schema``, mounted in ``create_app``, check it too).
    Every answer of the app says ``Cache-Control: no-store`` (``http_rules.never_stored``)."""
    return Router(
        "/",
        route_handlers=[
            metrics,
            get_context,
            lookup_context,
            create_escalation,
            get_sync,
            get_openai_tools,
            call_tool_route(settings.max_body_bytes),
            mint_widget_url,
            *PROFILE_ROUTES,
            *AUDIT_ROUTES,
            *ERASURE_ROUTES,
            *KEY_ROUTES,
        ],
        guards=[require_api_key],
        before_request=strict_query,
    )


def _warn_if_index_outdated(store: Store) -> None:
    """Log at start-up when the identity index was built with older keys or rules (after an
    upgrade): whoever just restarts the server never ran ``doctor``, which says the same."""
    conn = store.conn
    people = conn.execute("SELECT count(*) FROM identity_features").fetchone()[0]
    if people and index_version(conn) != INDEX_VERSION:
        log.warning(
            "the identity index of %s person record(s) was built with older blocking keys or "
            "matching rules, so some matches are missed or kept: run 'context-service resolve "
            "--all'",
            f"{people:,}",
        )


def create_app(
    settings: Settings,
    store: Store | None = None,
    connectors: Mapping[str, Connector] | None = None,
    llm_client: LlmClient | None = None,
    note_poster: NotePoster | None = None,
    trust: Trust | None = None,
    snapshot_drain: SnapshotDrain | None = None,
) -> Litestar:
    """Build the HTTP app. ``store``, ``connectors``, the LLM client, the helpdesk note
    poster and ``trust`` (keys, rate limits, verification, read audit; tests pass one with
    their own clocks) default to what the settings name. Settings that cannot work are refused
    here (``check_settings``), before anything is opened, not on each request.

    Queued snapshots (after a migration that queued every profile, or a run that stopped) are
    built by ``snapshot_drain`` in a background thread started at start-up, which the server
    does not wait for; meanwhile a read of a profile still queued builds that one first
    (``build_queued_on_read``), so no queued row is ever served."""
    check_settings(settings)
    the_store = store or Store(settings.db)
    client = vendor_client()
    the_connectors = (
        dict(connectors) if connectors is not None else build_webhook_connectors(settings, client)
    )
    ctx = ingest_context(settings)
    drain = snapshot_drain or SnapshotDrain(the_store, ctx)
    build_queued_on_read(the_store, ctx)

    def provide_store() -> Store:
        return the_store

    inbox_drains: list[threading.Thread] = []
    passes = OnePass()  # this app's webhook passes: one at a time, stopped by close()

    async def drain_on_startup() -> None:
        _warn_if_index_outdated(the_store)
        # As ``serve`` does before its workers start; an app another ASGI server starts
        # (uvicorn, gunicorn) would otherwise wait for the next CLI command. Several workers
        # share the work: each chunk reads where the last one stopped, in its transaction.
        await to_thread.run_sync(remap.remap_after_upgrade, the_store, ctx, log.warning)
        # Returns at once: a thread applies what a crash left behind while the server answers.
        drained = drain_inbox(the_store, the_connectors, ctx, app_pass, drain, passes)
        inbox_drains.append(drained)
        if refresher is not None:
            refresher.start()

    def close() -> None:
        # No retry pass may start with this app's clients (another app's may, with its own).
        waker_of(the_store).stop(app_pass)
        # The running pass (the startup drain's, or a delivery's) ends after the delivery in
        # hand, before the vendor clients close under it; the rest stays pending.
        passes.stop()
        for thread in inbox_drains:
            thread.join(timeout=INBOX_DRAIN_JOIN_S)
        drain.stop()  # after its chunk in progress; the rest stays queued
        if refresher is not None:
            refresher.stop()
        the_trust.audit.close()
        the_trust.keyring.close()
        client.close()
        if store is None:
            the_store.close()

    state = {
        "settings": settings,
        "api_keys": ApiKeys(settings.api_keys),
        "store": the_store,
        "connectors": the_connectors,
        "ingest_context": ctx,
        "inbox_pruner": InboxPruner(the_store, settings.inbox_retention_days),
        "snapshot_drain": drain,
        **context_state(
            settings, the_store, llm_client, note_poster or build_note_poster(settings, client)
        ),
    }
    # Reads are audited in batches a quarter second apart (see ``ReadAudit``).
    the_trust = trust or Trust(settings, the_store, audit_buffer_seconds=0.25)
    state["trust"] = the_trust
    state["field_policy"].use_key_grants(lambda key: key_grant(the_trust, key))
    state["toolbox"] = GuardedToolBox(
        the_trust,
        the_store.conn,
        settings.default_region,
        state["field_policy"],
        state["note_poster"],
        likely=settings.identity_review_threshold,
        thresholds=thresholds_of(settings),
    )
    # With an LLM configured, summaries someone asked for are made again, off the request
    # path, when their profile changes (woken after each applied webhook, else every minute).
    summarizer: Summarizer = state["summarizer"]
    refresher = SummaryRefresher(summarizer, state["field_policy"]) if summarizer.client else None
    state["summary_refresher"] = refresher
    state["webhook_passes"] = passes
    # The store's retry timer runs this app's pass, or another app's serving the same store.
    app_state = State(state)
    app_pass = webhook_pass(app_state, the_connectors)
    mcp_http = McpHttp(state["toolbox"])
    app = Litestar(
        route_handlers=[
            health,
            receive_webhook,
            get_widget,
            _protected_routes(settings),
            mcp_route(strict_asgi_query(mcp_http)),
        ],
        dependencies={"store": Provide(provide_store, use_cache=True, sync_to_thread=False)},
        exception_handlers={**EXCEPTION_HANDLERS, 405: method_not_allowed},
        request_class=ApiRequest,
        middleware=[utf8_query, valid_host],
        before_send=[never_stored],
        request_max_body_size=settings.max_body_bytes,
        state=app_state,
        on_startup=[drain_on_startup],
        lifespan=[mcp_http.lifespan],
        openapi_config=OpenAPIConfig(
            title="Customer context service",
            version=__version__,
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
            ),
            security=[{"bearer": []}],
            openapi_router=Router(
                "/schema",
                route_handlers=[],
                guards=[require_api_key],
                opt={"scope": AUTHENTICATED},
                before_request=strict_query,
                after_request=schema_not_found,
            ),
        ),
        on_shutdown=[close],
        # Litestar sets the root logger to INFO by default: the libraries the app runs (the
        # MCP SDK's session manager) would log at INFO whatever CONTEXT_SERVICE_LOG_LEVEL says.
        logging_config=LoggingConfig(
            root={"handlers": ["queue_listener"], "level": settings.log_level.upper()}
        ),
        debug=False,
    )
    # HEAD must be read as GET before routing, which no litestar hook comes before.
    app.asgi_handler = head_as_get(app.asgi_handler)
    return app
