"""The configured portal (``CONTEXT_SERVICE_HUBSPOT_PORTAL_ID``) reaches the connectors the
server and a sync build: only its webhook events are applied, with no request to learn it."""

from __future__ import annotations

import httpx
import pytest

from context_service.settings import load_settings
from context_service.wiring import build_connectors, build_webhook_connectors
from integrations.hubspot import HubSpotConnector


@pytest.mark.parametrize("build", [build_connectors, build_webhook_connectors])
def test_the_configured_portal_is_the_connectors(build: object) -> None:
    environ = {
        "CONTEXT_SERVICE_HUBSPOT_ACCESS_TOKEN": "pat-test",
        "CONTEXT_SERVICE_HUBSPOT_PORTAL_ID": "4242424",
    }
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))) as client:
        hubspot = build(load_settings(environ=environ), client)["hubspot"]  # type: ignore[operator]
        assert isinstance(hubspot, HubSpotConnector)
        assert hubspot._portal.known() == "4242424"  # no request made to learn it
