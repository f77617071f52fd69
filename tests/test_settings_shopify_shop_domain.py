"""A Shopify shop written as a domain must be the shop's ``*.myshopify.com``
domain (the Admin API's host, which the access token is sent to): another domain, a typo of
it included, stops the start instead of sending the token elsewhere."""

from __future__ import annotations

import pytest

from context_service.errors import ConfigurationError
from context_service.settings import load_settings

VARIABLE = "CONTEXT_SERVICE_SHOPIFY_SHOP"


def _problems(shop: str) -> list[str]:
    try:
        load_settings(environ={VARIABLE: shop})
    except ConfigurationError as exc:
        return [p for p in exc.extra["problems"] if p.startswith(VARIABLE)]
    return []


@pytest.mark.parametrize("shop", ["acme.com", "acme.myshopfy.com", "shop.acme.co.uk"])
def test_a_domain_that_is_not_a_myshopify_domain_is_refused(shop: str) -> None:
    [problem] = _problems(shop)
    assert "myshopify.com" in problem


@pytest.mark.parametrize("shop", ["acme", "acme.myshopify.com", "Acme-Store.MyShopify.com"])
def test_a_handle_or_myshopify_domain_is_accepted(shop: str) -> None:
    assert _problems(shop) == []
