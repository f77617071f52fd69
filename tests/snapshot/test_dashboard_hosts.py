"""Dashboard links from the forms the settings accept: a Zendesk subdomain or its full host, a
Shopify handle or its ``*.myshopify.com`` domain in any case."""

from __future__ import annotations

import pytest

from context_service.models import RecordKey
from context_service.snapshot.links import DashboardLinks

TICKET = RecordKey("zendesk", "ticket", "7")
ORDER = RecordKey("shopify", "order", "5550000000026")


@pytest.mark.parametrize("subdomain", ["acme", "acme.zendesk.com", "ACME.Zendesk.com"])
def test_a_zendesk_subdomain_or_host_links_to_the_ticket(subdomain: str) -> None:
    url = DashboardLinks(zendesk_subdomain=subdomain).url(TICKET)
    assert url is not None
    assert url.lower() == "https://acme.zendesk.com/agent/tickets/7"


@pytest.mark.parametrize("shop", ["acme", "acme.myshopify.com", "acme.MyShopify.com"])
def test_a_shop_handle_or_domain_links_to_the_order(shop: str) -> None:
    url = DashboardLinks(shopify_shop=shop).url(ORDER)
    assert url == "https://admin.shopify.com/store/acme/orders/5550000000026"
