"""Shopify webhooks: verify the HMAC over the raw body, then route a topic to vendor objects.

Deliveries are REST-shaped JSON (the resource of the subscription's API version), which
``integrations.shopify.mapping`` maps as is; an ``orders/*`` delivery also asks for its order to
be fetched fresh through GraphQL when it is applied (``_REFETCHED_KINDS``). Header names are
matched case-insensitively, and the lowercase ``shopify-*`` names of the newer "Events"
deliveries are accepted beside the ``X-Shopify-*`` ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from context_service.errors import MappingError, WebhookRejected
from context_service.models import AccessRequest
from integrations._connector import Delivery, VendorObject
from integrations._convert import iso_utc
from integrations._webhooks import hmac_base64, matches_any, require_fresh, require_secret
from integrations.shopify.graphql import legacy_id

__all__ = ["COMPLIANCE_TOPICS", "MAX_AGE_SECONDS", "header", "parse", "require_shop", "verify"]

SOURCE = "shopify"
# Shopify retries a failed delivery for hours with the original X-Shopify-Triggered-At, and
# deliveries "can be up to a day late" (webhooks best practices); that header is not covered by
# the HMAC, so a window adds no protection against a forged age, only against losing what is
# late. 48 hours refuses only what no retry schedule explains; replays are caught by
# webhook/event id dedup. A compliance request is never refused for its age: a redaction that
# arrives late must still be carried out.
MAX_AGE_SECONDS = 48 * 3600.0
# Ahead of our clock: the header dates what the delivery says (a deletion among them) and is
# not signed, so a replayed body dated an hour ahead would outrank every update for that hour.
# Synchronised clocks differ by seconds; 300 s is Stripe's own tolerance for its signed time.
MAX_AHEAD_SECONDS = 300.0
COMPLIANCE_TOPICS = frozenset({"customers/redact", "customers/data_request", "shop/redact"})

_OBJECT_TOPICS: dict[str, str] = {
    **{f"customers/{action}": "customer" for action in ("create", "update", "enable", "disable")},
    **{
        f"orders/{action}": "order"
        for action in (
            "create",
            "updated",
            "paid",
            "fulfilled",
            "partially_fulfilled",
            "cancelled",
        )
    },
}
# An ``orders/*`` body is the REST order, which lacks what sync reads through GraphQL (why an
# unfulfilled order waits: ``display_fulfillment_status``, "on hold"), so the order is also
# fetched fresh when the delivery is applied (``Delivery.refetch``). The applier stores the body
# and then the fetched copy, the newest winning (a tie goes to the later, fetched, one); a
# fetch Shopify cannot answer (``RetriableError``) leaves the whole delivery pending, so the
# body never replaces the stored order alone meanwhile. A fetch that finds the order gone
# leaves the body to the newest-wins rule, under which a stored deletion stands.
_REFETCHED_KINDS = frozenset({"order"})
_DELETE_TOPICS: dict[str, str] = {"customers/delete": "customer", "orders/delete": "order"}
_ORDER_PART_TOPICS = frozenset({"refunds/create", "fulfillments/create", "fulfillments/update"})
# ``orders/edited`` does not carry the order: its body is ``{"order_edit": {"order_id", ...}}``
# (the line items added and removed), so the edited order is fetched fresh.
_ORDER_EDIT_TOPIC = "orders/edited"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of ``X-Shopify-<name>`` or ``shopify-<name>``, whatever the case of the key."""
    wanted = {f"x-shopify-{name.lower()}", f"shopify-{name.lower()}"}
    for key, value in headers.items():
        if key.lower() in wanted and value:
            return value
    return None


# --- Verification --------------------------------------------------------------------------------


def _timestamp(value: str, what: str) -> float:
    """Seconds since the epoch of an ISO-8601 header value; unparseable -> ``WebhookRejected``."""
    try:
        iso = iso_utc(value)
    except MappingError as exc:
        raise WebhookRejected(f"shopify {what} is not a timestamp") from exc
    return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp()


