"""Charges an events page already shows whole, so that they need no request of their own.

At the pinned API version an event's charge carries no ``refunds`` list, and Stripe sends a
``refund.created`` with each ``charge.refunded`` (``refund.*`` for every refund since
2024-10-28). A page's newest copy of a charge shows every refund of the charge when

* it carries a ``refunds`` list that says no ``has_more`` (an event rendered at an older API
  version), and every refund the page's refund events show for the charge is in it as they
  show it (same status and amount); or
* it carries no list, and the refunds the page's refund events show for the charge, less the
  failed and canceled ones, add up to its ``amount_refunded``: no other refund returned money.
  The copy is completed with those refunds, newest first, as Stripe lists them.

Neither holds when a refund event is newer than the copy, when copies of the same second
differ, or when the amounts are not plain integers: the charge is then fetched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from integrations._connector import VendorObject
from integrations._convert import iso_utc
from integrations.stripe.mapping import VOID_REFUND_STATUSES
from integrations.stripe.webhooks import Event, expanded_id

Json = dict[str, Any]


def whole_charges(events: Iterable[Event]) -> dict[str, VendorObject]:
    """Per charge id, a copy from ``events`` (oldest first) that shows all the charge's
    refunds as of the newest event about it, dated by its event; charges the page does not
    show whole are left out."""
    copies: dict[str, list[tuple[int, Json]]] = {}
    refunds: dict[str, dict[str, tuple[int, Json]]] = {}
    for event in events:
        obj = event.data.object
        own_id = expanded_id(obj.get("id"))
        if own_id is None:
            continue
        if obj.get("object") == "charge":
            copies.setdefault(own_id, []).append((event.created, obj))
        elif obj.get("object") == "refund" and (charge := expanded_id(obj.get("charge"))):
            refunds.setdefault(charge, {})[own_id] = (event.created, obj)
    whole: dict[str, VendorObject] = {}
    for charge, held in copies.items():
        shown = refunds.get(charge, {})
        newest = max(created for created, _ in held)
        if any(created > newest for created, _ in shown.values()):
            continue
        latest = [obj for created, obj in held if created == newest]
        payload = _whole(latest[-1], [obj for _, obj in shown.values()])
        if payload is not None and all(obj == latest[-1] for obj in latest):
            whole[charge] = VendorObject("charge", payload, observed_at=iso_utc(newest))
    return whole


def _whole(charge: Json, shown: list[Json]) -> Json | None:
    """``charge`` with every refund it has, given the refunds the page ``shown`` for it, or
    ``None`` when the page cannot tell."""
    refunds = charge.get("refunds")
    if isinstance(refunds, dict):
        data = refunds.get("data")
        if refunds.get("has_more") is not False or not isinstance(data, list):
            return None
        listed = {expanded_id(r): r for r in data if isinstance(r, dict)}
        agree = all(_same(listed.get(expanded_id(r.get("id"))), r) for r in shown)
        return charge if agree else None
    refunded = _integer(charge.get("amount_refunded"))
    amounts = [
        _integer(r.get("amount")) for r in shown if r.get("status") not in VOID_REFUND_STATUSES
    ]
    if refunded is None or None in amounts or sum(a or 0 for a in amounts) != refunded:
        return None
    newest_first = sorted(shown, key=lambda r: _integer(r.get("created")) or 0, reverse=True)
    listing = {
        "object": "list",
        "data": newest_first,
        "has_more": False,
        "url": f"/v1/charges/{charge.get('id')}/refunds",
    }
    return {**charge, "refunds": listing}


def _same(listed: Mapping[str, Any] | None, shown: Mapping[str, Any]) -> bool:
    """Whether a charge's copy lists a refund as a refund event shows it."""
    return listed is not None and all(listed.get(f) == shown.get(f) for f in ("status", "amount"))


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
