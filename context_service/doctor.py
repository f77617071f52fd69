"""``context-service doctor``: check the configuration and say what is wrong in plain words.

Each check returns findings: ``ok``, ``warning`` (works, but probably not what you want) or
``problem`` (something will fail). Findings name settings, hosts and counts, never a secret's
value. Network checks go through ``probe`` so tests run without a network. ``start_problems``
(what the HTTP app refuses as it is built) is shared with ``serve`` and ``demo``, which check it
before their workers start.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from context_service.errors import ConfigurationError, ContextServiceError
from context_service.identity.features import INDEX_VERSION
from context_service.identity.state import index_version
from context_service.settings import Settings, unused_jwt_keys, url_fault
from context_service.store import Store
from context_service.store.migrations import applied, pending
from context_service.store.records import unindexed_people
from context_service.sync.remap import queued

Level = Literal["ok", "warning", "problem"]
Probe = Callable[[str], str | None]  # url -> None when reachable, else why not
# settings -> the HubSpot access token's portal id; ValueError saying why it is unknown
PortalReader = Callable[[Settings], str]
MIN_SECRET = 16
# (source, settings that enable its API, its webhook secret setting)
_WEBHOOK_SECRETS = (
    ("shopify", ("shopify_access_token",), "shopify_webhook_secret"),
    ("stripe", ("stripe_api_key",), "stripe_webhook_secret"),
    ("hubspot", ("hubspot_access_token",), "hubspot_client_secret"),
    ("zendesk", ("zendesk_api_token",), "zendesk_webhook_secret"),
)


class Finding(msgspec.Struct, frozen=True):
    """One line of the report."""

    level: Level
    text: str

    def line(self) -> str:
        """The finding as printed."""
        return f"{self.level:8} {self.text}"


def env(name: str) -> str:
    """A setting's environment variable name."""
    return "CONTEXT_SERVICE_" + name.upper()


def http_probe(url: str) -> str | None:
    """GET ``url``; any HTTP answer means reachable (auth is checked by the real calls)."""
    import httpx

    try:
        httpx.get(url, timeout=5.0, follow_redirects=False)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return None


def store_missing(settings: Settings) -> bool:
    """Whether ``CONTEXT_SERVICE_DB`` names no database yet: the checks then open nothing, as
    opening it would create an empty store wherever a mistyped path points."""
    return settings.db != ":memory:" and not Path(settings.db).exists()


def check_database(settings: Settings) -> Iterator[Finding]:
    """The database exists, opens, migrates and takes a write lock; opening it applies the
    pending migrations, as every command does, and the report names them. An empty
    ``CONTEXT_SERVICE_DB`` is opened nowhere (``setting_problems`` names it)."""
    if not settings.db:
        return
    if store_missing(settings):
        yield _missing_store(settings)
        yield from _check_keys(settings, 0)
        return
    due = migrations_due(settings.db)
    try:
        store = Store(settings.db)
    except (ContextServiceError, sqlite3.Error, OSError) as exc:
        yield Finding("problem", f"database {settings.db} cannot be opened: {exc}{_due(due)}")
        return
    try:
        with store.transaction() as conn:
            conn.execute("SELECT count(*) FROM _migrations").fetchone()
        keys = store.conn.execute("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL")
        stored = int(keys.fetchone()[0])
        done = set(applied(store.db))
        stale = store.stale_snapshots
    except sqlite3.Error as exc:
        yield Finding("problem", f"database {settings.db} is not writable: {exc}")
        return
    finally:
        store.close()
    yield Finding("ok", f"database {settings.db} is writable")
    migrated = [name for name in due or [] if name in done]
    if migrated:
        yield Finding(
            "warning",
            f"database {settings.db} was migrated on opening (its schema changed, as any "
            f"command after an upgrade does): applied {', '.join(migrated)}",
        )
    if stale:
        yield _stale_snapshots(settings.db, stale)
    yield from _check_keys(settings, stored)


def _stale_snapshots(path: str, count: int) -> Finding:
    """The warning for snapshots an older release wrote after this one migrated the file."""
    return Finding(
        "warning",
        f"database {path}: {count} snapshot(s) were written by an older release of "
        "context-service since this one migrated the file (an old `serve` or `sync` still "
        "running on it?); they are queued and built again by this release. Stop every "
        "process of the older release on this file",
    )


