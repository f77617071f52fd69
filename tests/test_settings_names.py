"""The Shopify shop and the Zendesk subdomain are names, not URLs: an empty value (``FOO=`` in
a ``.env`` file), a pasted URL or a name with spaces stops the start naming the variable, as an
empty or malformed base URL does, instead of quietly leaving the source unconfigured or calling
``https://https://...``."""

from __future__ import annotations

import pytest

from context_service.errors import ConfigurationError
from context_service.settings import load_settings

PREFIX = "CONTEXT_SERVICE_"


def _problems(environ: dict[str, str]) -> list[str]:
    try:
        load_settings(environ=environ)
    except ConfigurationError as exc:
        return list(exc.extra["problems"])
    return []


@pytest.mark.parametrize(
    "shop", ["", " ", "https://acme.myshopify.com", "acme.myshopify.com/", "acme shop", " acme"]
)
def test_a_shop_that_is_no_handle_or_domain_is_refused(shop: str) -> None:
    problems = _problems({f"{PREFIX}SHOPIFY_SHOP": shop})
    assert [p for p in problems if p.startswith(f"{PREFIX}SHOPIFY_SHOP")], problems


@pytest.mark.parametrize("shop", ["acme", "acme-store", "acme.myshopify.com", "Acme2"])
def test_a_shop_handle_or_domain_is_accepted(shop: str) -> None:
    assert _problems({f"{PREFIX}SHOPIFY_SHOP": shop}) == []


@pytest.mark.parametrize(
    "subdomain", ["", "https://acme.zendesk.com", "acme/", "acme support", "acme.zendesk.com/"]
)
def test_a_zendesk_subdomain_that_is_no_name_or_host_is_refused(subdomain: str) -> None:
    problems = _problems({f"{PREFIX}ZENDESK_SUBDOMAIN": subdomain})
    assert [p for p in problems if p.startswith(f"{PREFIX}ZENDESK_SUBDOMAIN")], problems


@pytest.mark.parametrize("subdomain", ["acme", "acme-eu", "acme.zendesk.com"])
def test_a_zendesk_subdomain_or_host_is_accepted(subdomain: str) -> None:
    assert _problems({f"{PREFIX}ZENDESK_SUBDOMAIN": subdomain}) == []
