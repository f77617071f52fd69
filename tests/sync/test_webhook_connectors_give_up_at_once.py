"""The connectors that apply webhook deliveries give up at once on a busy vendor; a sync waits.

A refetch answered 429 leaves its delivery pending for the inbox to try again later (README,
webhooks). Waiting out a ``Retry-After`` of minutes in-line instead would hold up every
delivery behind it, so the connectors a webhook-applying process builds
(``wiring.build_webhook_connectors``) retry with ``REFETCH_POLICY`` (a few seconds in-line at
most), whatever the vendor, while those a sync builds (``wiring.build_connectors``) keep the
patient default. A Zendesk connector's refetches give up at once whichever built it: Zendesk
refetches only for webhooks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.settings import Settings, load_settings
from context_service.wiring import build_connectors, build_webhook_connectors
from integrations._http import REFETCH_POLICY, RetryPolicy
from integrations.zendesk import ZendeskConnector

EVERY_SOURCE = {
    "CONTEXT_SERVICE_SHOPIFY_SHOP": "acme",
    "CONTEXT_SERVICE_SHOPIFY_ACCESS_TOKEN": "shpat_test",
    "CONTEXT_SERVICE_STRIPE_API_KEY": "sk_test_123",
    "CONTEXT_SERVICE_HUBSPOT_ACCESS_TOKEN": "pat-test",
    "CONTEXT_SERVICE_ZENDESK_SUBDOMAIN": "acme",
    "CONTEXT_SERVICE_ZENDESK_EMAIL": "agent@acme.example",
    "CONTEXT_SERVICE_ZENDESK_API_TOKEN": "zd-test",
}


@pytest.fixture
def settings() -> Settings:
    return load_settings(environ=EVERY_SOURCE)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as the_client:
        yield the_client


def _policies(connectors: dict[str, Any]) -> dict[str, RetryPolicy]:
    return {source: connector.http.policy for source, connector in connectors.items()}


def test_webhook_connectors_give_up_at_once_and_sync_connectors_wait(
    settings: Settings, client: httpx.Client
) -> None:
    sources = ["shopify", "stripe", "hubspot", "zendesk"]
    webhooks = _policies(dict(build_webhook_connectors(settings, client)))
    assert webhooks == dict.fromkeys(sources, REFETCH_POLICY)
    assert REFETCH_POLICY.max_attempts <= 2
    assert REFETCH_POLICY.max_wait <= 5  # the longest Retry-After waited in-line
    assert _policies(dict(build_connectors(settings, client))) == dict.fromkeys(
        sources, RetryPolicy()
    )


@pytest.mark.parametrize("build", [build_connectors, build_webhook_connectors])
def test_zendesk_refetches_give_up_at_once_whichever_builds_it(
    settings: Settings, client: httpx.Client, build: Any
) -> None:
    zendesk = build(settings, client)["zendesk"]
    assert isinstance(zendesk, ZendeskConnector)
    assert zendesk.refetch_api.http.policy == REFETCH_POLICY


def test_the_server_applies_webhooks_with_the_connectors_that_give_up(tmp_path: Path) -> None:
    environ = {
        **EVERY_SOURCE,
        "CONTEXT_SERVICE_DB": str(tmp_path / "server.db"),
        "CONTEXT_SERVICE_API_KEYS": "a-long-enough-bootstrap-key",
    }
    sources = ["shopify", "stripe", "hubspot", "zendesk"]
    with TestClient(app=create_app(load_settings(environ=environ))) as served:
        policies = _policies(dict(served.app.state.connectors))
    assert policies == dict.fromkeys(sources, REFETCH_POLICY)
