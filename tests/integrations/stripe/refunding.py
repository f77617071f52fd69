"""``RefundingStripe``: ``FakeStripe`` answering about refunds as the pinned API version does.

A charge carries its ``refunds`` only when expanded (``expand[]=refunds`` on retrieve,
``data.refunds`` on a list), 10 of them with ``has_more``; ``/v1/refunds`` (``charge=``,
``limit``, ``starting_after``), ``/v1/refunds/<id>`` and ``/v1/payment_intents/<id>`` are
served from ``refunds`` and ``intents``. Refund objects follow ``shared/refdata/stripe``.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.integrations.refdata import refdata
from tests.integrations.stripe.fake import FakeStripe

Json = dict[str, Any]
EXPANDED_REFUNDS = 10  # what Stripe embeds of an expanded list


def example(name: str) -> Json:
    """A fresh copy of Stripe's published example object ``stripe/<name>.json``."""
    data: Json = refdata("stripe", f"{name}.json")
    return copy.deepcopy(data)


class RefundingStripe(FakeStripe):
    """``FakeStripe`` with refunds and payment intents (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.refunds: list[Json] = []  # oldest first
        self.intents: dict[str, Json] = {}

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith(("/v1/refunds", "/v1/payment_intents")):
            return self._refund_route(request)
        response = super()._route(request)
        if not response.is_success or not path.startswith("/v1/charges"):
            return response
        body = response.json()
        expand = request.url.params.get_list("expand[]")
        if body.get("object") == "list":
            body["data"] = [self._shaped(c, "data.refunds" in expand) for c in body["data"]]
        else:
            body = self._shaped(body, "refunds" in expand)
        return httpx.Response(200, json=body)

    def _refund_route(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if parts[1] == "payment_intents":
            return _found_or_404(self.intents.get(parts[2]), "payment_intent", parts[2])
        if len(parts) == 3:
            found = next((r for r in self.refunds if r["id"] == parts[2]), None)
            return _found_or_404(found, "refund", parts[2])
        charge = request.url.params.get("charge")
        newest_first = [r for r in reversed(self.refunds) if charge in (None, r["charge"])]
        return self._list(request, newest_first)

    def _shaped(self, charge: Json, expanded: bool) -> Json:
        shaped = {k: v for k, v in charge.items() if k != "refunds"}
        if expanded:
            mine = [r for r in reversed(self.refunds) if r["charge"] == charge["id"]]
            shaped["refunds"] = {
                "object": "list",
                "data": copy.deepcopy(mine[:EXPANDED_REFUNDS]),
                "has_more": len(mine) > EXPANDED_REFUNDS,
                "url": f"/v1/charges/{charge['id']}/refunds",
            }
        return shaped

    def refund(self, charge_id: str | None, amount: int, intent: str | None = None) -> Json:
        """Refund ``amount`` of a charge (or of a payment intent, ``charge_id`` ``None``)."""
        refund = {
            **example("refund"),
            "id": f"re_{len(self.refunds):04d}",
            "charge": charge_id,
            "payment_intent": intent,
            "amount": amount,
            "created": int(self.clock),
            "reason": "requested_by_customer",
        }
        self.refunds.append(refund)
        if charge_id is not None:
            self._add_refunded(charge_id, amount)
        return copy.deepcopy(refund)

    def place(self, refund_id: str, charge_id: str) -> Json:
        """Stripe attaches a charge to a refund that named none; the charge's totals move."""
        refund = next(r for r in self.refunds if r["id"] == refund_id)
        refund["charge"] = charge_id
        self._add_refunded(charge_id, int(refund["amount"]))
        return copy.deepcopy(refund)

    def intent(self, intent_id: str, latest_charge: str | None) -> Json:
        """A payment intent (the published example) paid with ``latest_charge``."""
        intent = {**example("payment_intent"), "id": intent_id, "latest_charge": latest_charge}
        self.intents[intent_id] = intent
        return intent

    def unexpanded(self, charge_id: str) -> Json:
        """The charge as an event carries it at the pinned version: no ``refunds`` list."""
        return self._shaped(self.get("charge", charge_id) or {}, expanded=False)

    def _add_refunded(self, charge_id: str, amount: int) -> None:
        charge = self.get("charge", charge_id) or {}
        charge["amount_refunded"] = charge.get("amount_refunded", 0) + amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]


def _found_or_404(found: Json | None, kind: str, object_id: str) -> httpx.Response:
    if found is None:
        error = {"type": "invalid_request_error", "code": "resource_missing"}
        return httpx.Response(404, json={"error": {**error, "message": f"No such {kind}"}})
    return httpx.Response(200, json=found)
