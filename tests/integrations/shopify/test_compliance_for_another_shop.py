"""Compliance deliveries for another shop: the signed body's ``shop_domain`` must be ours.

Shopify's mandatory compliance webhooks (``customers/data_request``, ``customers/redact``,
``shop/redact``) are configured once per app, and one app's client secret signs the deliveries
of every shop that installed it. A valid signature therefore says nothing about which shop a
delivery is for; ``X-Shopify-Shop-Domain`` says it but is not signed (and may be missing). The
body is signed and names the shop, so another shop's body is refused like a delivery whose header
names another shop (401, nothing stored), whatever the header says: another shop's uninstall
must not delete this store's Shopify data, nor its customer ids erase or report ours.
"""

from __future__ import annotations

from typing import Any

import pytest

from context_service.errors import MappingError, WebhookRejected
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, apply_pending, ingest_batch, receive
from integrations.shopify import ShopifyConnector
from tests.integrations.shopify.fake import SHOP, FakeShopify
from tests.integrations.shopify.test_webhooks import NOW, URL
from tests.payloads import shopify_customer, shopify_order

OURS = f"{SHOP}.myshopify.com"
OTHER = "other-shop.myshopify.com"
CUSTOMER = 191167


def _load(store: Store, ctx: IngestContext) -> None:
    ingest_batch(
        store,
        [
            RawPayload(*shopify_customer(CUSTOMER, "ann.lee@example.com", "Ann", "Lee")),
            RawPayload(*shopify_order(299938, CUSTOMER, "#1001", "2026-08-01T00:00:00Z")),
            RawPayload(*shopify_customer(2, "bo.park@example.com", "Bo", "Park")),
        ],
        ctx,
    )


def _count(store: Store, sql: str) -> int:
    return int(store.conn.execute(sql).fetchone()[0])


def _shopify_records(store: Store) -> int:
    return _count(store, "SELECT count(*) FROM records WHERE source = 'shopify'")


def _bodies(domain: str) -> dict[str, dict[str, Any]]:
    customer = {"id": CUSTOMER, "email": "ann.lee@example.com", "phone": None}
    return {
        "shop/redact": {"shop_id": 954889, "shop_domain": domain},
        "customers/redact": {
            "shop_id": 954889,
            "shop_domain": domain,
            "customer": customer,
            "orders_to_redact": [299938],
        },
        "customers/data_request": {
            "shop_id": 954889,
            "shop_domain": domain,
            "customer": customer,
            "orders_requested": [299938],
            "data_request": {"id": 9999},
        },
    }


def _signed(
    fake: FakeShopify, topic: str, domain: str, header: str | None
) -> tuple[dict[str, str], bytes]:
    headers, raw = fake.signed(topic, _bodies(domain)[topic], triggered_at=NOW - 60)
    del headers["X-Shopify-Shop-Domain"]
    if header is not None:
        headers["X-Shopify-Shop-Domain"] = header
    return headers, raw


def _refused(
    store: Store, connector: ShopifyConnector, headers: dict[str, str], raw: bytes
) -> None:
    with pytest.raises(WebhookRejected, match="not the one this service syncs"):
        receive(store, connector, headers, raw, URL, NOW)
    assert _count(store, "SELECT count(*) FROM webhook_inbox") == 0  # refused, not stored


HEADERS = pytest.mark.parametrize("header", [OURS, None], ids=["our-header", "no-header"])


@HEADERS
def test_another_shops_shop_redact_deletes_nothing_here(
    fake: FakeShopify, store: Store, ctx: IngestContext, header: str | None
) -> None:
    """The review's case: another shop uninstalled the app; its signed ``shop/redact`` arrives
    with our shop in the unsigned header, or with no header at all."""
    _load(store, ctx)
    connector = fake.connector()
    _refused(store, connector, *_signed(fake, "shop/redact", OTHER, header))
    assert apply_pending(store, {"shopify": connector}, ctx) == 0
    assert _shopify_records(store) == 3


@HEADERS
def test_another_shops_customer_redaction_erases_nothing_here(
    fake: FakeShopify, store: Store, ctx: IngestContext, header: str | None
) -> None:
    """Another shop's customer ids may be ours too (ids are per shop): they never erase ours."""
    _load(store, ctx)
    connector = fake.connector()
    _refused(store, connector, *_signed(fake, "customers/redact", OTHER, header))
    assert apply_pending(store, {"shopify": connector}, ctx) == 0
    assert _shopify_records(store) == 3
    assert _count(store, "SELECT count(*) FROM suppressions") == 0