def migrations_due(path: str) -> list[str] | None:
    """The migrations that opening the database at ``path`` would apply, read without changing
    it; ``None`` where it cannot be read so (an in-memory one is new: nothing to say)."""
    if path == ":memory:":
        return []
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return pending(conn)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _due(due: list[str] | None) -> str:
    """What a report of a store that failed to open adds about its pending migrations."""
    return f" (migrations due: {', '.join(due)})" if due else ""


def _missing_store(settings: Settings) -> Finding:
    """What to say when ``CONTEXT_SERVICE_DB`` names no database yet (a fresh install, or a
    mistyped path): whether the commands can create it there."""
    folder = Path(settings.db).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        return Finding(
            "problem",
            f"no database at {settings.db}, and its folder {folder} is missing or not writable: "
            "check CONTEXT_SERVICE_DB",
        )
    return Finding(
        "warning",
        f"no database at {settings.db} yet (its folder is writable: 'sync', 'import', 'demo' and "
        "'serve' create it there): check CONTEXT_SERVICE_DB if you expected your data there",
    )


def _check_keys(settings: Settings, stored: int) -> Iterator[Finding]:
    if not settings.api_keys and not stored:
        yield Finding(
            "problem",
            "no API key: set CONTEXT_SERVICE_API_KEYS or run 'context-service keys create'",
        )
    if settings.api_keys:
        yield Finding(
            "warning",
            f"{len(settings.api_keys)} bootstrap key(s) in CONTEXT_SERVICE_API_KEYS hold every "
            "scope and count as trusted backends; prefer scoped keys ('keys create')",
        )
    if any(len(k) < MIN_SECRET for k in settings.api_keys):
        yield Finding("problem", f"a key in CONTEXT_SERVICE_API_KEYS is under {MIN_SECRET} chars")
    if stored:
        yield Finding("ok", f"{stored} scoped API key(s) live")


def check_webhook_secrets(settings: Settings, sources: list[str]) -> Iterator[Finding]:
    """Every source that syncs from its API also verifies its webhooks, and every source that
    verifies webhooks can read its API: a delivery is applied by looking the object up when it
    carries only an id (HubSpot), two updates share a second (Stripe) or a deletion must be
    confirmed (Shopify, Zendesk)."""
    from context_service.wiring import missing_sync_settings

    for source, enabling, secret in _WEBHOOK_SECRETS:
        if source not in sources:
            continue
        if not any(getattr(settings, s) for s in enabling):
            if getattr(settings, secret):
                missing = ", ".join(missing_sync_settings(settings, source)) or "its API key"
                yield Finding(
                    "warning",
                    f"{source}: webhooks are verified but its API is not configured (set "
                    f"{missing}): a delivery that must be looked up at {source} (an event that "
                    "carries only an id, two updates in one second, a deletion to confirm) "
                    "is accepted, then fails and waits in the inbox",
                )
            continue
        if getattr(settings, secret):
            yield Finding("ok", f"{source}: webhook secret set")
        else:
            yield Finding(
                "problem", f"{source} is enabled but {env(secret)} is not set: its webhooks fail"
            )


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")


def check_reachable(targets: dict[str, str], probe: Probe) -> Iterator[Finding]:
    """Each configured source's or the LLM's base URL answers (one that is no URL is not
    asked: ``setting_problems`` names it)."""
    for name, url in sorted(targets.items()):
        if url_fault(url):
            continue
        why = probe(url)
        where = _host(url)
        if why is None:
            yield Finding("ok", f"{name}: {where} is reachable")
        else:
            yield Finding("problem", f"{name}: {where} is not reachable ({why})")


def read_hubspot_portal(settings: Settings) -> str:
    """The portal of the HubSpot access token, read as the connector reads it
    (``HubSpotConnector.account_portal_id``, giving up at once on a busy HubSpot);
    ``ValueError`` saying why when it cannot be read."""
    from context_service.wiring import build_webhook_connectors, vendor_client
    from integrations.hubspot import HubSpotConnector

    with vendor_client() as client:
        try:
            connector = build_webhook_connectors(settings, client).get("hubspot")
            if not isinstance(connector, HubSpotConnector):
                raise ValueError("HubSpot is not configured")
            return connector.account_portal_id()
        except ContextServiceError as exc:
            raise ValueError(exc.detail) from exc