def verify(
    headers: Mapping[str, str],
    raw_body: bytes,
    secret: str | None,
    now: float,
    previous: str | None = None,
) -> None:
    """Raise ``WebhookRejected`` unless the HMAC matches and the delivery is not stale.

    ``X-Shopify-Hmac-Sha256`` must equal base64(HMAC-SHA256(secret, raw body)), compared in
    constant time. After the app's client secret is rotated, Shopify may go on signing with the
    old one for up to an hour, so ``previous`` (the old secret, when set) is accepted too.
    ``X-Shopify-Triggered-At``, when present, must be within ``MAX_AGE_SECONDS`` of ``now``,
    except for the compliance topics (``COMPLIANCE_TOPICS``), which are honoured however late.
    """
    key = require_secret(secret, SOURCE)
    presented = header(headers, "Hmac-Sha256")
    if presented is None:
        raise WebhookRejected("shopify delivery has no X-Shopify-Hmac-Sha256 header")
    keys = [key, previous] if previous else [key]
    if not any(matches_any(hmac_base64(k, raw_body), [presented]) for k in keys):
        raise WebhookRejected("shopify webhook signature does not match")
    triggered = header(headers, "Triggered-At")
    if triggered is not None:
        when = _timestamp(triggered, "X-Shopify-Triggered-At")
        if (header(headers, "Topic") or "").strip() not in COMPLIANCE_TOPICS:
            require_fresh(
                when, now, MAX_AGE_SECONDS, "shopify X-Shopify-Triggered-At", MAX_AHEAD_SECONDS
            )


def require_shop(headers: Mapping[str, str], shop: str, raw_body: bytes | None = None) -> None:
    """Raise ``WebhookRejected`` when the delivery is for another shop than ``shop`` (a handle
    or a ``*.myshopify.com`` domain): one app's secret signs the deliveries of every shop that
    installed it (the compliance topics are even configured once per app, so every shop's
    ``shop/redact`` comes to the same URL), so a valid signature does not say which shop it is.

    ``X-Shopify-Shop-Domain`` says it but is not signed and may be missing, so the signed
    body's ``shop_domain`` (``raw_body``; every compliance body has one) must name ``shop``
    too, whatever the header says: another shop's ``shop/redact`` re-sent with our header, or
    with none, must not delete this shop's data. A body that is not a JSON object is left to
    ``parse``; a body that names no shop is refused there for the compliance topics."""
    domain = header(headers, "Shop-Domain")
    if domain is not None and _shop_handle(domain) != _shop_handle(shop):
        raise WebhookRejected(_another_shop(domain, "X-Shopify-Shop-Domain"))
    if raw_body is None:
        return
    try:
        body = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return
    if isinstance(body, dict) and not _names_shop(body, shop):
        raise WebhookRejected(_another_shop(body.get("shop_domain"), "the body's shop_domain"))


def _another_shop(named: Any, where: str) -> str:
    shown = named.strip()[:100] if isinstance(named, str) else named
    return (
        f"shopify delivery is for the shop {shown!r} ({where}), not the one this service "
        "syncs (CONTEXT_SERVICE_SHOPIFY_SHOP)"
    )


def _names_shop(body: Mapping[str, Any], shop: str) -> bool:
    """False when the body's ``shop_domain`` names another shop than ``shop`` (anything but a
    text equal to it once normalised: an empty or non-text value is not ours either); a body
    without one (or ``null``) names none."""
    named = body.get("shop_domain")
    if named is None:
        return True
    return isinstance(named, str) and bool(named.strip()) and _same_shop(named, shop)


def _same_shop(value: str, shop: str) -> bool:
    return _shop_handle(value) == _shop_handle(shop)


def _shop_handle(value: str) -> str:
    """``shop.myshopify.com``, ``https://SHOP.myshopify.com/`` and ``shop`` are all ``shop``."""
    text = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    return text.removesuffix(".myshopify.com")


def _require_shop_of_body(body: Mapping[str, Any], topic: str, shop: str | None) -> None:
    """A compliance body must name its shop, and any body that names one must name ``shop``
    when it is given (``parse`` reading a stored delivery again: one kept before
    ``require_shop`` checked the body must not act either). Raises ``MappingError``."""
    if topic in COMPLIANCE_TOPICS and body.get("shop_domain") is None:
        raise MappingError(
            f"shopify {topic}: the body names no shop (`shop_domain`); nothing is done",
            source=SOURCE,
        )
    if shop is not None and not _names_shop(body, shop):
        raise MappingError(
            f"shopify {topic or 'delivery'}: the body is for another shop "
            f"({str(body.get('shop_domain'))[:100]!r}), not the one this service syncs; "
            "nothing is done",
            source=SOURCE,
        )


