"""Shopify GraphQL Admin API: the queries the connector sends, and nodes in the REST shape.

Sync reads customers and orders through GraphQL; webhooks deliver REST-shaped JSON. Rather than
two mappers, every GraphQL node is converted here into the REST / webhook shape (snake_case,
numeric ids, lower-case statuses) that ``integrations.shopify.mapping`` already maps, so one
mapper serves both paths and the raw payloads stored for a record look the same whichever path
brought them. Conversion is defensive about shapes (a missing or mistyped field becomes ``None``
or an empty list); the mapper is where a payload is validated and rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "KIND_TYPES",
    "connection_query",
    "customer_to_rest",
    "gid",
    "legacy_id",
    "node_query",
    "order_to_rest",
    "to_rest",
    "updated_since_filter",
]

# The GraphQL object type behind each mapper kind, and the root connection that lists it.
KIND_TYPES: dict[str, str] = {"customer": "Customer", "order": "Order"}
_CONNECTIONS: dict[str, str] = {"customer": "customers", "order": "orders"}

_ADDRESS_FIELDS = (
    "address1 address2 city province provinceCode zip country countryCodeV2 phone company"
)
_MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"

CUSTOMER_FIELDS = f"""
    id email firstName lastName phone createdAt updatedAt state tags note
    defaultAddress {{ {_ADDRESS_FIELDS} }}
    addresses {{ {_ADDRESS_FIELDS} }}
"""

ORDER_FIELDS = f"""
    id name number email phone createdAt updatedAt cancelledAt closedAt test
    displayFinancialStatus displayFulfillmentStatus
    totalPriceSet {{ {_MONEY} }}
    currencyCode
    customer {{ id }}
    note
    currentSubtotalLineItemsQuantity
    lineItems(first: 10) {{
        nodes {{ title name quantity currentQuantity sku }} pageInfo {{ hasNextPage }}
    }}
    fulfillments {{ status displayStatus createdAt trackingInfo {{ company number url }} }}
    refunds {{ id createdAt note totalRefundedSet {{ {_MONEY} }} }}