def check_hubspot_portal(
    settings: Settings, sources: list[str], read_portal: PortalReader
) -> Iterator[Finding]:
    """The portal whose webhook events are applied is the one the access token syncs: a
    ``CONTEXT_SERVICE_HUBSPOT_PORTAL_ID`` naming another portal refuses every event."""
    from integrations.hubspot import ACCOUNT_DETAILS_PATH, PORTAL_SETTING, portal_text

    if "hubspot" not in sources or not settings.hubspot_access_token:
        return
    if url_fault(settings.hubspot_base_url) or _unreadable_portal(settings.hubspot_portal_id):
        return  # ``setting_problems`` or ``start_problems`` names it: nothing to compare
    try:
        synced = read_portal(settings)
    except ValueError as exc:
        yield Finding(
            "warning",
            f"hubspot: the access token's portal could not be read from GET "
            f"{ACCOUNT_DETAILS_PATH} ({exc}), so {PORTAL_SETTING} was not checked",
        )
        return
    configured = portal_text(settings.hubspot_portal_id)
    if settings.hubspot_portal_id is None:
        yield Finding("ok", f"hubspot: webhook events of portal {synced} (the token's) apply")
    elif configured == synced:
        yield Finding("ok", f"hubspot: {PORTAL_SETTING} is the access token's portal ({synced})")
    else:
        yield Finding(
            "problem",
            f"hubspot: {PORTAL_SETTING} is {settings.hubspot_portal_id!r} but the access token "
            f"syncs portal {synced}: every webhook event of that portal is refused",
        )


def source_urls(settings: Settings, sources: list[str]) -> dict[str, str]:
    """The base URL of every configured source, as its connector builds it (a shop or a
    Zendesk account given as a full domain is kept as it is)."""
    from integrations.shopify.connector import shop_base_url
    from integrations.zendesk.connector import zendesk_base_url

    urls = {
        "stripe": settings.stripe_base_url,
        "hubspot": settings.hubspot_base_url,
        "shopify": settings.shopify_base_url or _shop_url(settings.shopify_shop, shop_base_url),
        "zendesk": zendesk_base_url(settings.zendesk_subdomain, settings.zendesk_base_url),
    }
    return {s: url for s, url in urls.items() if s in sources and url}


def _shop_url(shop: str | None, base_url: Callable[[str], str]) -> str | None:
    """The shop's Admin API base URL; ``None`` for none, or for a shop that names no host
    (``https://``: ``setting_problems`` names it)."""
    try:
        return base_url(shop) if shop else None
    except ContextServiceError:
        return None


def check_llm(settings: Settings) -> Iterator[Finding]:
    """An LLM is either fully configured or not at all, and its base URL is a base (not an
    endpoint such as ``/v1/chat/completions``) with an API version."""
    if not settings.llm_base_url and not settings.llm_model:
        yield Finding("ok", "no LLM configured: summaries are deterministic")
        return
    if not (settings.llm_base_url and settings.llm_model):
        yield Finding(
            "problem", "set both CONTEXT_SERVICE_LLM_BASE_URL and CONTEXT_SERVICE_LLM_MODEL"
        )
        return
    if url_fault(settings.llm_base_url):
        return  # ``setting_problems`` names it
    parts = urlsplit(settings.llm_base_url)
    path = parts.path
    endpoint = _ENDPOINT.search(path)
    if endpoint:
        path = path[: endpoint.start()]
        yield Finding(
            "problem", _endpoint_text(parts.scheme, parts.netloc, path, endpoint[1], parts.query)
        )
    if not _VERSION_SEGMENT.search(path):
        yield Finding(
            "warning",
            "CONTEXT_SERVICE_LLM_BASE_URL has no API version in its path: Ollama, vLLM, "
            "LM Studio and OpenAI answer under /v1, and without it their summaries fall back "
            "with HTTP 404; add /v1 unless your provider documents a base URL without one",
        )


_VERSION_SEGMENT = re.compile(r"(^|/)v\d+[a-z0-9]*(/|$)")
# An OpenAI-compatible endpoint at the end of a path: the client appends ``/chat/completions``
# to the base URL itself, so a pasted endpoint is called as ``.../chat/completions/chat/...``.
_ENDPOINT = re.compile(
    r"/(chat/completions|completions|responses|embeddings|models)/*$", re.IGNORECASE
)