# --- Parsing -------------------------------------------------------------------------------------


def _body(raw_body: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MappingError(f"shopify webhook body is not JSON: {exc}", source=SOURCE) from exc
    if not isinstance(body, dict):
        raise MappingError("shopify webhook body is not a JSON object", source=SOURCE)
    return body


def _required_id(body: Mapping[str, Any], field: str, topic: str) -> str:
    value = body.get(field)
    if value is None or isinstance(value, bool | dict | list) or str(value).strip() == "":
        raise MappingError(f"shopify {topic}: field `{field}` is missing", source=SOURCE)
    return str(value).strip()


def _occurred_at(headers: Mapping[str, str], body: Mapping[str, Any]) -> str | None:
    """The delivery's event time: ``X-Shopify-Triggered-At``, else the body's ``updated_at``."""
    for value in (header(headers, "Triggered-At"), body.get("updated_at")):
        if isinstance(value, str) and value:
            try:
                return iso_utc(value)
            except MappingError:
                continue
    return None


def _dedup_ids(headers: Mapping[str, str]) -> list[str]:
    ids = [("webhook", header(headers, "Webhook-Id")), ("event", header(headers, "Event-Id"))]
    return [f"{prefix}:{value}" for prefix, value in ids if value]


def _customer_and_orders(
    body: Mapping[str, Any], topic: str, orders_field: str
) -> tuple[dict[str, Any], list[Any]]:
    """A compliance topic's ``customer`` object and its list of order ids (``orders_field``)."""
    customer = body.get("customer")
    if not isinstance(customer, dict):
        raise MappingError(f"shopify {topic}: field `customer` is missing", source=SOURCE)
    orders = body.get(orders_field) or []
    if not isinstance(orders, list):
        raise MappingError(f"shopify {topic}: `{orders_field}` is not a list", source=SOURCE)
    return customer, orders


# The body fields of one compliance topic that the others never have. Shopify signs the body
# only, not ``X-Shopify-Topic``: a signed ``customers/data_request`` body re-sent under the topic
# ``customers/redact`` (or any body under ``shop/redact``) would erase a customer (or every
# record from the shop). Each destructive topic's body must be its own.
_SHOP_REDACT_FIELDS = frozenset({"shop_id", "shop_domain"})
_NOT_A_REDACTION = ("data_request", "orders_requested")


def _require_own_body(body: Mapping[str, Any], topic: str) -> None:
    """Refuse a compliance body that is another topic's (see ``_SHOP_REDACT_FIELDS``)."""
    if topic == "shop/redact":
        foreign = sorted(set(body) - _SHOP_REDACT_FIELDS)
        if foreign or "shop_domain" not in body:
            raise MappingError(
                f"shopify {topic}: the body is not a shop redaction (fields "
                f"{', '.join(foreign) or 'without shop_domain'}); nothing is deleted",
                source=SOURCE,
            )
    elif topic == "customers/redact" and (
        "orders_to_redact" not in body or any(f in body for f in _NOT_A_REDACTION)
    ):
        raise MappingError(
            f"shopify {topic}: the body is not a customer redaction (it needs "
            "`orders_to_redact` and no `data_request`); nothing is erased",
            source=SOURCE,
        )


def _redaction(body: Mapping[str, Any], topic: str) -> list[tuple[str, str]]:
    """``customers/redact``: the customer and the orders Shopify asks us to erase."""
    _require_own_body(body, topic)
    customer, orders = _customer_and_orders(body, topic, "orders_to_redact")
    erase = [("customer", _required_id(customer, "id", topic))]
    return erase + [("order", str(order)) for order in orders if order is not None]


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _data_request(headers: Mapping[str, str], body: Mapping[str, Any], topic: str) -> AccessRequest:
    """``customers/data_request``: a customer asked the shop owner for their data; the shop
    owner expects it from every app that holds it. The body names the shop, the customer (id,
    email, phone), the orders they asked about and the request's id."""
    customer, orders = _customer_and_orders(body, topic, "orders_requested")
    request = body.get("data_request")
    request_id = request.get("id") if isinstance(request, dict) else None
    return AccessRequest(
        kind="customer",
        external_id=_required_id(customer, "id", topic),
        request_id=None if request_id is None else str(request_id),
        account=_text(body.get("shop_domain")) or _text(header(headers, "Shop-Domain")),
        email=_text(customer.get("email")),
        phone=_text(customer.get("phone")),
        records=[("order", str(order)) for order in orders if order is not None],
    )


def _edited_order(body: Mapping[str, Any], topic: str) -> str:
    """The id of the order an ``orders/edited`` body (``{"order_edit": {...}}``) names."""
    edit = body.get("order_edit")
    if not isinstance(edit, dict):
        raise MappingError(f"shopify {topic}: field `order_edit` is missing", source=SOURCE)
    return str(legacy_id(_required_id(edit, "order_id", topic)))


def _merge(delivery: Delivery, body: Mapping[str, Any], topic: str) -> None:
    """``customers/merge``: once Shopify reports the merge ``completed``, the deleted customer
    is tombstoned as merged into the kept one, and the kept one is fetched fresh (it now holds
    both customers' orders and addresses). A failed or unfinished merge changes nothing."""
    kept = str(legacy_id(_required_id(body, "admin_graphql_api_customer_kept_id", topic)))
    gone = str(legacy_id(_required_id(body, "admin_graphql_api_customer_deleted_id", topic)))
    if str(body.get("status") or "").lower() != "completed" or kept == gone:
        return
    notice = {"id": gone}
    delivery.objects = [VendorObject("customer", notice, deleted=True, merged_into=kept)]
    delivery.refetch = [("customer", kept)]


def _object(delivery: Delivery, body: dict[str, Any], topic: str) -> None:
    """A create/update topic: the object the body is, and for an order the order fetched
    fresh as well (see ``_REFETCHED_KINDS``)."""
    kind = _OBJECT_TOPICS[topic]
    external_id = _required_id(body, "id", topic)
    delivery.objects = [VendorObject(kind, body)]
    if kind in _REFETCHED_KINDS:
        delivery.refetch = [(kind, str(legacy_id(external_id)))]


def _route(delivery: Delivery, body: dict[str, Any], headers: Mapping[str, str]) -> None:
    """Fill ``delivery``'s objects, refetch, erase and access request lists from its topic."""
    topic = delivery.topic
    if topic in _OBJECT_TOPICS:
        _object(delivery, body, topic)
    elif topic in _DELETE_TOPICS:
        _required_id(body, "id", topic)
        deleted = {"id": body["id"]}
        delivery.objects = [VendorObject(_DELETE_TOPICS[topic], deleted, deleted=True)]
    elif topic in _ORDER_PART_TOPICS:
        delivery.refetch = [("order", _required_id(body, "order_id", topic))]
    elif topic == _ORDER_EDIT_TOPIC:
        delivery.refetch = [("order", _edited_order(body, topic))]
    elif topic == "customers/redact":
        delivery.erase = _redaction(body, topic)
        email = _text(body["customer"].get("email"))
        delivery.erase_emails = [] if email is None else [email]
    elif topic == "customers/data_request":
        delivery.access_requests = [_data_request(headers, body, topic)]
    elif topic == "customers/merge":
        _merge(delivery, body, topic)
    elif topic == "shop/redact":
        # 48 hours after the shop uninstalled the app: delete everything held from it (the
        # connector has checked that the delivery, its signed body included, is for the shop
        # this service syncs: see ``require_shop``).
        _require_own_body(body, topic)
        delivery.remove_source = True
    # Unknown topics carry nothing to store.


def parse(headers: Mapping[str, str], raw_body: bytes, shop: str | None = None) -> Delivery:
    """The objects of a verified delivery, routed by ``X-Shopify-Topic``.

    Raises ``MappingError`` when the body is not a JSON object, lacks the id its topic needs,
    is a compliance body that names no shop, or (``shop`` given) names another shop.
    """
    body = _body(raw_body)
    topic = (header(headers, "Topic") or "").strip()
    delivery = Delivery(
        dedup_ids=_dedup_ids(headers), topic=topic, occurred_at=_occurred_at(headers, body)
    )
    _route(delivery, body, headers)
    _require_shop_of_body(body, topic, shop)
    return delivery
