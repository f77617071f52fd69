"""The one place that knows every source: mappers, connectors and the ingest context.

The CLI and the HTTP app both build what ingestion needs here, from the settings. Keeping it out
of ``api/app.py`` means a command such as ``context-service import`` starts without loading the
web framework, the LLM client or the MCP server.
"""

from __future__ import annotations

import functools
import ssl
from typing import TYPE_CHECKING, Any

import httpx

from context_service.identity.pairs import Thresholds
from context_service.models import Connector
from context_service.settings import ENV_PREFIX, Settings
from context_service.sheets import WithSheetSources
from context_service.snapshot.links import DashboardLinks
from context_service.sync import IngestContext

if TYPE_CHECKING:
    from integrations._http import RetryPolicy


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context (httpx's default: certifi's bundle, or ``SSL_CERT_FILE``)
    shared by every vendor client: loading the CA bundle takes some 45 ms, which each new
    client used to spend again (an app, a sync, a test)."""
    return httpx.create_ssl_context()


def vendor_client() -> httpx.Client:
    """The HTTP client the connectors and the note poster call vendors with: 30 s to answer,
    10 s to connect, certificates verified."""
    return httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0), verify=_tls_context())


def default_mappers() -> dict[str, Any]:
    """The mapper of every built-in source, keyed by source name."""
    from integrations import hubspot, shopify, stripe, zendesk

    return {m.SOURCE: m.map_record for m in (shopify, stripe, hubspot, zendesk)}


def ingest_context(settings: Settings) -> IngestContext:
    """Everything ingestion needs, from the settings."""
    return IngestContext(
        # Any source without a built-in mapper is a spreadsheet source (``context-service import``).
        mappers=WithSheetSources(default_mappers()),
        region=settings.default_region,
        links=DashboardLinks.from_settings(settings),
        thresholds=Thresholds(
            link=settings.identity_link_threshold, review=settings.identity_review_threshold
        ),
    )


def configured_sources(settings: Settings) -> list[str]:
    """Sources with credentials or a webhook secret set (what ``build_connectors`` builds)."""
    found = []
    if settings.shopify_shop and (settings.shopify_access_token or settings.shopify_webhook_secret):
        found.append("shopify")
    if settings.stripe_api_key or settings.stripe_webhook_secret:
        found.append("stripe")
    if settings.hubspot_access_token or settings.hubspot_client_secret:
        found.append("hubspot")
    zendesk_credentials = settings.zendesk_email and settings.zendesk_api_token
    if settings.zendesk_subdomain and (zendesk_credentials or settings.zendesk_webhook_secret):
        found.append("zendesk")
    return found


# The settings each source needs to sync from its API (webhooks alone need fewer).
SYNC_SETTINGS = {
    "shopify": ("shopify_shop", "shopify_access_token"),
    "stripe": ("stripe_api_key",),
    "hubspot": ("hubspot_access_token",),
    "zendesk": ("zendesk_subdomain", "zendesk_email", "zendesk_api_token"),
}


def missing_sync_settings(settings: Settings, source: str) -> list[str]:
    """The ``CONTEXT_SERVICE_*`` variables still unset that ``source`` needs to sync from its
    API (``SYNC_SETTINGS``); empty when it has them all, or is no source that syncs."""
    needed = SYNC_SETTINGS.get(source, ())
    return [ENV_PREFIX + name.upper() for name in needed if not getattr(settings, name)]


def build_connectors(settings: Settings, client: httpx.Client) -> dict[str, Connector]:
    """A connector for every source that has credentials or a webhook secret configured,
    retrying a vendor that is busy (429, 5xx) as patiently as a sync run needs: waiting out a
    ``Retry-After`` of up to 15 minutes in all for one call (``_http.SYNC_MAX_WAIT``)."""
    return _connectors(settings, client, policy=None)


def build_webhook_connectors(settings: Settings, client: httpx.Client) -> dict[str, Connector]:
    """``build_connectors`` for a process that applies webhook deliveries and runs no sync
    (the server): every vendor call gives up at once on a busy vendor
    (``integrations._http.REFETCH_POLICY``: no in-line wait of more than a few seconds). The
    delivery then stays pending and the inbox tries it again later, while the deliveries behind
    it are applied, instead of one thread sleeping a ``Retry-After`` of minutes for each."""
    from integrations._http import REFETCH_POLICY

    return _connectors(settings, client, policy=REFETCH_POLICY)


def _connectors(
    settings: Settings, client: httpx.Client, policy: RetryPolicy | None
) -> dict[str, Connector]:
    """The configured sources' connectors, every one retrying with ``policy`` (``None``: the
    patient default)."""
    from integrations.hubspot import HubSpotConnector
    from integrations.shopify import ShopifyConnector
    from integrations.stripe import StripeConnector
    from integrations.zendesk import ZendeskConnector

    sources = configured_sources(settings)
    found: dict[str, Connector] = {}
    if "shopify" in sources and settings.shopify_shop:
        found["shopify"] = ShopifyConnector(
            client,
            shop=settings.shopify_shop,
            access_token=settings.shopify_access_token,
            webhook_secret=settings.shopify_webhook_secret,
            previous_webhook_secret=settings.shopify_previous_webhook_secret,
            base_url=settings.shopify_base_url,
            policy=policy,
        )
    if "stripe" in sources:
        found["stripe"] = StripeConnector(
            client,
            api_key=settings.stripe_api_key,
            webhook_secret=settings.stripe_webhook_secret,
            base_url=settings.stripe_base_url,
            policy=policy,
        )
    if "hubspot" in sources:
        found["hubspot"] = HubSpotConnector(
            client,
            access_token=settings.hubspot_access_token,
            client_secret=settings.hubspot_client_secret,
            base_url=settings.hubspot_base_url,
            archived_every_seconds=settings.hubspot_archived_every_seconds,
            portal_id=settings.hubspot_portal_id,
            policy=policy,
        )
    if "zendesk" in sources:
        found["zendesk"] = ZendeskConnector(
            subdomain=settings.zendesk_subdomain,
            email=settings.zendesk_email,
            api_token=settings.zendesk_api_token,
            webhook_secret=settings.zendesk_webhook_secret,
            base_url=settings.zendesk_base_url,
            client=client,
            policy=policy,
        )
    return found