def _endpoint_text(scheme: str, netloc: str, path: str, endpoint: str, query: str) -> str:
    """What to say of a base URL that ends in an endpoint: the base URL to use instead, without
    a user, a password or the query (which may hold a key: it is only said to keep it)."""
    host = netloc.rpartition("@")[2]  # never a user or password
    base = f"{scheme}://{host}{path.rstrip('/')}"
    keep = ", keeping its query string" if query else ""
    return (
        f"CONTEXT_SERVICE_LLM_BASE_URL ends in the endpoint /{endpoint}, not the API's base URL: "
        "the client appends /chat/completions itself, so every summary falls back with HTTP "
        f"404; use {base} instead{keep}"
    )


def check_verification(settings: Settings) -> Iterator[Finding]:
    """End-user verification for chatbots: whether any is configured (bad values, such as short
    secrets or a JWT key without issuer and audience, are ``setting_problems``)."""
    has_jwt_key = settings.chatbot_jwt_secret or settings.chatbot_jwt_public_key
    if not settings.chatbot_user_hash_secrets and not has_jwt_key:
        yield Finding(
            "warning",
            "no end-user verification configured: chatbot keys that are not trusted backends "
            "always get the unverified context",
        )
    for name in unused_jwt_keys(settings):
        yield Finding(
            "warning",
            f"{name} verifies nothing: CONTEXT_SERVICE_CHATBOT_JWT_ALGORITHMS allows no "
            "algorithm for it (the other JWT key is used); remove it once no token needs it",
        )


TRAIN_AFTER_RECORDS = 10_000  # below this, the starting weights are as good as an estimate


def check_identity(settings: Settings) -> Iterator[Finding]:
    """The identity index follows the current blocking keys, and a large store has a model
    estimated from its own records."""
    if store_missing(settings):
        return  # check_database has said so
    try:
        store = Store(settings.db)
    except (ContextServiceError, sqlite3.Error, OSError):
        return  # check_database has said why
    try:
        conn = store.conn
        people = conn.execute("SELECT count(*) FROM identity_features").fetchone()[0]
        unindexed = unindexed_people(conn)
        waiting = queued(conn)
        version = index_version(conn)
        trained = conn.execute("SELECT trained_at FROM identity_model WHERE id = 1").fetchone()
    finally:
        store.close()
    if waiting:
        yield _remap_waits(waiting)
    if unindexed:
        yield _unindexed(unindexed)
    elif people and version != INDEX_VERSION:
        yield Finding(
            "warning",
            f"the identity index of {people:,} person records was built with older blocking "
            "keys or matching rules, so some matches are missed or kept: run "
            "'context-service resolve --all'",
        )
    elif people:
        yield Finding("ok", f"identity index of {people:,} person records is current")
    if people >= TRAIN_AFTER_RECORDS and trained is None:
        yield Finding(
            "warning",
            f"identity matching uses built-in starting weights on {people:,} person records: "
            "run 'context-service resolve --all --train' to estimate them from this store",
        )
    elif trained is not None:
        yield Finding("ok", f"identity model trained on this store at {trained[0]}")


def _unindexed(count: int) -> Finding:
    """What to say when person records are missing from the identity index: whatever the
    index version says, none of them can be matched by a new record."""
    return Finding(
        "warning",
        f"the identity index lacks {count:,} stored person records (a store written before "
        "the identity engine): a new record that matches one of them becomes a duplicate "
        "profile; the next sync, import or webhook builds the index first, or run "
        "'context-service resolve --all' now",
    )


def _remap_waits(waiting: list[tuple[str, str]]) -> Finding:
    """What to say while stored records wait to be mapped again after an upgrade that fixed
    their mapper (``sync.remap``): until then profiles show what the older release made."""
    what = ", ".join(f"{source} {kind}" for source, kind in waiting)
    return Finding(
        "warning",
        f"the stored records of {what} were mapped by an older release, whose mapper has been "
        "fixed since (Zendesk: staff merged into customers with their email), and profiles "
        "show the old mapping: the next sync, import, lookup, export, serve start or "
        "'context-service resolve --all' maps them again",
    )


def check_misc(settings: Settings) -> Iterator[Finding]:
    """Settings that work but weaken something. (Widget links need no setting: without
    ``CONTEXT_SERVICE_WIDGET_SECRET`` they are signed with a random secret the store keeps.)"""
    if settings.rate_limit_per_minute <= 0:
        yield Finding("warning", "rate limits are off (CONTEXT_SERVICE_RATE_LIMIT_PER_MINUTE)")