"""

_FIELDS: dict[str, str] = {
    "customer": " ".join(CUSTOMER_FIELDS.split()),
    "order": " ".join(ORDER_FIELDS.split()),
}

# GraphQL ``displayFulfillmentStatus`` -> REST ``fulfillment_status`` (null means unfulfilled).
_FULFILLMENT_STATUS: dict[str, str] = {
    "FULFILLED": "fulfilled",
    "PARTIALLY_FULFILLED": "partial",
    "RESTOCKED": "restocked",
}
# Display statuses that say more than REST's ``fulfillment_status`` (an order on hold, one that
# needs no shipping...): kept, lower-cased, as ``display_fulfillment_status`` for the mapper.
_DISPLAY_ONLY_STATUSES = frozenset(
    "ON_HOLD SCHEDULED IN_PROGRESS PENDING_FULFILLMENT REQUEST_DECLINED "
    "FULFILLMENT_NOT_REQUIRED".split()
)

# REST ``shipment_status`` values; GraphQL ``displayStatus`` values outside them are not shipments.
_SHIPMENT_STATUSES = frozenset(
    "label_printed label_purchased attempted_delivery ready_for_pickup picked_up confirmed "
    "in_transit out_for_delivery delivered failure".split()
)


# --- Queries -------------------------------------------------------------------------------------


def connection_query(kind: str) -> str:
    """The paged query for ``kind`` (variables ``first``, ``after``, ``query``)."""
    connection, fields = _CONNECTIONS[kind], _FIELDS[kind]
    return (
        f"query {KIND_TYPES[kind]}Page($first: Int!, $after: String, $query: String) {{\n"
        f"  {connection}(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{\n"
        f"    nodes {{ {fields} }}\n"
        "    pageInfo { hasNextPage endCursor }\n"
        "  }\n"
        "}\n"
    )


def node_query(kind: str) -> str:
    """The query for one ``kind`` object by gid (variable ``id``)."""
    return (
        f"query One{KIND_TYPES[kind]}($id: ID!) {{\n  {kind}(id: $id) {{ {_FIELDS[kind]} }}\n}}\n"
    )


def updated_since_filter(since: str | None) -> str | None:
    """The search filter for records updated at or after ``since``; ``None`` for a full run.

    Shopify answers an empty filter (``updated_at:>``) with an internal error, so a full run
    sends ``query: null`` instead.
    """
    return f"updated_at:>='{since}'" if since else None


def gid(kind: str, external_id: str) -> str:
    """The GraphQL global id of a ``kind`` object (``gid://shopify/Customer/1``)."""
    if external_id.startswith("gid://"):
        return external_id
    return f"gid://shopify/{KIND_TYPES[kind]}/{external_id}"


def legacy_id(value: Any) -> Any:
    """The REST id of a GraphQL gid (``gid://shopify/Order/1`` -> ``1``); others unchanged."""
    if not isinstance(value, str) or not value.startswith("gid://"):
        return value
    tail = value.rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else value


# --- Small shape helpers -------------------------------------------------------------------------


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _nodes(connection: Any) -> list[dict[str, Any]]:
    """Items of a connection (``{nodes: [...]}`` or ``{edges: [{node}]}``) or a plain list."""
    if isinstance(connection, list):
        return [item for item in connection if isinstance(item, dict)]
    body = _obj(connection)
    if "nodes" in body:
        return _nodes(body["nodes"])
    return _nodes([_obj(edge).get("node") for edge in _list(body.get("edges"))])


def _shop_money(money_bag: Any) -> dict[str, Any]:
    return _obj(_obj(money_bag).get("shopMoney"))


def _paid_money(money_bag: Any) -> dict[str, Any]:
    """The presentment money of a ``MoneyBag`` (what the customer paid), else its shop money."""
    presentment = _obj(_obj(money_bag).get("presentmentMoney"))
    return presentment if presentment.get("amount") is not None else _shop_money(money_bag)


def _money_set(money_bag: Any) -> dict[str, Any] | None:
    """A ``MoneyBag`` as REST's ``*_set`` (``shop_money`` / ``presentment_money``)."""
    bag = _obj(money_bag)
    if not bag:
        return None
    return {
        rest: {"amount": money.get("amount"), "currency_code": money.get("currencyCode")}
        for rest, name in (("shop_money", "shopMoney"), ("presentment_money", "presentmentMoney"))
        if (money := _obj(bag.get(name)))
    }


# --- Customers -----------------------------------------------------------------------------------


def _address(node: Any) -> dict[str, Any] | None:
    if not isinstance(node, dict):
        return None
    return {
        "address1": node.get("address1"),
        "address2": node.get("address2"),
        "city": node.get("city"),
        "province": node.get("province"),
        "province_code": node.get("provinceCode"),
        "zip": node.get("zip"),
        "country": node.get("country"),
        "country_code": node.get("countryCodeV2"),
        "phone": node.get("phone"),
        "company": node.get("company"),
    }


def _tags(value: Any) -> Any:
    """GraphQL lists tags; REST joins them with ``", "``."""
    if isinstance(value, list):
        return ", ".join(str(tag) for tag in value)
    return value


def customer_to_rest(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL ``Customer`` node in the REST / ``customers/*`` webhook shape."""
    return {
        "id": legacy_id(node.get("id")),
        "admin_graphql_api_id": node.get("id"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "state": _lower(node.get("state")),
        "tags": _tags(node.get("tags")),
        "note": node.get("note"),
        "default_address": _address(node.get("defaultAddress")),
        "addresses": [a for item in _nodes(node.get("addresses")) if (a := _address(item))],
    }


# --- Orders --------------------------------------------------------------------------------------


def _line_item(node: dict[str, Any]) -> dict[str, Any]:
    """A ``LineItem`` node as REST's line item: ``quantity`` as ordered, ``current_quantity``
    after removals (order edits, restocking refunds), ``name`` with the variant."""
    return {
        "title": node.get("title"),
        "name": node.get("name"),
        "quantity": node.get("quantity"),
        "current_quantity": node.get("currentQuantity"),
        "sku": node.get("sku"),
    }


def _display_fulfillment_status(value: Any) -> str | None:
    """What the display status says beyond REST's ``fulfillment_status``, lower-cased."""
    return value.lower() if value in _DISPLAY_ONLY_STATUSES else None


def _more_line_items(connection: Any) -> bool:
    """Whether the order has line items beyond the page read (``pageInfo.hasNextPage``)."""
    return _obj(_obj(connection).get("pageInfo")).get("hasNextPage") is True


def _shipment_status(node: dict[str, Any]) -> str | None:
    """REST's carrier status of a shipment; a failed or cancelled fulfillment has none."""
    if node.get("status") != "SUCCESS":
        return None
    status = _lower(node.get("displayStatus"))
    return status if status in _SHIPMENT_STATUSES else None


def _fulfillment(node: dict[str, Any]) -> dict[str, Any]:
    tracking = _nodes(node.get("trackingInfo"))
    companies = [t["company"] for t in tracking if t.get("company")]
    numbers = [t["number"] for t in tracking if t.get("number")]
    urls = [t["url"] for t in tracking if t.get("url")]
    return {
        "status": _lower(node.get("status")),
        "shipment_status": _shipment_status(node),
        "created_at": node.get("createdAt"),
        "tracking_company": companies[0] if companies else None,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
    }


def _refund_transactions(money: dict[str, Any]) -> list[dict[str, Any]] | None:
    """REST refunds list their transactions; GraphQL gives the refunded total, one success
    (in the presentment currency, as REST's refund transactions are); ``None`` (not known)
    without a total. A total of zero (a restock-only refund) is one transaction of 0."""
    if money.get("amount") is None:
        return None
    currency = money.get("currencyCode")
    return [
        {"amount": money["amount"], "currency": currency, "kind": "refund", "status": "success"}
    ]


def _refund(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": legacy_id(node.get("id")),
        "admin_graphql_api_id": node.get("id"),
        "created_at": node.get("createdAt"),
        "note": node.get("note"),
        "transactions": _refund_transactions(_paid_money(node.get("totalRefundedSet"))),
    }


def _owner(node: Any) -> dict[str, Any] | None:
    customer = _obj(node)
    return {"id": legacy_id(customer["id"])} if customer.get("id") is not None else None


def order_to_rest(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL ``Order`` node in the REST / ``orders/*`` webhook shape, plus what REST does
    not say: ``display_fulfillment_status`` (on hold, scheduled...), whether more line items
    exist than were read (``line_items_has_next_page``) and the order's current item quantity
    (``current_subtotal_line_items_quantity``)."""
    money = _shop_money(node.get("totalPriceSet"))
    return {
        "id": legacy_id(node.get("id")),
        "admin_graphql_api_id": node.get("id"),
        "name": node.get("name"),
        "order_number": node.get("number"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "closed_at": node.get("closedAt"),
        "test": node.get("test"),
        "financial_status": _lower(node.get("displayFinancialStatus")),
        "fulfillment_status": _FULFILLMENT_STATUS.get(str(node.get("displayFulfillmentStatus"))),
        "display_fulfillment_status": _display_fulfillment_status(
            node.get("displayFulfillmentStatus")
        ),
        "total_price": money.get("amount"),
        "currency": money.get("currencyCode") or node.get("currencyCode"),
        "total_price_set": _money_set(node.get("totalPriceSet")),
        "presentment_currency": _paid_money(node.get("totalPriceSet")).get("currencyCode"),
        "customer": _owner(node.get("customer")),
        "note": node.get("note"),
        "line_items": [_line_item(item) for item in _nodes(node.get("lineItems"))],
        "line_items_has_next_page": _more_line_items(node.get("lineItems")),
        "current_subtotal_line_items_quantity": node.get("currentSubtotalLineItemsQuantity"),
        "fulfillments": [_fulfillment(item) for item in _nodes(node.get("fulfillments"))],
        "refunds": [_refund(item) for item in _nodes(node.get("refunds"))],
    }


_CONVERTERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "customer": customer_to_rest,
    "order": order_to_rest,
}


def to_rest(kind: str, node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL node of ``kind`` (``customer`` or ``order``) in the REST / webhook shape."""
    return _CONVERTERS[kind](node)
