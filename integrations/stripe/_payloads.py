"""Stripe payload shapes for the mapper: msgspec Structs that declare only the fields it reads.

Unknown fields are skipped while decoding; a present field of the wrong type is a validation
error that ``mapping`` turns into a ``MappingError`` naming the field.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

_T = TypeVar("_T")


class _Ref(msgspec.Struct):
    """An expanded object (customer, product, invoice...) where only id and name matter."""

    id: str
    name: str | None = None


class _Object(msgspec.Struct):
    """Fields most Stripe objects share: id, ``object``, ``deleted``, owner, status, money."""

    id: str
    type_name: str | None = msgspec.field(name="object", default=None)
    deleted: bool = False
    customer: str | _Ref | None = None
    status: str | None = None
    currency: str | None = None
    amount: int | None = None
    created: int | None = None


class _Address(msgspec.Struct):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class _Customer(_Object):
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    address: _Address | None = None
    metadata: dict[str, str] | None = None


class _Recurring(msgspec.Struct):
    interval: str | None = None
    interval_count: int | None = None
    usage_type: str | None = None  # "licensed" (a quantity is billed) or "metered" (usage)


class _TransformQuantity(msgspec.Struct):
    """Bill ``ceil`` or ``floor`` of quantity / ``divide_by`` units ("per 5 seats")."""

    divide_by: int
    round: str = "up"  # "up" or "down"


class _Price(msgspec.Struct):
    nickname: str | None = None
    lookup_key: str | None = None
    product: str | _Ref | None = None
    unit_amount: int | None = None
    currency: str | None = None
    recurring: _Recurring | None = None
    transform_quantity: _TransformQuantity | None = None


class _Item(msgspec.Struct):
    price: _Price | None = None
    quantity: int | None = None
    current_period_end: int | None = None


class _List(msgspec.Struct, Generic[_T]):
    data: list[_T] = []


class _PauseCollection(msgspec.Struct):
    behavior: str | None = None
    resumes_at: int | None = None


class _Subscription(_Object):
    items: _List[_Item] | None = None
    pause_collection: _PauseCollection | None = None
    current_period_end: int | None = None
    cancel_at_period_end: bool | None = None
    cancel_at: int | None = None
    canceled_at: int | None = None
    trial_end: int | None = None
    latest_invoice: str | _Ref | None = None


class _SubscriptionDetails(msgspec.Struct):
    subscription: str | _Ref | None = None


class _InvoiceParent(msgspec.Struct):
    subscription_details: _SubscriptionDetails | None = None


class _StatusTransitions(msgspec.Struct):
    paid_at: int | None = None


class _Invoice(_Object):
    number: str | None = None
    amount_due: int | None = None
    amount_paid: int | None = None
    amount_remaining: int | None = None
    attempt_count: int | None = None
    next_payment_attempt: int | None = None
    parent: _InvoiceParent | None = None
    subscription: str | _Ref | None = None
    status_transitions: _StatusTransitions | None = None
    due_date: int | None = None


class _Card(msgspec.Struct):
    """Deliberately only brand and last4: never fingerprint, expiry or number."""

    brand: str | None = None
    last4: str | None = None


class _PaymentMethodDetails(msgspec.Struct):
    card: _Card | None = None


class _Refund(_Object):
    reason: str | None = None


class _Charge(_Object):
    captured: bool | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    refunded: bool | None = None
    amount_refunded: int | None = None
    payment_method_details: _PaymentMethodDetails | None = None
    disputed: bool | None = None
    refunds: _List[_Refund] | None = None


class _EvidenceDetails(msgspec.Struct):
    due_by: int | None = None


class _Dispute(_Object):
    charge: str | _Ref | None = None
    reason: str | None = None
    amount: int | None = None
    evidence_details: _EvidenceDetails | None = None
