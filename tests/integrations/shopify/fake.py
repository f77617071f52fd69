"""``FakeShopify``: an in-memory Shopify GraphQL Admin API for ``httpx.MockTransport``.

It serves the ``customers`` / ``orders`` connections (``sortKey: UPDATED_AT`` ascending, the
``updated_at:>=`` search filter, ``first`` / ``after`` paging with opaque cursors that encode the
position like Shopify's own), ``customer(id:)`` / ``order(id:)``, and ``extensions.cost`` with a
leaky bucket that the recorded ``sleep`` refills. Faults are injected per request. Nothing here
sleeps or touches the network.

Reused by the cross-connector contract suite: keep the public names stable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from context_service.demo._data import FIRST_NAMES, LAST_NAMES
from integrations.shopify import ShopifyConnector

TOKEN = "shpat_fake_token_0123456789abcdef"
SECRET = "shpss_fake_webhook_secret"
SHOP = "fake-shop"
BASE_URL = f"https://{SHOP}.myshopify.com"
API_VERSION = "2026-07"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

_FIRST = ("Ada", "Bob", "Chloé", "Dmitri", "Emeka", "Fatima", "Grace", "Hiro", "Inès", "Jonas")
_LAST = ("Lovelace", "Norman", "Dubois", "Ivanov", "Okafor", "Haddad", "Hopper", "Tanaka")
_CITIES = (("Ottawa", "Ontario", "ON", "CA", "Canada"), ("Lyon", None, None, "FR", "France"))
_PRODUCTS = (("Trail shoe", "SHOE-42"), ("Rain jacket", "JKT-M"), ("Wool socks", "SOCK-3P"))
_COST_PER_NODE = {"customers": 3, "orders": 20, "customer": 3, "order": 20}
_CONNECTION = re.compile(r"\b(customers|orders)\s*\(")
_NODE = re.compile(r"\b(customer|order)\s*\(\s*id\s*:")
_SINCE = re.compile(r"updated_at:\s*(>=|>)\s*'?([^'\s]+)'?")


def iso(moment: datetime) -> str:
    """``2026-01-05T09:00:00Z``: the format Shopify's GraphQL DateTime uses."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_iso(value: datetime | str) -> str:
    if isinstance(value, datetime):
        return iso(value)
    return iso(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _money(amount: str, currency: str = "USD") -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


@dataclass
class _Fault:
    kind: int | str
    times: int
    retry_after: float | None


class FakeShopify:
    """An in-memory shop: records, a request log, injectable faults and a cost bucket."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        api_version: str = API_VERSION,
        maximum_available: float = 2000.0,
        restore_rate: float = 100.0,
    ) -> None:
        self.token = token
        self.api_version = api_version
        self.customers: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.maximum_available = maximum_available
        self.available = maximum_available
        self.restore_rate = restore_rate
        self.stuck_cursor = False  # answer every page with the same endCursor
        # (connection or node name, field) Shopify withholds with ACCESS_DENIED; field None
        # withholds the whole listed node.
        self.withheld: set[tuple[str, str | None]] = set()
        self._faults: list[_Fault] = []
        self._clock = START
        self._deliveries = 0

    # --- data ------------------------------------------------------------------------------

    def _tick(self) -> str:
        self._clock += timedelta(minutes=1)
        return iso(self._clock)

    def add_customers(self, n: int) -> list[int]:
        """Add ``n`` customers (updated one minute apart, after everything so far); their ids."""
        ids = []
        for _ in range(n):
            i = len(self.customers)
            cid = 7_000_000_001 + i
            self.customers[cid] = self._customer(cid, i, self._tick())
            ids.append(cid)
        return ids

    def _customer(self, cid: int, i: int, at: str) -> dict[str, Any]:
        # Names as varied as a real shop's: the first few are the short lists above, then the
        # demo's name lists (a few hundred each), combined so that names rarely repeat.
        first = _FIRST[i] if i < len(_FIRST) else FIRST_NAMES[i % len(FIRST_NAMES)]
        last = _LAST[i] if i < len(_LAST) else LAST_NAMES[(i * 7919) % len(LAST_NAMES)]
        city, province, code, country_code, country = _CITIES[i % len(_CITIES)]
        address = {
            "address1": f"{10 + i} Main Street",
            "address2": "Apt 4" if i % 4 == 0 else None,
            "city": city,
            "province": province,
            "provinceCode": code,
            "zip": f"K1A {i % 10}B{i % 7}",
            "country": country,
            "countryCodeV2": country_code,
            "phone": _phone(613, i),
            "company": "Acme Ltd" if i % 5 == 0 else None,
        }
        return {
            "id": f"gid://shopify/Customer/{cid}",
            "email": f"{first.lower()}.{last.lower()}{i}@example.com",
            "firstName": first,
            "lastName": last,
            "phone": _phone(514, i) if i % 3 else None,
            "createdAt": at,
            "updatedAt": at,
            "state": "ENABLED" if i % 2 else "DISABLED",
            "tags": ["vip", "wholesale"] if i % 6 == 0 else [],
            "note": "Prefers email" if i % 7 == 0 else None,
            "defaultAddress": address,
            "addresses": [address],
        }

    def add_orders(self, n: int) -> list[int]:
        """Add ``n`` orders, some refunded, fulfilled or cancelled, owned round-robin by the
        customers (every sixth is a guest order); their ids."""
        owners = list(self.customers)
        ids = []
        for _ in range(n):
            i = len(self.orders)
            oid = 5_000_000_001 + i
            owner = owners[i % len(owners)] if owners and i % 6 != 5 else None
            self.orders[oid] = self._order(oid, i, owner, self._tick())
            ids.append(oid)
        return ids

    def _order(self, oid: int, i: int, owner: int | None, at: str) -> dict[str, Any]:
        items = [_PRODUCTS[(i + k) % len(_PRODUCTS)] for k in range(1 + i % 3)]
        total = f"{49.5 * len(items):.2f}"
        refunded, fulfilled, cancelled = i % 3 == 1, i % 2 == 0, i % 7 == 6
        return {
            "id": f"gid://shopify/Order/{oid}",
            "name": f"#{1001 + i}",
            "number": 1001 + i,
            "email": None if owner is None else self.customers[owner]["email"],
            "phone": None,
            "createdAt": at,
            "updatedAt": at,
            "cancelledAt": at if cancelled else None,
            "closedAt": at if fulfilled and not cancelled else None,
            "displayFinancialStatus": "PARTIALLY_REFUNDED" if refunded else "PAID",
            "displayFulfillmentStatus": "FULFILLED" if fulfilled else "UNFULFILLED",
            "totalPriceSet": _money(total),
            "currencyCode": "USD",
            "customer": None if owner is None else {"id": f"gid://shopify/Customer/{owner}"},
            "note": "Gift wrap" if i % 5 == 0 else None,
            "lineItems": {"nodes": [{"title": t, "quantity": 1, "sku": s} for t, s in items]},
            "fulfillments": [self._fulfillment(i, at)] if fulfilled else [],
            "refunds": [self._refund(oid, at)] if refunded else [],
        }

    @staticmethod
    def _fulfillment(i: int, at: str) -> dict[str, Any]:
        number = f"1Z999AA1{i:08d}"
        return {
            "status": "SUCCESS",
            "displayStatus": "DELIVERED" if i % 4 == 0 else "IN_TRANSIT",
            "createdAt": at,
            "trackingInfo": [
                {"company": "UPS", "number": number, "url": f"https://ups.example/t/{number}"}
            ],
        }

    @staticmethod
    def _refund(oid: int, at: str) -> dict[str, Any]:
        return {
            "id": f"gid://shopify/Refund/{oid + 900_000_000}",
            "createdAt": at,
            "note": "Damaged in transit",
            "totalRefundedSet": _money("49.50"),
        }

    def touch(self, kind: str, ids: list[int], at: datetime | str) -> None:
        """Set ``updatedAt`` of the ``kind`` (customer(s)/order(s)) records ``ids`` to ``at``."""
        table = self.customers if kind.startswith("customer") else self.orders
        for record_id in ids:
            table[record_id]["updatedAt"] = _as_iso(at)

    # --- faults and time -------------------------------------------------------------------

    def inject(self, fault: int | str, times: int = 1, retry_after: float | None = None) -> None:
        """Make the next ``times`` requests fail: an HTTP status, ``"THROTTLED"`` (200 with a
        THROTTLED error), ``"timeout"`` (``httpx.ReadTimeout``) or ``"graphql_error"``."""
        self._faults.append(_Fault(fault, times, retry_after))

    def sleep(self, seconds: float) -> None:
        """The connector's ``sleep``: recorded, never slept; the cost bucket refills meanwhile."""
        self.sleeps.append(seconds)
        self.available = min(self.maximum_available, self.available + seconds * self.restore_rate)

    # --- transport -------------------------------------------------------------------------

    def client(self) -> httpx.Client:
        """An ``httpx.Client`` whose transport is this fake."""
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def connector(self, client: httpx.Client | None = None, **kw: Any) -> ShopifyConnector:
        """A ``ShopifyConnector`` pointed at this fake, sleeping through ``self.sleep``."""
        options: dict[str, Any] = {
            "shop": SHOP,
            "access_token": self.token,
            "webhook_secret": SECRET,
            "api_version": self.api_version,
            "sleep": self.sleep,
        }
        options.update(kw)
        return ShopifyConnector(client or self.client(), **options)

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies (``query`` and ``variables``) of the requests seen."""
        return [json.loads(request.content) for request in self.requests]

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request like Shopify's GraphQL Admin API would."""
        self.requests.append(request)
        fault = self._next_fault()
        if fault is not None:
            return self._fail(fault, request)
        if request.headers.get("X-Shopify-Access-Token") != self.token:
            message = "[API] Invalid API key or access token (unrecognized login or wrong password)"
            return httpx.Response(401, json={"errors": message})
        if request.method != "POST" or request.url.path != self.graphql_path:
            return httpx.Response(404, json={"errors": "Not Found"})
        body = json.loads(request.content)
        return self._execute(body.get("query", ""), body.get("variables") or {})

    @property
    def graphql_path(self) -> str:
        """The GraphQL endpoint path for this fake's API version."""
        return f"/admin/api/{self.api_version}/graphql.json"

    def _next_fault(self) -> _Fault | None:
        while self._faults and self._faults[0].times <= 0:
            self._faults.pop(0)
        if not self._faults:
            return None
        self._faults[0].times -= 1
        return self._faults[0]

    def _fail(self, fault: _Fault, request: httpx.Request) -> httpx.Response:
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        if fault.kind == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if fault.kind == "THROTTLED":
            return httpx.Response(200, json=self._throttled(1000), headers=headers)
        if fault.kind == "graphql_error":
            error = {
                "message": "Field 'favouriteColour' doesn't exist on type 'Customer'",
                "extensions": {"code": "undefinedField", "typeName": "Customer"},
            }
            return httpx.Response(200, json={"errors": [error]})
        # A careless proxy echoing the credential back: the connector must still not leak it.
        presented = request.headers.get("X-Shopify-Access-Token", "")
        body = {"errors": f"request failed for token {presented}"}
        return httpx.Response(int(fault.kind), json=body, headers=headers)

    # --- GraphQL ---------------------------------------------------------------------------

    def _cost(self, requested: int, actual: int) -> dict[str, Any]:
        status = {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": self.available,
            "restoreRate": self.restore_rate,
        }
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": status,
            }
        }

    def _throttled(self, requested: int) -> dict[str, Any]:
        error = {"message": "Throttled", "extensions": {"code": "THROTTLED"}}
        return {"errors": [error], "extensions": self._cost(requested, 0)}

    def _execute(self, query: str, variables: dict[str, Any]) -> httpx.Response:
        connection, node = _CONNECTION.search(query), _NODE.search(query)
        if connection is not None:
            name = connection.group(1)
            first = int(variables.get("first") or 0)
            return self._charge(
                2 + first * _COST_PER_NODE[name], lambda: self._page(name, variables)
            )
        if node is not None:
            kind = node.group(1)
            return self._charge(1 + _COST_PER_NODE[kind], lambda: self._node(kind, variables))
        error = {"message": "unsupported query", "extensions": {"code": "parseError"}}
        return httpx.Response(200, json={"errors": [error]})

    def _charge(
        self, requested: int, run: Callable[[], tuple[dict[str, Any], int]]
    ) -> httpx.Response:
        if self.available < requested:
            return httpx.Response(200, json=self._throttled(requested))
        data, actual = run()
        self.available -= actual
        body: dict[str, Any] = {"data": data, "extensions": self._cost(requested, actual)}
        errors = self._withhold(data)
        if errors:
            body = {"errors": errors, **body}
        return httpx.Response(200, json=body)

    def _withhold(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Null the withheld fields in ``data`` and return the errors Shopify sends for them:
        ``ACCESS_DENIED`` located by ``path``, the shape of the Admin API's "Status and error
        codes" reference, beside the rest of the data."""
        errors = []
        for root, value in data.items():
            if not isinstance(value, dict):
                continue
            listed: list[Any] = value.get("nodes") or []
            nodes = list(enumerate(listed)) if "nodes" in value else [(None, value)]
            for i, node in nodes:
                path: list[Any] = [root] if i is None else [root, "nodes", i]
                for name, field in sorted(self.withheld, key=str):
                    if name != root:
                        continue
                    if field is None and i is not None:
                        listed[i] = None
                        errors.append(access_denied(path, root))
                    elif field is not None:
                        node[field] = None
                        errors.append(access_denied([*path, field], field))
        return errors

    def _table(self, kind: str) -> dict[int, dict[str, Any]]:
        return self.customers if kind.startswith("customer") else self.orders

    def _page(self, name: str, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        records = sorted(
            self._table(name).values(), key=lambda r: (r["updatedAt"], _numeric(r["id"]))
        )
        records = _filtered(records, variables.get("query"))
        if variables.get("after") and not self.stuck_cursor:
            position = _decode_cursor(variables["after"])
            records = [r for r in records if (r["updatedAt"], _numeric(r["id"])) > position]
        first = int(variables["first"])
        page, has_next = records[:first], len(records) > first
        end = _encode_cursor(page[-1]) if page else None
        if self.stuck_cursor:
            end, has_next = "stuck-cursor", True
        connection = {
            "nodes": [json.loads(json.dumps(r)) for r in page],
            "pageInfo": {"hasNextPage": has_next, "endCursor": end},
        }
        return {name: connection}, 2 + len(page) * _COST_PER_NODE[name]

    def _node(self, kind: str, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        record = self._table(kind).get(_numeric(str(variables.get("id", ""))))
        return {kind: json.loads(json.dumps(record))}, 1 + _COST_PER_NODE[kind]

    # --- webhooks --------------------------------------------------------------------------

    def signed(
        self,
        topic: str,
        body: dict[str, Any],
        secret: str = SECRET,
        triggered_at: datetime | float | str | None = None,
        webhook_id: str | None = None,
        event_id: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A delivery of ``body`` on ``topic`` signed like Shopify does: (headers, raw body)."""
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
        self._deliveries += 1
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Shop-Domain": f"{SHOP}.myshopify.com",
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": webhook_id
            or f"b54557e4-bdd9-4b37-8a5f-{self._deliveries:012d}",
            "X-Shopify-Event-Id": event_id or f"98880550-7158-44d4-b7cd-{self._deliveries:012d}",
        }
        if triggered_at is not None:
            headers["X-Shopify-Triggered-At"] = _triggered_header(triggered_at)
        return headers, raw


def access_denied(path: list[Any], field: str) -> dict[str, Any]:
    """A GraphQL field error in the shape Shopify documents for a field the app may not read."""
    return {
        "message": f"Access denied for {field} field.",
        "locations": [{"line": 3, "column": 5}],
        "path": path,
        "extensions": {
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
        },
    }


def _triggered_header(value: datetime | float | str) -> str:
    if isinstance(value, str):
        return value
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value, tz=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _numeric(gid: str) -> int:
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _filtered(records: list[dict[str, Any]], search: str | None) -> list[dict[str, Any]]:
    match = _SINCE.search(search or "")
    if match is None:
        return records
    since = _as_iso(match.group(2))
    if match.group(1) == ">=":
        return [r for r in records if r["updatedAt"] >= since]
    return [r for r in records if r["updatedAt"] > since]


def _encode_cursor(record: dict[str, Any]) -> str:
    position = {"last_id": _numeric(record["id"]), "last_value": record["updatedAt"]}
    return base64.b64encode(json.dumps(position).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[str, int]:
    position = json.loads(base64.b64decode(cursor))
    return position["last_value"], position["last_id"]


def _phone(area: int, i: int) -> str:
    """The ``i``-th customer's phone: a valid North American number (``+1 613 555 0007``), the
    area code moving on every 10,000 customers so that the number keeps ten digits."""
    return f"+1{area + i // 10_000}555{i % 10_000:04d}"