@HEADERS
def test_another_shops_data_request_is_not_recorded_against_ours(
    fake: FakeShopify, store: Store, ctx: IngestContext, header: str | None
) -> None:
    _load(store, ctx)
    connector = fake.connector()
    _refused(store, connector, *_signed(fake, "customers/data_request", OTHER, header))
    assert apply_pending(store, {"shopify": connector}, ctx) == 0
    assert _count(store, "SELECT count(*) FROM access_requests") == 0


@pytest.mark.parametrize(
    "domain", ["other-shop", "fake-shop.myshopify.com.evil.example", "", " ", 954889, [OURS]]
)
def test_a_body_naming_any_other_shop_is_refused(
    fake: FakeShopify, connector: ShopifyConnector, domain: Any
) -> None:
    """Another handle, a look-alike domain, an empty or a non-text ``shop_domain``: not ours."""
    headers, raw = fake.signed("shop/redact", {"shop_id": 1, "shop_domain": domain})
    with pytest.raises(WebhookRejected, match="not the one this service syncs"):
        connector.verify_webhook(headers, raw, URL, NOW)


def test_any_topics_body_naming_another_shop_is_refused(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    body = {"id": 5, "email": "a@example.com", "shop_domain": OTHER, "updated_at": None}
    headers, raw = fake.signed("customers/update", body)
    with pytest.raises(WebhookRejected, match="not the one this service syncs"):
        connector.verify_webhook(headers, raw, URL, NOW)


@pytest.mark.parametrize("topic", ["shop/redact", "customers/redact", "customers/data_request"])
def test_another_shops_body_already_in_the_inbox_is_never_applied(
    fake: FakeShopify, connector: ShopifyConnector, topic: str
) -> None:
    """Reading a stored delivery again (applying it, or ``webhooks retry``) checks the shop
    too, so a body kept before this check cannot act."""
    with pytest.raises(MappingError, match="another shop"):
        connector.parse_webhook(*_signed(fake, topic, OTHER, OURS))


@pytest.mark.parametrize("topic", ["shop/redact", "customers/redact", "customers/data_request"])
@pytest.mark.parametrize("missing", [True, False], ids=["missing", "null"])
def test_a_compliance_body_that_names_no_shop_is_not_acted_on(
    fake: FakeShopify, connector: ShopifyConnector, topic: str, missing: bool
) -> None:
    """Shopify's compliance bodies always name the shop; one that does not cannot be ours."""
    body = _bodies(OURS)[topic]
    if missing:
        del body["shop_domain"]
    else:
        body["shop_domain"] = None
    headers, raw = fake.signed(topic, body)
    connector.verify_webhook(headers, raw, URL, NOW)  # authentic: read, then refused (422)
    with pytest.raises(MappingError, match=r"no shop|without shop_domain"):
        connector.parse_webhook(headers, raw)


@pytest.mark.parametrize(
    "shop", [SHOP, OURS, "https://FAKE-SHOP.myshopify.com/"], ids=["handle", "domain", "url"]
)
@pytest.mark.parametrize("header", [OURS, None], ids=["our-header", "no-header"])
@pytest.mark.parametrize("body_domain", [OURS, OURS.upper()], ids=["lower", "upper"])
def test_our_own_shop_redact_still_deletes_the_shops_records(
    fake: FakeShopify,
    store: Store,
    ctx: IngestContext,
    shop: str,
    header: str | None,
    body_domain: str,
) -> None:
    _load(store, ctx)
    connector = fake.connector(shop=shop)
    headers, raw = _signed(fake, "shop/redact", body_domain, header)
    assert receive(store, connector, headers, raw, URL, NOW).status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx) == 1
    assert _shopify_records(store) == 0


@pytest.mark.parametrize("shop", [SHOP, OURS], ids=["handle", "domain"])
def test_our_own_customer_redaction_still_erases_the_customer(
    fake: FakeShopify, store: Store, ctx: IngestContext, shop: str
) -> None:
    _load(store, ctx)
    connector = fake.connector(shop=shop)
    headers, raw = _signed(fake, "customers/redact", OURS, OURS)
    assert receive(store, connector, headers, raw, URL, NOW).status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx) == 1
    assert _shopify_records(store) == 1  # Bo stays; Ann and her order are erased