def check_app_builds(settings: Settings) -> Iterator[Finding]:
    """What ``serve`` would refuse as it builds the app (``start_problems``)."""
    for problem in start_problems(settings):
        yield Finding("problem", problem)


def start_problems(settings: Settings) -> list[str]:
    """What ``api.app.create_app`` refuses as it is built, beyond the values
    ``setting_problems`` checks: a field policy file that is no valid policy, an LLM model name
    with spaces or control characters around it, a HubSpot portal id that is no number; one
    line a problem, each naming its variable (never a secret's value).

    The app meets these only as it builds its field policy, LLM client and connectors, which
    ``serve`` does in each worker process: a refusal there was a worker's traceback and
    granian's exit. ``serve`` and ``demo`` ask here before any worker starts (``check_start``)
    and ``doctor`` lists them. Each check calls the constructor the app calls
    (``load_policy``, ``client_from_settings``, ``build_webhook_connectors``), so the two
    cannot disagree; none opens the store or calls a vendor. A check whose setting
    ``setting_problems`` already refuses (a policy file that does not exist, an LLM base URL
    that is no URL) is skipped: that problem is named once."""
    problems: list[str] = []
    for check in (_policy_loads, _llm_client_builds, _connectors_build):
        try:
            check(settings)
        except ConfigurationError as exc:
            problems.append(exc.detail)
    return problems


def check_start(settings: Settings) -> None:
    """Raise one ``ConfigurationError`` naming every ``start_problems`` line (``main`` prints
    each as an ``error:`` line, exit 2)."""
    problems = start_problems(settings)
    if problems:
        raise ConfigurationError("; ".join(problems), problems=problems)


def _policy_loads(settings: Settings) -> None:
    """The field policy file, read as the app reads it."""
    from context_service.audience import load_policy

    path = settings.field_policy
    if not path or not Path(path).is_file():
        return  # none, or a missing file: ``setting_problems`` names that
    try:
        load_policy(path)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{env('field_policy')}: {exc.detail}") from exc


def _llm_client_builds(settings: Settings) -> None:
    """The LLM client, built (and closed at once) as the app builds it."""
    from context_service.llm import client_from_settings

    if settings.llm_base_url and url_fault(settings.llm_base_url):
        return  # ``setting_problems`` names the URL
    client = client_from_settings(
        settings.llm_base_url,
        settings.llm_api_key,
        settings.llm_model,
        float(settings.llm_timeout_seconds),
    )
    if client is not None:
        client.close()


def _connectors_build(settings: Settings) -> None:
    """The webhook connectors of the configured sources, built as the app builds them."""
    from context_service.wiring import build_webhook_connectors, vendor_client

    with vendor_client() as client:
        build_webhook_connectors(settings, client)


def _unreadable_portal(configured: str | None) -> bool:
    """Whether a HubSpot portal id is set but is no portal id (``start_problems`` says so)."""
    from integrations.hubspot import portal_text

    return bool(configured and configured.strip()) and portal_text(configured) is None


_UNTIL_FIXED = "until the settings' problems are fixed (then run doctor again)"


def diagnose(
    settings: Settings,
    sources: list[str],
    probe: Probe = http_probe,
    read_portal: PortalReader = read_hubspot_portal,
    *,
    network: bool = True,
) -> list[Finding]:
    """Every finding, in a stable order; without ``network`` (settings with problems, which
    a vendor's answer would only repeat) no source, LLM or HubSpot portal is asked."""
    targets = source_urls(settings, sources)
    if settings.llm_base_url and settings.llm_model:  # (one that is no URL is not probed)
        targets["llm"] = settings.llm_base_url.rstrip("/") + "/models"
    if network:
        asked = [
            *check_reachable(targets, probe),
            *check_hubspot_portal(settings, sources, read_portal),
        ]
    else:
        names = ", ".join(sorted(targets))
        asked = [Finding("warning", f"{names}: not probed {_UNTIL_FIXED}")] if targets else []
    return [
        *check_database(settings),
        *check_identity(settings),
        *check_webhook_secrets(settings, sources),
        *asked,
        *check_llm(settings),
        *check_verification(settings),
        *check_misc(settings),
        *check_app_builds(settings),
    ]
