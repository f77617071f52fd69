"""Shopify webhooks: HMAC verification (the refdata vector), freshness, topic routing."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from context_service.errors import MappingError, WebhookRejected
from context_service.models import Order, RecordKey, Snapshot
from context_service.snapshot import lookup
from context_service.store import Store, profiles
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from integrations._connector import VendorObject
from integrations.shopify import ShopifyConnector, map_record
from integrations.shopify.webhooks import header
from tests.integrations.refdata import refdata, shopify_case
from tests.integrations.shopify.fake import FakeShopify

NOW = 1_788_000_000.0  # 2026-08-29T10:40:00Z
URL = "https://context.example/v1/webhooks/shopify"


def bob() -> dict[str, Any]:
    return copy.deepcopy(shopify_case("customer", "test_1", "customer", index=1))


def order_1001() -> dict[str, Any]:
    return copy.deepcopy(shopify_case("order", "test_1", "order"))


# --- verification --------------------------------------------------------------------------------


def vector() -> dict[str, str]:
    found: dict[str, str] = refdata("webhook_signature_vectors.json")["shopify"]
    return found


def vector_connector(fake: FakeShopify, secret: str | None = None) -> ShopifyConnector:
    return fake.connector(webhook_secret=vector()["client_secret"] if secret is None else secret)


def test_the_reference_vector_verifies(fake: FakeShopify) -> None:
    v = vector()
    headers = {v["header"]: v["expected"]}
    vector_connector(fake).verify_webhook(headers, v["raw_body"].encode(), URL, NOW)


@pytest.mark.parametrize(
    "name", ["X-Shopify-Hmac-Sha256", "x-shopify-hmac-sha256", "X-SHOPIFY-HMAC-SHA256"]
)
def test_header_names_are_case_insensitive(fake: FakeShopify, name: str) -> None:
    v = vector()
    vector_connector(fake).verify_webhook({name: v["expected"]}, v["raw_body"].encode(), URL, NOW)


def test_the_events_header_variant_verifies(fake: FakeShopify) -> None:
    v = vector()
    headers = {"shopify-hmac-sha256": v["expected"], "shopify-topic": "customers/update"}
    vector_connector(fake).verify_webhook(headers, v["raw_body"].encode(), URL, NOW)
    assert header(headers, "Topic") == "customers/update"


def test_a_tampered_body_is_rejected(fake: FakeShopify) -> None:
    v = vector()
    body = v["raw_body"].replace("jon@", "eve@").encode()
    with pytest.raises(WebhookRejected, match="does not match"):
        vector_connector(fake).verify_webhook({v["header"]: v["expected"]}, body, URL, NOW)


def test_a_wrong_secret_is_rejected(fake: FakeShopify) -> None:
    v = vector()
    with pytest.raises(WebhookRejected, match="does not match"):
        vector_connector(fake, "shpss_other").verify_webhook(
            {v["header"]: v["expected"]}, v["raw_body"].encode(), URL, NOW
        )


def test_a_missing_signature_is_rejected(fake: FakeShopify) -> None:
    with pytest.raises(WebhookRejected, match="no X-Shopify-Hmac-Sha256"):
        vector_connector(fake).verify_webhook({}, vector()["raw_body"].encode(), URL, NOW)


@pytest.mark.parametrize("secret", ["", None])
def test_no_secret_configured_rejects_everything(fake: FakeShopify, secret: str | None) -> None:
    headers, raw = fake.signed("customers/update", bob())
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        fake.connector(webhook_secret=secret).verify_webhook(headers, raw, URL, NOW)


def test_signed_deliveries_verify(fake: FakeShopify, connector: ShopifyConnector) -> None:
    headers, raw = fake.signed("orders/create", order_1001(), triggered_at=NOW - 10)
    connector.verify_webhook(headers, raw, URL, NOW)
    lowered = {key.lower(): value for key, value in headers.items()}
    connector.verify_webhook(lowered, raw, URL, NOW)


def test_during_a_secret_rotation_the_previous_secret_is_accepted_too(fake: FakeShopify) -> None:
    """Shopify may sign with the old client secret for up to an hour after a rotation."""
    rotated = fake.connector(webhook_secret="shpss_new", previous_webhook_secret="shpss_old")
    for secret in ("shpss_new", "shpss_old"):
        headers, raw = fake.signed("customers/update", bob(), secret=secret)
        rotated.verify_webhook(headers, raw, URL, NOW)
    headers, raw = fake.signed("customers/update", bob(), secret="shpss_older")
    with pytest.raises(WebhookRejected, match="does not match"):
        rotated.verify_webhook(headers, raw, URL, NOW)
    headers, raw = fake.signed("customers/update", bob(), secret="shpss_old")
    with pytest.raises(WebhookRejected, match="does not match"):  # once it is removed
        fake.connector(webhook_secret="shpss_new").verify_webhook(headers, raw, URL, NOW)


@pytest.mark.parametrize("age", [3 * 3600, 30 * 3600])
def test_retries_and_deliveries_a_day_late_are_accepted(
    fake: FakeShopify, connector: ShopifyConnector, age: float
) -> None:
    """Shopify retries for hours and delivers "up to a day late"; the 6-hour window this once
    had refused a day-late delivery, which Shopify then retried until it gave up."""
    headers, raw = fake.signed("customers/update", bob(), triggered_at=NOW - age)
    connector.verify_webhook(headers, raw, URL, NOW)


@pytest.mark.parametrize("topic", ["customers/redact", "shop/redact", "customers/data_request"])
def test_a_compliance_request_is_honoured_however_late(
    fake: FakeShopify, connector: ShopifyConnector, topic: str
) -> None:
    body = {"shop_id": 1, "shop_domain": "fake-shop.myshopify.com", "customer": {"id": 1}}
    headers, raw = fake.signed(topic, body, triggered_at=NOW - 7 * 24 * 3600)
    connector.verify_webhook(headers, raw, URL, NOW)


@pytest.mark.parametrize("age", [48 * 3600 + 1, 7 * 24 * 3600])
def test_stale_deliveries_are_rejected(
    fake: FakeShopify, connector: ShopifyConnector, age: float
) -> None:
    headers, raw = fake.signed("customers/update", bob(), triggered_at=NOW - age)
    with pytest.raises(WebhookRejected, match="old"):
        connector.verify_webhook(headers, raw, URL, NOW)


@pytest.mark.parametrize("domain", ["other-shop.myshopify.com", "fake-shop.example.com"])
def test_a_delivery_for_another_shop_is_refused(
    fake: FakeShopify, connector: ShopifyConnector, domain: str
) -> None:
    """One app's secret signs the deliveries of every shop that installed it: a valid
    signature does not make another shop's customers ours (a shop/redact of another shop
    would have deleted ours)."""
    headers, raw = fake.signed("customers/update", bob(), triggered_at=NOW)
    headers["X-Shopify-Shop-Domain"] = domain
    with pytest.raises(WebhookRejected, match="not the one this service syncs"):
        connector.verify_webhook(headers, raw, URL, NOW)


@pytest.mark.parametrize(
    "shop", ["fake-shop", "fake-shop.myshopify.com", "https://FAKE-SHOP.myshopify.com/"]
)
def test_the_configured_shop_may_be_a_handle_or_a_domain(fake: FakeShopify, shop: str) -> None:
    headers, raw = fake.signed("customers/update", bob(), triggered_at=NOW)
    fake.connector(shop=shop).verify_webhook(headers, raw, URL, NOW)


def test_nanosecond_triggered_at_is_understood(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    headers, raw = fake.signed(
        "customers/update", bob(), triggered_at="2026-08-29T10:39:30.877041743Z"
    )
    connector.verify_webhook(headers, raw, URL, NOW)
    assert connector.parse_webhook(headers, raw).occurred_at == "2026-08-29T10:39:30Z"


def test_an_unparseable_triggered_at_is_rejected(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    headers, raw = fake.signed("customers/update", bob(), triggered_at="yesterday")
    with pytest.raises(WebhookRejected, match="not a timestamp"):
        connector.verify_webhook(headers, raw, URL, NOW)


# --- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "topic", ["customers/create", "customers/update", "customers/enable", "customers/disable"]
)
def test_customer_topics_carry_the_customer(
    fake: FakeShopify, connector: ShopifyConnector, topic: str
) -> None:
    body = bob()
    headers, raw = fake.signed(topic, body, webhook_id="wh-1", event_id="ev-1")
    delivery = connector.parse_webhook(headers, raw)
    assert delivery.topic == topic
    assert delivery.dedup_ids == ["webhook:wh-1", "event:ev-1"]
    assert delivery.objects == [VendorObject("customer", body)]
    assert delivery.occurred_at == "2025-04-02T16:26:48Z"  # body updated_at, no Triggered-At
    mapped = map_record("customer", delivery.objects[0].payload)
    assert mapped.person is not None
    assert mapped.person.emails == [body["email"]]


@pytest.mark.parametrize(
    "topic",
    [
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "orders/cancelled",
    ],
)
def test_order_topics_carry_the_order(
    fake: FakeShopify, connector: ShopifyConnector, topic: str
) -> None:
    body = order_1001()
    headers, raw = fake.signed(topic, body, triggered_at="2026-08-29T10:39:00Z")
    delivery = connector.parse_webhook(headers, raw)
    assert delivery.objects == [VendorObject("order", body)]
    assert delivery.occurred_at == "2026-08-29T10:39:00Z"
    activity = map_record("order", delivery.objects[0].payload).activity
    assert isinstance(activity, Order)
    assert activity.title == "#1001"


@pytest.mark.parametrize(
    ("topic", "kind"), [("customers/delete", "customer"), ("orders/delete", "order")]
)
def test_deletions_are_tombstones(
    fake: FakeShopify, connector: ShopifyConnector, topic: str, kind: str
) -> None:
    headers, raw = fake.signed(topic, {"id": 207119551}, triggered_at="2026-08-29T10:39:00Z")
    delivery = connector.parse_webhook(headers, raw)
    assert delivery.objects == [VendorObject(kind, {"id": 207119551}, deleted=True)]
    assert delivery.occurred_at == "2026-08-29T10:39:00Z"


def test_a_deletion_notice_for_a_live_customer_deletes_nothing(fake: FakeShopify) -> None:
    """Shopify signs the body, not the topic: a captured ``customers/update`` body re-sent as
    ``customers/delete`` is checked with Shopify, which still has the customer, so the
    customer as Shopify holds it is applied instead of a tombstone."""
    (live,) = fake.add_customers(1)
    connector = fake.connector()
    body = {"id": live, "email": "someone@example.com", "updated_at": "2026-08-29T10:00:00Z"}
    delivery = connector.parse_webhook(*fake.signed("customers/delete", body))
    (obj,) = delivery.objects
    assert not obj.deleted
    assert str(obj.payload["id"]) == str(live)
    gone = connector.parse_webhook(*fake.signed("customers/delete", {"id": 99}))
    assert gone.objects == [VendorObject("customer", {"id": 99}, deleted=True)]


@pytest.mark.parametrize(
    ("topic", "resource"),
    [
        ("refunds/create", "refund"),
        ("fulfillments/create", "fulfillment"),
        ("fulfillments/update", "fulfillment"),
    ],
)
def test_order_parts_ask_for_the_order_to_be_refetched(
    fake: FakeShopify, connector: ShopifyConnector, topic: str, resource: str
) -> None:
    body = copy.deepcopy(shopify_case(resource, "test_1", resource))
    headers, raw = fake.signed(topic, body)
    delivery = connector.parse_webhook(headers, raw)
    assert delivery.objects == []
    assert delivery.refetch == [("order", str(body["order_id"]))]


def order_edit_body() -> dict[str, Any]:
    """An ``orders/edited`` body as Shopify sends it: the edit, not the order."""
    return {
        "order_edit": {
            "id": 78912328,
            "app_id": None,
            "created_at": "2026-08-29T10:38:00-04:00",
            "committed_at": "2026-08-29T10:38:30-04:00",
            "notify_customer": False,
            "order_id": 450789469,
            "staff_note": "",
            "user_id": None,
            "line_items": {"additions": [{"id": 1, "delta": 2}], "removals": []},
        }
    }


def test_an_order_edit_asks_for_the_edited_order_to_be_refetched(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    headers, raw = fake.signed("orders/edited", order_edit_body(), webhook_id="wh-e")
    delivery = connector.parse_webhook(headers, raw)
    assert delivery.objects == []
    assert delivery.refetch == [("order", "450789469")]


def test_an_order_edit_without_its_order_id_is_a_mapping_error(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    with pytest.raises(MappingError, match="order_id"):
        connector.parse_webhook(*fake.signed("orders/edited", {"order_edit": {"id": 1}}))


def test_customers_redact_erases_the_customer_and_orders(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    body = {
        "shop_id": 954889,
        "shop_domain": "fake-shop.myshopify.com",
        "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
        "orders_to_redact": [299938, 280263, 220458],
    }
    delivery = connector.parse_webhook(*fake.signed("customers/redact", body))
    assert delivery.erase == [
        ("customer", "191167"),
        ("order", "299938"),
        ("order", "280263"),
        ("order", "220458"),
    ]
    assert delivery.objects == []
    assert delivery.refetch == []


@pytest.mark.parametrize(
    ("topic", "body"),
    [
        ("shop/redact", {"shop_id": 954889, "customer": {"id": 191167}, "orders_requested": [1]}),
        ("shop/redact", {"id": 191167, "email": "bob@example.com", "updated_at": None}),
        (
            "customers/redact",
            {
                "shop_id": 954889,
                "customer": {"id": 191167},
                "orders_requested": [1],
                "data_request": {"id": 9999},
            },
        ),
        ("customers/redact", {"shop_id": 954889, "customer": {"id": 191167}}),
    ],
)
def test_a_signed_body_under_another_topic_deletes_nothing(
    fake: FakeShopify, connector: ShopifyConnector, topic: str, body: dict[str, object]
) -> None:
    """Shopify signs the body, not ``X-Shopify-Topic``: a captured ``customers/data_request``
    (or update) body re-sent as ``customers/redact`` or ``shop/redact`` must not erase the
    customer or every record from the shop."""
    with pytest.raises(MappingError, match="nothing is"):
        connector.parse_webhook(*fake.signed(topic, body))


@pytest.mark.parametrize("topic", ["products/create", ""])
def test_other_topics_carry_nothing(
    fake: FakeShopify, connector: ShopifyConnector, topic: str
) -> None:
    body = {"shop_id": 954889, "customer": {"id": 191167}, "orders_requested": [299938]}
    delivery = connector.parse_webhook(*fake.signed(topic, body))
    assert delivery.topic == topic
    assert (delivery.objects, delivery.refetch, delivery.erase) == ([], [], [])
    assert delivery.access_requests == []
    assert delivery.dedup_ids[0].startswith("webhook:")


def test_events_variant_headers_are_read(fake: FakeShopify, connector: ShopifyConnector) -> None:
    headers = {
        "shopify-topic": "customers/update",
        "shopify-webhook-id": "wh-9",
        "shopify-event-id": "ev-9",
    }
    delivery = connector.parse_webhook(headers, b'{"id": 1, "updated_at": null}')
    assert delivery.dedup_ids == ["webhook:wh-9", "event:ev-9"]
    assert delivery.objects == [VendorObject("customer", {"id": 1, "updated_at": None})]
    assert delivery.occurred_at is None


def test_without_delivery_ids_there_is_nothing_to_dedup_on(connector: ShopifyConnector) -> None:
    delivery = connector.parse_webhook({"X-Shopify-Topic": "orders/delete"}, b'{"id": 5}')
    assert delivery.dedup_ids == []


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_a_malformed_body_is_a_mapping_error(connector: ShopifyConnector, raw: bytes) -> None:
    with pytest.raises(MappingError):
        connector.parse_webhook({"X-Shopify-Topic": "customers/update"}, raw)


@pytest.mark.parametrize(
    ("topic", "body", "field"),
    [
        ("customers/update", {"email": "a@example.com"}, "id"),
        ("orders/delete", {}, "id"),
        ("refunds/create", {"id": 1}, "order_id"),
        ("customers/redact", {"orders_to_redact": []}, "customer"),
        ("customers/redact", {"customer": {"id": 1}, "orders_to_redact": 5}, "orders_to_redact"),
        ("customers/data_request", {"orders_requested": []}, "customer"),
        ("customers/data_request", {"customer": {"email": "a@example.com"}}, "id"),
        ("customers/data_request", {"customer": {"id": 1}, "orders_requested": 5}, "orders"),
    ],
)
def test_a_body_without_what_its_topic_needs_is_a_mapping_error(
    fake: FakeShopify, connector: ShopifyConnector, topic: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(MappingError, match=field):
        connector.parse_webhook(*fake.signed(topic, body))


@pytest.mark.parametrize("case", ["test_1", "test_3", "test_16"])
def test_refdata_customers_parse_and_map(
    fake: FakeShopify, connector: ShopifyConnector, case: str
) -> None:
    body = shopify_case("customer", case, "customer")
    (obj,) = connector.parse_webhook(*fake.signed("customers/update", body)).objects
    assert map_record(obj.kind, obj.payload) == map_record("customer", body)


def test_refdata_orders_parse_and_map(fake: FakeShopify, connector: ShopifyConnector) -> None:
    for case in refdata("shopify", "order.json")["cases"]:
        response = case.get("response") or {}
        for body in response.get("orders") or ([response["order"]] if "order" in response else []):
            (obj,) = connector.parse_webhook(*fake.signed("orders/updated", body)).objects
            assert map_record(obj.kind, obj.payload).key.external_id == str(body["id"])


# --- customers/merge (the sample payload of Shopify's webhook reference) -------------------------


def merge_body(status: str = "completed") -> dict[str, Any]:
    return {
        "admin_graphql_api_customer_kept_id": "gid://shopify/Customer/1",
        "admin_graphql_api_customer_deleted_id": "gid://shopify/Customer/2",
        "admin_graphql_api_job_id": None,
        "status": status,
        "errors": [],
    }


def test_a_completed_merge_tombstones_the_deleted_customer_into_the_kept_one(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    delivery = connector.parse_webhook(*fake.signed("customers/merge", merge_body()))
    assert delivery.objects == [
        VendorObject("customer", {"id": "2"}, deleted=True, merged_into="1")
    ]
    assert delivery.refetch == [("customer", "1")]


@pytest.mark.parametrize("status", ["failed", "in_progress", ""])
def test_an_unfinished_or_failed_merge_changes_nothing(
    fake: FakeShopify, connector: ShopifyConnector, status: str
) -> None:
    body = {**merge_body(status), "errors": [{"customer_ids": [1], "field": "merge_in_progress"}]}
    delivery = connector.parse_webhook(*fake.signed("customers/merge", body))
    assert (delivery.objects, delivery.refetch, delivery.erase) == ([], [], [])


def test_a_merge_without_customer_ids_is_a_mapping_error(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    body = merge_body()
    del body["admin_graphql_api_customer_deleted_id"]
    with pytest.raises(MappingError, match="customer_deleted_id"):
        connector.parse_webhook(*fake.signed("customers/merge", body))


def test_a_shopify_merge_keeps_the_deleted_customers_profile_id_as_an_alias(
    fake: FakeShopify, store: Store, ctx: IngestContext
) -> None:
    kept, gone = fake.add_customers(2)
    fake.add_orders(4)  # two each, round-robin
    connector = fake.connector()
    run_sync(store, connector, ctx)
    before = {
        str(key.external_id): pid
        for key, pid in profiles.profiles_of_keys(
            store.conn,
            [
                RecordKey("shopify", "customer", str(kept)),
                RecordKey("shopify", "customer", str(gone)),
            ],
        ).items()
    }
    assert before[str(kept)] != before[str(gone)]
    del fake.customers[gone]  # Shopify deletes the merged-away customer
    body = {
        **merge_body(),
        "admin_graphql_api_customer_kept_id": f"gid://shopify/Customer/{kept}",
        "admin_graphql_api_customer_deleted_id": f"gid://shopify/Customer/{gone}",
    }
    headers, raw = fake.signed("customers/merge", body)
    assert receive(store, connector, headers, raw, URL, NOW).status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx) == 1
    survivor = before[str(kept)]
    assert profiles.canonical_id(store.conn, before[str(gone)]) == survivor
    assert [k.external_id for k in profiles.member_keys(store.conn, survivor)] == [str(kept)]
    # The merged-away customer's orders are the survivor's now, as they are in Shopify.
    snapshot = msgspec.json.decode(
        lookup.by_profile_id(store.conn, before[str(gone)]).json, type=Snapshot
    )
    assert snapshot.profile_id == survivor
    assert snapshot.commerce.order_count == 4


def test_a_merge_into_a_customer_we_have_not_seen_yet_still_keeps_the_alias(
    fake: FakeShopify, store: Store, ctx: IngestContext
) -> None:
    """The kept customer arrives with the merge itself (refetched in the same batch), so it has
    no profile when the merge is followed; the old id must still end up as its alias."""
    [gone] = fake.add_customers(1)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    gone_key = RecordKey("shopify", "customer", str(gone))
    old_profile = profiles.profiles_of_keys(store.conn, [gone_key])[gone_key]
    [kept] = fake.add_customers(1)  # created in Shopify after our sync, then merged into
    del fake.customers[gone]
    body = {
        **merge_body(),
        "admin_graphql_api_customer_kept_id": f"gid://shopify/Customer/{kept}",
        "admin_graphql_api_customer_deleted_id": f"gid://shopify/Customer/{gone}",
    }
    headers, raw = fake.signed("customers/merge", body)
    assert receive(store, connector, headers, raw, URL, NOW).status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx) == 1
    kept_key = RecordKey("shopify", "customer", str(kept))
    survivor = profiles.profiles_of_keys(store.conn, [kept_key])[kept_key]
    assert profiles.canonical_id(store.conn, old_profile) == survivor
    snapshot = msgspec.json.decode(
        lookup.by_profile_id(store.conn, old_profile).json, type=Snapshot
    )
    assert snapshot.profile_id == survivor


@pytest.mark.parametrize("ahead", [301, 3000])
def test_a_delivery_dated_minutes_ahead_is_refused(
    fake: FakeShopify, connector: ShopifyConnector, ahead: float
) -> None:
    """``X-Shopify-Triggered-At`` is not signed and dates what the delivery says (a deletion
    among them): a replayed body dated ahead would outrank every update until then. Shopify's
    clock and ours differ by seconds; Stripe's own tolerance is 300 s, and so is ours."""
    headers, raw = fake.signed("customers/delete", {"id": 1}, triggered_at=NOW + ahead)
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(headers, raw, URL, NOW)


def test_a_delivery_dated_seconds_ahead_is_accepted(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    headers, raw = fake.signed("customers/update", bob(), triggered_at=NOW + 30)
    connector.verify_webhook(headers, raw, URL, NOW)
