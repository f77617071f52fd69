"""Minimal vendor-shaped payloads for tests (the real shapes are in ../shared/refdata)."""

from __future__ import annotations

from typing import Any

T0 = "2026-01-01T00:00:00Z"


def shopify_customer(
    cid: int,
    email: str | None,
    first: str,
    last: str,
    phone: str | None = None,
    updated_at: str = T0,
) -> tuple[str, str, dict[str, Any]]:
    return (
        "shopify",
        "customer",
        {
            "id": cid,
            "email": email,
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "created_at": T0,
            "updated_at": updated_at,
            "addresses": [],
        },
    )


def shopify_order(
    oid: int,
    customer_id: int,
    name: str,
    created_at: str,
    *,
    financial: str = "paid",
    fulfillment: str | None = None,
    total: str = "10.00",
) -> tuple[str, str, dict[str, Any]]:
    return (
        "shopify",
        "order",
        {
            "id": oid,
            "name": name,
            "order_number": int(name.strip("#")),
            "email": None,
            "created_at": created_at,
            "updated_at": created_at,
            "cancelled_at": None,
            "closed_at": None,
            "financial_status": financial,
            "fulfillment_status": fulfillment,
            "total_price": total,
            "currency": "USD",
            "customer": {"id": customer_id},
            "line_items": [{"title": "Lamp", "quantity": 1, "sku": "L1"}],
            "fulfillments": [],
            "refunds": [],
        },
    )


def stripe_customer(
    cid: str,
    email: str | None,
    name: str | None,
    phone: str | None = None,
    metadata: dict[str, str] | None = None,
) -> tuple[str, str, dict[str, Any]]:
    return (
        "stripe",
        "customer",
        {
            "id": cid,
            "object": "customer",
            "email": email,
            "name": name,
            "phone": phone,
            "created": 1735689600,
            "metadata": metadata or {},
            "address": None,
        },
    )


def hubspot_contact(
    cid: str,
    email: str | None,
    first: str | None,
    last: str | None,
    phone: str | None = None,
    **props: str,
) -> tuple[str, str, dict[str, Any]]:
    properties = {
        "email": email,
        "firstname": first,
        "lastname": last,
        "phone": phone,
        "lastmodifieddate": T0,
        "createdate": T0,
        **props,
    }
    return (
        "hubspot",
        "contact",
        {
            "id": cid,
            "properties": properties,
            "createdAt": T0,
            "updatedAt": T0,
            "archived": False,
        },
    )


def zendesk_user(
    uid: int,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    updated_at: str = T0,
) -> tuple[str, str, dict[str, Any]]:
    return (
        "zendesk",
        "user",
        {
            "id": uid,
            "name": name,
            "email": email,
            "phone": phone,
            "role": "end-user",
            "active": True,
            "created_at": T0,
            "updated_at": updated_at,
            "tags": [],
        },
    )


def zendesk_ticket(
    tid: int,
    requester: int,
    subject: str,
    status: str = "open",
) -> tuple[str, str, dict[str, Any]]:
    return (
        "zendesk",
        "ticket",
        {
            "id": tid,
            "subject": subject,
            "description": subject,
            "status": status,
            "priority": "normal",
            "requester_id": requester,
            "created_at": T0,
            "updated_at": T0,
            "tags": [],
            "via": {"channel": "email"},
            "satisfaction_rating": None,
        },
    )


def stripe_subscription(
    sid: str, customer: str, status: str, plan: str = "Pro"
) -> tuple[str, str, dict[str, Any]]:
    return (
        "stripe",
        "subscription",
        {
            "id": sid,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "created": 1735689600,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "trial_end": None,
            "latest_invoice": None,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": "si_1",
                        "current_period_end": 1767225600,
                        "quantity": 1,
                        "price": {
                            "id": "price_1",
                            "nickname": plan,
                            "unit_amount": 4900,
                            "currency": "usd",
                            "recurring": {"interval": "month"},
                            "product": "prod_1",
                        },
                    }
                ],
            },
        },
    )


def stripe_invoice(
    iid: str, customer: str, status: str, attempts: int, remaining: int
) -> tuple[str, str, dict[str, Any]]:
    return (
        "stripe",
        "invoice",
        {
            "id": iid,
            "object": "invoice",
            "customer": customer,
            "number": f"N-{iid}",
            "status": status,
            "amount_due": 4900,
            "amount_paid": 4900 - remaining,
            "amount_remaining": remaining,
            "currency": "usd",
            "attempt_count": attempts,
            "attempted": attempts > 0,
            "next_payment_attempt": None,
            "created": 1735689600,
            "due_date": None,
            "status_transitions": {"paid_at": None},
        },
    )


def stripe_charge(
    chid: str, customer: str, status: str = "succeeded"
) -> tuple[str, str, dict[str, Any]]:
    return (
        "stripe",
        "charge",
        {
            "id": chid,
            "object": "charge",
            "customer": customer,
            "amount": 4900,
            "currency": "usd",
            "status": status,
            "paid": status == "succeeded",
            "failure_code": None,
            "failure_message": None,
            "refunded": False,
            "amount_refunded": 0,
            "disputed": True,
            "created": 1735689600,
            "payment_method_details": {
                "type": "card",
                "card": {
                    "brand": "visa",
                    "last4": "4242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "fingerprint": "Xt5EWLLDS7FJjR1c",
                },
            },
        },
    )


def stripe_dispute(
    did: str, charge: str, status: str = "needs_response"
) -> tuple[str, str, dict[str, Any]]:
    return (
        "stripe",
        "dispute",
        {
            "id": did,
            "object": "dispute",
            "charge": charge,
            "amount": 4900,
            "currency": "usd",
            "reason": "fraudulent",
            "status": status,
            "created": 1735689600,
            "evidence_details": {"due_by": 1736294400},
        },
    )


def stripe_event(
    event_id: str, event_type: str, obj: dict[str, Any], created: int
) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": created,
        "api_version": "2026-06-24.dahlia",
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }


def stripe_signed(event: dict[str, Any], secret: str, t: int) -> tuple[dict[str, str], bytes]:
    """Headers and raw body of a Stripe delivery signed as Stripe documents it."""
    import hashlib
    import hmac
    import json

    raw = json.dumps(event, separators=(",", ":")).encode()
    digest = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={digest}"}, raw
