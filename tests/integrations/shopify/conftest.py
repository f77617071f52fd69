"""Fixtures shared by the Shopify tests: a fake shop and a connector pointed at it."""

from __future__ import annotations

import pytest

from integrations.shopify import ShopifyConnector
from tests.integrations.shopify.fake import FakeShopify


@pytest.fixture
def fake() -> FakeShopify:
    """A fresh fake Shopify shop (GraphQL API and signed webhooks)."""
    return FakeShopify()


@pytest.fixture
def connector(fake: FakeShopify) -> ShopifyConnector:
    """A connector that talks to ``fake``."""
    return fake.connector()
