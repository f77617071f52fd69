"""``FakeStripe``: an in-memory Stripe API for ``httpx.MockTransport``.

Objects follow the shapes of Stripe's published examples (``shared/refdata/stripe/*.json``,
current API: subscription items carry ``current_period_end``, invoices carry
``parent.subscription_details``), trimmed to what the connector and the mapper read plus a few
neighbours. Lists are newest first with ``limit``/``starting_after``/``has_more``; subscriptions
leave out canceled ones unless ``status=all``; ``/v1/events`` filters on ``created[gte|gt|lte|lt]``,
``types[]`` (at most 20) and ``type`` (``*`` wildcard) and keeps 30 days. Faults are injected with
``inject``; every request is logged in ``requests``. Nothing here sleeps or reaches the network.

The cross-connector contract suite relies on these names: ``FakeStripe``, ``add_customers``,
``emit_event``, ``handler``, ``inject``, ``requests``, ``connector``, ``signed``.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import hmac
import json
import operator
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import unquote

import httpx
import msgspec

from integrations.stripe import StripeConnector

API_KEY = "sk_test_fake_51Hx0123456789abcdef"
WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"
START = 1_767_225_600  # 2026-01-01T00:00:00Z
EVENT_RETENTION = 30 * 86_400
_RESOURCES = {
    "customers": "customer",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "charges": "charge",
    "disputes": "dispute",
}
_EVENT_KINDS = {"customer", "subscription", "invoice", "charge", "dispute"}

Json = dict[str, Any]


class _Fault(msgspec.Struct):
    status: int | Literal["timeout"]
    times: int
    retry_after: float | None
    should_retry: bool | None


def _error(
    status: int, message: str, code: str | None = None, param: str | None = None, **headers: str
) -> httpx.Response:
    kind = "api_error" if status >= 500 else "invalid_request_error"
    error = {"type": kind, "code": code, "message": message}
    if param is not None:
        error["param"] = param
    return httpx.Response(status, json={"error": error}, headers=headers)


def _price(amount: int) -> Json:
    return {
        "id": "price_1PgafmB7WZ01zgkW6dKueIc5",
        "object": "price",
        "currency": "usd",
        "nickname": "Pro monthly",
        "lookup_key": None,
        "product": "prod_QXg1hqf4jFNsqG",
        "recurring": {"interval": "month", "interval_count": 1},
        "unit_amount": amount,
    }


class FakeStripe:
    """An in-memory Stripe: objects, events, list/retrieve endpoints and injected faults."""

    def __init__(
        self, *, api_key: str = API_KEY, webhook_secret: str = WEBHOOK_SECRET, clock: float = START
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.clock = clock
        self.objects: dict[str, list[Json]] = {kind: [] for kind in _RESOURCES.values()}
        self._where: dict[str, dict[str, int]] = {kind: {} for kind in _RESOURCES.values()}
        self.events: list[Json] = []
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self._faults: list[_Fault] = []
        self._customers = 0
        self._events = 0

    # --- time and objects ---

    def now(self) -> float:
        """The fake's clock (unix seconds); the connector made by ``connector`` reads it."""
        return self.clock

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.clock += seconds

    def get(self, kind: str, object_id: str) -> Json | None:
        """The stored object of ``kind`` with ``object_id``."""
        index = self._where[kind].get(object_id)
        return None if index is None else self.objects[kind][index]

    def put(self, obj: Json) -> Json:
        """Store (insert or replace in place) an object; its ``object`` field names its kind."""
        kind = obj["object"]
        items, where = self.objects[kind], self._where[kind]
        index = where.get(obj["id"])
        if index is None:
            where[obj["id"]] = len(items)
            items.append(obj)
        else:
            items[index] = obj
        return obj

    def remove(self, kind: str, object_id: str) -> None:
        """Forget an object entirely (a deleted draft invoice: listed nowhere, GET answers 404)."""
        index = self._where[kind].pop(object_id)
        del self.objects[kind][index]
        self._where[kind] = {o["id"]: i for i, o in enumerate(self.objects[kind])}

    def add_customers(self, n: int) -> list[str]:
        """Add ``n`` customers, each with a subscription, two invoices and two charges.

        Every 4th customer is ``past_due`` with a failed latest invoice and charge; every 5th has
        a dispute on its first charge; every 6th also has a canceled subscription.
        """
        ids = []
        for _ in range(n):
            self._customers += 1
            ids.append(self._add_customer(self._customers))
        return ids

    def _add_customer(self, k: int) -> str:
        created = int(self.clock)
        past_due = k % 4 == 0
        cus = self.put(self._customer(k, created, delinquent=past_due))["id"]
        sub = self.put(self._subscription(k, cus, created, "past_due" if past_due else "active"))
        self.put(self._invoice(f"in_{k:06d}a", cus, sub["id"], created, paid=True))
        latest = self.put(self._invoice(f"in_{k:06d}b", cus, sub["id"], created, paid=not past_due))
        sub["latest_invoice"] = latest["id"]
        charge = self.put(self._charge(f"ch_{k:06d}a", cus, created, failed=False))
        self.put(self._charge(f"ch_{k:06d}b", cus, created, failed=past_due))
        if k % 5 == 0:
            self.put(self._dispute(f"dp_{k:06d}", charge["id"], created))
        if k % 6 == 0:
            self.put(self._subscription(k, cus, created, "canceled", suffix="old"))
        return str(cus)

    def _customer(self, k: int, created: int, *, delinquent: bool) -> Json:
        return {
            "id": f"cus_{k:06d}",
            "object": "customer",
            "created": created,
            "email": f"customer{k}@example.com",
            "name": f"Customer {k}",
            "phone": f"+1415555{k:04d}",
            "address": {
                "line1": f"{k} Main St",
                "line2": None,
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
                "country": "US",
            },
            "currency": "usd",
            "delinquent": delinquent,
            "livemode": False,
            "metadata": {"shopify_customer_id": str(1000 + k)} if k % 2 else {},
        }

    def _subscription(self, k: int, cus: str, created: int, status: str, suffix: str = "") -> Json:
        sub_id = f"sub_{k:06d}{suffix}"
        item = {
            "id": f"si_{k:06d}{suffix}",
            "object": "subscription_item",
            "price": _price(2000),
            "quantity": 1,
            "subscription": sub_id,
            "current_period_end": created + 30 * 86_400,
            "current_period_start": created,
        }
        return {
            "id": sub_id,
            "object": "subscription",
            "customer": cus,
            "created": created,
            "currency": "usd",
            "status": status,
            "items": {"object": "list", "data": [item], "has_more": False},
            "cancel_at_period_end": False,
            "canceled_at": created if status == "canceled" else None,
            "trial_end": None,
            "latest_invoice": None,
            "livemode": False,
            "metadata": {},
        }

    def _invoice(self, inv_id: str, cus: str, sub: str, created: int, *, paid: bool) -> Json:
        return {
            "id": inv_id,
            "object": "invoice",
            "customer": cus,
            "created": created,
            "currency": "usd",
            "number": inv_id.upper(),
            "status": "paid" if paid else "open",
            "amount_due": 2000,
            "amount_paid": 2000 if paid else 0,
            "amount_remaining": 0 if paid else 2000,
            "attempt_count": 1 if paid else 2,
            "next_payment_attempt": None if paid else created + 3 * 86_400,
            "due_date": None,
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": sub, "metadata": {}},
            },
            "status_transitions": {"paid_at": created if paid else None, "finalized_at": created},
            "livemode": False,
        }

    def _charge(self, ch_id: str, cus: str, created: int, *, failed: bool) -> Json:
        return {
            "id": ch_id,
            "object": "charge",
            "customer": cus,
            "created": created,
            "amount": 2000,
            "amount_refunded": 0,
            "currency": "usd",
            "status": "failed" if failed else "succeeded",
            "paid": not failed,
            "failure_code": "card_declined" if failed else None,
            "failure_message": "Your card was declined." if failed else None,
            "refunded": False,
            "disputed": False,
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
            "refunds": {"object": "list", "data": [], "has_more": False},
            "livemode": False,
        }

    def _dispute(self, dp_id: str, charge: str, created: int) -> Json:
        return {
            "id": dp_id,
            "object": "dispute",
            "charge": charge,
            "created": created,
            "amount": 2000,
            "currency": "usd",
            "reason": "fraudulent",
            "status": "needs_response",
            "evidence_details": {"due_by": created + 7 * 86_400, "has_evidence": False},
            "livemode": False,
        }

    # --- events and webhooks ---

    def emit_event(self, type: str, obj: Json, created: int | None = None) -> Json:
        """Record an event of ``type`` carrying ``obj`` (also stored as the object's new state)."""
        self._events += 1
        event = {
            "id": f"evt_{self._events:06d}",
            "object": "event",
            "api_version": "2026-06-24.dahlia",
            "created": int(self.clock) if created is None else created,
            "type": type,
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }
        self.events.append(event)
        if obj.get("object") in _EVENT_KINDS:
            gone = type == "customer.deleted"
            self.put({"id": obj["id"], "object": obj["object"], "deleted": True} if gone else obj)
        return event

    def signed(
        self, event: Json, secret: str | None = None, t: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        """A webhook delivery of ``event``: its headers (with ``Stripe-Signature``) and body."""
        raw = json.dumps(event, separators=(",", ":")).encode()
        stamp = int(self.clock) if t is None else t
        key = (secret or self.webhook_secret).encode()
        signature = hmac.new(key, f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": f"t={stamp},v1={signature}",
        }
        return headers, raw

    # --- faults, connector ---

    def inject(
        self,
        status: int | Literal["timeout"],
        times: int = 1,
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (or a read timeout)."""
        self._faults.append(_Fault(status, times, retry_after, should_retry))

    def client(self) -> httpx.Client:
        """An ``httpx.Client`` whose transport is this fake."""
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def connector(self, client: httpx.Client | None = None, **kw: Any) -> StripeConnector:
        """A ``StripeConnector`` on this fake: recorded sleeps, the fake's clock, its secrets."""
        options: dict[str, Any] = {
            "api_key": self.api_key,
            "webhook_secret": self.webhook_secret,
            "sleep": self.sleeps.append,
            "now": self.now,
        }
        options.update(kw)
        return StripeConnector(client or self.client(), **options)

    # --- HTTP ---

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as Stripe would (the ``MockTransport`` handler)."""
        self.requests.append(request)
        fault = self._take_fault(request)
        if fault is not None:
            return fault
        presented = request.headers.get("authorization", "")
        if presented != f"Bearer {self.api_key}":
            key = presented.removeprefix("Bearer ")
            return _error(401, f"Invalid API Key provided: {key}")
        if request.method != "GET":
            return _error(405, f"{request.method} not supported by the fake")
        return self._route(request)

    def _take_fault(self, request: httpx.Request) -> httpx.Response | None:
        if not self._faults:
            return None
        fault = self._faults[0]
        fault.times -= 1
        if fault.times <= 0:
            self._faults.pop(0)
        if fault.status == "timeout":
            raise httpx.ReadTimeout("injected timeout", request=request)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if fault.should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if fault.should_retry else "false"
        return _error(fault.status, f"injected {fault.status}", **headers)

    def _route(self, request: httpx.Request) -> httpx.Response:
        # Split the path as sent, then decode each part: an id holding ``/`` (sent as ``%2F``)
        # is one part, as Stripe reads it (``No such dispute: '../customers/cus_1'``).
        raw = request.url.raw_path.split(b"?")[0].decode("ascii")
        parts = [unquote(part) for part in raw.strip("/").split("/")]
        if len(parts) not in (2, 3) or parts[0] != "v1":
            return _error(404, f"Unrecognized request URL (GET: {request.url.path})")
        resource = parts[1]
        if len(parts) == 3 and (resource == "events" or resource in _RESOURCES):
            return self._retrieve(resource, parts[2])
        if resource == "events":
            items = self._events_for(request)
        elif resource in _RESOURCES:
            items = self._objects_for(_RESOURCES[resource], request)
        else:
            return _error(404, f"Unrecognized request URL (GET: {request.url.path})")
        if isinstance(items, httpx.Response):
            return items
        return self._list(request, items)

    def _retrieve(self, resource: str, object_id: str) -> httpx.Response:
        if resource == "events":
            found = next((e for e in self.events if e["id"] == object_id), None)
        else:
            found = self.get(_RESOURCES[resource], object_id)
        if found is None:
            singular = _RESOURCES.get(resource, "event")
            return _error(404, f"No such {singular}: '{object_id}'", "resource_missing")
        return httpx.Response(200, json=found)

    def _objects_for(self, kind: str, request: httpx.Request) -> list[Json]:
        items = [o for o in reversed(self.objects[kind]) if not o.get("deleted")]
        if kind == "subscription" and request.url.params.get("status") != "all":
            items = [o for o in items if o["status"] != "canceled"]
        return items

    def _events_for(self, request: httpx.Request) -> list[Json] | httpx.Response:
        params = request.url.params
        types = params.get_list("types[]")
        if len(types) > 20:
            return _error(400, "types: at most 20 event types may be given")
        oldest = self.clock - EVENT_RETENTION
        ordered = sorted(enumerate(self.events), key=lambda p: (p[1]["created"], p[0]))
        items = [e for _, e in reversed(ordered) if e["created"] >= oldest]
        for op, test in _CREATED_TESTS.items():
            if (value := params.get(f"created[{op}]")) is not None:
                items = [e for e in items if test(e["created"], int(value))]
        if types:
            items = [e for e in items if e["type"] in types]
        if (pattern := params.get("type")) is not None:
            items = [e for e in items if fnmatch.fnmatchcase(e["type"], pattern)]
        return items

    def _list(self, request: httpx.Request, items: list[Json]) -> httpx.Response:
        params = request.url.params
        limit = int(params.get("limit", "10"))
        if not 1 <= limit <= 100:
            return _error(400, "limit must be between 1 and 100")
        for op, test in _CREATED_TESTS.items():
            if (value := params.get(f"created[{op}]")) is not None:
                items = [o for o in items if test(o["created"], int(value))]
        after = params.get("starting_after")
        if after is not None:
            index = next((i for i, o in enumerate(items) if o["id"] == after), None)
            if index is None:
                message = f"No such object: '{after}'"
                return _error(400, message, "resource_missing", "starting_after")
            items = items[index + 1 :]
        page = items[:limit]
        body = {
            "object": "list",
            "data": page,
            "has_more": len(items) > limit,
            "url": request.url.path,
        }
        return httpx.Response(200, json=body)


_CREATED_TESTS: dict[str, Callable[[int, int], bool]] = {
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
}
