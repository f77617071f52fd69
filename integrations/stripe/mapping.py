"""Map Stripe API objects (current API shapes, older ones where noted) to canonical records.

Payloads are decoded with the msgspec Structs of ``_payloads`` (only the fields read). Amounts are
converted from minor units; timestamps from unix seconds. Stripe objects have no modification
time, so ``Mapped.updated_at`` stays ``None``. Of a card only the brand and last four digits
are ever read. Every failure surfaces as ``MappingError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from context_service.errors import MappingError
from context_service.models import (
    Activity,
    Address,
    Charge,
    Dispute,
    Invoice,
    Mapped,
    PersonFacet,
    RecordKey,
    Refund,
    Subscription,
)
from integrations._convert import clean, currency_code, decode, iso_utc, minor_to_major
from integrations.stripe._payloads import (
    _Address,
    _Charge,
    _Customer,
    _Dispute,
    _Invoice,
    _Item,
    _List,
    _Object,
    _Price,
    _Recurring,
    _Ref,
    _Refund,
    _Subscription,
)

SOURCE = "stripe"
PERSON_KIND = "customer"
KINDS: tuple[str, ...] = ("customer", "subscription", "invoice", "charge", "dispute")
# What the connector passes on for a refund that no charge shows: refused, so it is kept raw.
UNPLACED_REFUND_KIND = "refund"

# Customer metadata keys that name the same person in another system.
LINK_METADATA: dict[str, tuple[str, str]] = {
    "shopify_customer_id": ("shopify", "customer"),
    "hubspot_contact_id": ("hubspot", "contact"),
    "zendesk_user_id": ("zendesk", "user"),
}
# Refunds in these states returned no money.
VOID_REFUND_STATUSES = frozenset({"failed", "canceled"})
# Subscriptions in these states are over: a ``cancel_at`` on them is history, not a schedule.
_ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
_T = TypeVar("_T")
_O = TypeVar("_O", bound="_Object")


# --- Small helpers: decoding, ids, timestamps, money. --------------------------------------------


def _decode(payload: Any, into: type[_T], what: str) -> _T:
    """Decode ``payload`` into ``into``; a validation failure becomes a ``MappingError``."""
    return decode(payload, into, SOURCE, what)


def _decode_object(payload: Any, into: type[_O], kind: str) -> tuple[_O, RecordKey]:
    """Decode a top-level object, check its ``object`` type and id, and build its key."""
    decoded = _decode(payload, into, kind)
    if decoded.type_name not in (None, kind):
        raise MappingError(
            f"stripe {kind}: field `object` is {decoded.type_name!r}, expected {kind!r}",
            source=SOURCE,
        )
    return decoded, RecordKey(SOURCE, kind, _id(decoded.id, kind, "id"))


def _map_activity(
    payload: Any, into: type[_O], kind: str, build: Callable[[_O, str], Activity]
) -> Mapped:
    """Decode, then build the activity; a deleted object (``"deleted": true``) is a tombstone."""
    decoded, key = _decode_object(payload, into, kind)
    if decoded.deleted:
        return Mapped(key=key, deleted=True)
    return Mapped(key=key, activity=build(decoded, f"{kind} {key.external_id}"))


def _id(value: str | _Ref | None, where: str, field: str) -> str:
    """An id, or the id of an expanded object; empty or missing is a ``MappingError``."""
    text = clean(value.id if isinstance(value, _Ref) else value)
    if text is None:
        raise MappingError(f"stripe {where}: field `{field}` is missing or empty", source=SOURCE)
    return text


def _optional_id(value: str | _Ref | None) -> str | None:
    return clean(value.id if isinstance(value, _Ref) else value)


def _customer_owners(value: str | _Ref | None) -> list[RecordKey]:
    customer = _optional_id(value)
    return [RecordKey(SOURCE, "customer", customer)] if customer else []


def _time(value: int | None, where: str, field: str) -> str | None:
    """``iso_utc`` with the failing field named in the error."""
    try:
        return iso_utc(value)
    except (MappingError, OverflowError, ValueError) as exc:
        raise MappingError(
            f"stripe {where}: field `{field}`: unparseable timestamp {value!r}", source=SOURCE
        ) from exc


def _money(value: int | None, currency: str | None, where: str, field: str) -> str | None:
    """``minor_to_major`` with the failing field named in the error."""
    try:
        return minor_to_major(value, currency)
    except (ArithmeticError, MappingError) as exc:
        raise MappingError(
            f"stripe {where}: field `{field}`: amount out of range: {value!r}", source=SOURCE
        ) from exc


# --- Customers -----------------------------------------------------------------------------------


def _address(address: _Address | None) -> list[Address]:
    if address is None:
        return []
    street = ", ".join(part for part in (clean(address.line1), clean(address.line2)) if part)
    mapped = Address(
        street=street or None,
        city=clean(address.city),
        region=clean(address.state),
        postcode=clean(address.postal_code),
        country=clean(address.country),
    )
    return [] if mapped == Address() else [mapped]


def _links(metadata: Mapping[str, str]) -> list[RecordKey]:
    links = []
    for field, (source, kind) in LINK_METADATA.items():
        if (value := clean(metadata.get(field))) is not None:
            links.append(RecordKey(source, kind, value))
    return links


def _person(customer: _Customer, where: str) -> PersonFacet:
    metadata = customer.metadata or {}
    return PersonFacet(
        emails=[email] if (email := clean(customer.email)) else [],
        phones=[phone] if (phone := clean(customer.phone)) else [],
        name=clean(customer.name),
        company=clean(metadata.get("company")),
        addresses=_address(customer.address),
        links=_links(metadata),
        created_at=_time(customer.created, where, "created"),
    )


def map_customer(payload: Mapping[str, Any]) -> Mapped:
    """Map a Stripe customer to a person; a deleted customer becomes a tombstone."""
    customer, key = _decode_object(payload, _Customer, "customer")
    if customer.deleted:
        return Mapped(key=key, deleted=True)
    return Mapped(key=key, person=_person(customer, f"customer {key.external_id}"))


# --- Subscriptions -------------------------------------------------------------------------------


def _plan_name(price: _Price) -> str | None:
    """Price nickname, else expanded product name, else lookup key, else product id."""
    product = price.product
    name = product.name if isinstance(product, _Ref) else None
    product_id = product.id if isinstance(product, _Ref) else product
    return clean(price.nickname) or clean(name) or clean(price.lookup_key) or clean(product_id)


def _billed_quantity(price: _Price, quantity: int) -> int | None:
    """The units a quantity is billed as: with ``transform_quantity`` the quantity divided by
    ``divide_by``, rounded up or down ("per 5 seats": 12 seats bill 3); ``None`` when the
    transform cannot be read (a divisor below one, an unknown rounding)."""
    transform = price.transform_quantity
    if transform is None:
        return quantity
    if transform.divide_by < 1 or transform.round not in ("up", "down"):
        return None
    whole, rest = divmod(quantity, transform.divide_by)
    return whole + 1 if rest and transform.round == "up" else whole


def _item_amount(item: _Item) -> int | None:
    """Unit amount times the billed quantity; ``None`` when the price does not fix what the item
    costs (tiered or decimal prices have no ``unit_amount``; a metered price is per unit of
    usage)."""
    price = item.price
    if price is None or price.unit_amount is None:
        return None
    if price.recurring is not None and price.recurring.usage_type == "metered":
        return None
    billed = _billed_quantity(price, 1 if item.quantity is None else item.quantity)
    return None if billed is None else price.unit_amount * billed


def _recurring_amount(items: list[_Item]) -> int | None:
    """What the items cost each period, or ``None`` unless every item's amount is known (a part
    of the bill stated as all of it would understate what the customer pays)."""
    amounts = [_item_amount(item) for item in items]
    if not amounts or None in amounts:
        return None
    return sum(amount for amount in amounts if amount is not None)


def _interval(recurring: _Recurring | None) -> str | None:
    """The billing interval: ``"month"``, or ``"3 months"`` for a price billed every three."""
    unit = clean(recurring.interval) if recurring else None
    count = recurring.interval_count if recurring else None
    if unit is None or count is None or count <= 1:
        return unit
    return f"{count} {unit}s"


def _ends_with_period(sub: _Subscription, period_end: int | None) -> bool:
    """Whether the subscription ends when its current period does (does not renew): asked with
    ``cancel_at_period_end``, or, while it has not ended yet, scheduled with ``cancel_at`` (the
    Dashboard's "cancel on a date") for a moment no later than the period's end."""
    cancel_at = sub.cancel_at
    scheduled = (
        cancel_at is not None
        and sub.status not in _ENDED_STATUSES
        and (period_end is None or cancel_at <= period_end)
    )
    return bool(sub.cancel_at_period_end) or scheduled


def _subscription(sub: _Subscription, where: str) -> Subscription:
    items = sub.items.data if sub.items else []
    first = items[0] if items else _Item()
    price = first.price or _Price()
    currency = currency_code(clean(sub.currency) or clean(price.currency))
    plan = _plan_name(price)
    period_end = first.current_period_end or sub.current_period_end
    paused = sub.pause_collection
    return Subscription(
        owners=_customer_owners(sub.customer),
        status=clean(sub.status),
        title=plan,
        plan=plan,
        interval=_interval(price.recurring),
        amount=_money(_recurring_amount(items), currency, where, "items.data[].price.unit_amount"),
        currency=currency,
        created_at=_time(sub.created, where, "created"),
        current_period_end=_time(period_end, where, "current_period_end"),
        cancel_at_period_end=_ends_with_period(sub, period_end),
        canceled_at=_time(sub.canceled_at, where, "canceled_at"),
        trial_end=_time(sub.trial_end, where, "trial_end"),
        latest_invoice=_optional_id(sub.latest_invoice),
        collection_paused=paused is not None and sub.status not in _ENDED_STATUSES,
        resumes_at=_time(paused.resumes_at if paused else None, where, "resumes_at"),
    )


def map_subscription(payload: Mapping[str, Any]) -> Mapped:
    """Map a Stripe subscription (current or pre-2025 shape) to a ``Subscription``."""
    return _map_activity(payload, _Subscription, "subscription", _subscription)


# --- Invoices ------------------------------------------------------------------------------------


def _invoice_subscription(invoice: _Invoice) -> str | None:
    """``parent.subscription_details.subscription`` (current API), else top-level (older)."""
    details = invoice.parent.subscription_details if invoice.parent else None
    current = _optional_id(details.subscription) if details else None
    return current or _optional_id(invoice.subscription)


def _invoice(invoice: _Invoice, where: str) -> Invoice:
    currency = currency_code(clean(invoice.currency))
    transitions = invoice.status_transitions
    number = clean(invoice.number)
    return Invoice(
        owners=_customer_owners(invoice.customer),
        status=clean(invoice.status),
        number=number,
        title=number,
        amount=_money(invoice.amount_due, currency, where, "amount_due"),
        amount_paid=_money(invoice.amount_paid, currency, where, "amount_paid"),
        amount_remaining=_money(invoice.amount_remaining, currency, where, "amount_remaining"),
        currency=currency,
        attempt_count=invoice.attempt_count or 0,
        next_payment_attempt=_time(invoice.next_payment_attempt, where, "next_payment_attempt"),
        subscription=_invoice_subscription(invoice),
        paid_at=_time(transitions.paid_at if transitions else None, where, "paid_at"),
        due_date=_time(invoice.due_date, where, "due_date"),
        created_at=_time(invoice.created, where, "created"),
    )


def map_invoice(payload: Mapping[str, Any]) -> Mapped:
    """Map a Stripe invoice to an ``Invoice`` (``amount`` is the amount due)."""
    return _map_activity(payload, _Invoice, "invoice", _invoice)


# --- Charges and disputes ------------------------------------------------------------------------


def _refund(refund: _Refund, currency: str | None, where: str) -> Refund:
    code = currency_code(clean(refund.currency)) or currency
    return Refund(
        external_id=_id(refund.id, where, "refunds.data[].id"),
        amount=_money(refund.amount, code, where, "refunds.data[].amount"),
        currency=code,
        created_at=_time(refund.created, where, "refunds.data[].created"),
        note=clean(refund.reason),
    )


def _refunds(refunds: _List[_Refund] | None, currency: str | None, where: str) -> list[Refund]:
    """Refunds that moved money back (failed and canceled ones are left out)."""
    data = refunds.data if refunds else []
    return [_refund(r, currency, where) for r in data if r.status not in VOID_REFUND_STATUSES]


def _charge(charge: _Charge, where: str) -> Charge:
    currency = currency_code(clean(charge.currency))
    details = charge.payment_method_details
    card = details.card if details else None
    return Charge(
        owners=_customer_owners(charge.customer),
        status=_charge_status(charge),
        amount=_money(charge.amount, currency, where, "amount"),
        currency=currency,
        failure_code=clean(charge.failure_code),
        failure_message=clean(charge.failure_message),
        refunded=bool(charge.refunded) and not _held(charge),
        amount_refunded=None
        if _held(charge)
        else _money(charge.amount_refunded, currency, where, "amount_refunded"),
        card_brand=clean(card.brand) if card else None,
        card_last4=clean(card.last4) if card else None,
        disputed=bool(charge.disputed),
        refunds=[] if _held(charge) else _refunds(charge.refunds, currency, where),
        created_at=_time(charge.created, where, "created"),
    )


def _held(charge: _Charge) -> bool:
    """A charge that succeeded but was not captured (``captured: false``): a hold on the card,
    nothing taken."""
    return clean(charge.status) == "succeeded" and charge.captured is False


def _charge_status(charge: _Charge) -> str | None:
    """Stripe's status, except for a hold (``_held``): ``authorized`` while the card holds the
    amount, ``released`` once Stripe let it go (``refunded``: it reports a released hold as a
    refund of the whole amount), where "succeeded" or "refunded" would tell a customer they
    paid, or were paid back."""
    if _held(charge):
        return "released" if charge.refunded else "authorized"
    return clean(charge.status)


def map_charge(payload: Mapping[str, Any]) -> Mapped:
    """Map a Stripe charge to a ``Charge``; of the card only brand and last4 are kept."""
    return _map_activity(payload, _Charge, "charge", _charge)


def _dispute(dispute: _Dispute, where: str) -> Dispute:
    charge = _id(dispute.charge, where, "charge")
    currency = currency_code(clean(dispute.currency))
    due_by = dispute.evidence_details.due_by if dispute.evidence_details else None
    return Dispute(
        owners=[RecordKey(SOURCE, "charge", charge)],
        status=clean(dispute.status),
        reason=clean(dispute.reason),
        charge=charge,
        amount=_money(dispute.amount, currency, where, "amount"),
        currency=currency,
        evidence_due_by=_time(due_by, where, "evidence_details.due_by"),
        created_at=_time(dispute.created, where, "created"),
    )


def map_dispute(payload: Mapping[str, Any]) -> Mapped:
    """Map a Stripe dispute to a ``Dispute`` owned by the disputed charge."""
    return _map_activity(payload, _Dispute, "dispute", _dispute)


# --- Dispatch ------------------------------------------------------------------------------------

_MAPPERS: dict[str, Callable[[Mapping[str, Any]], Mapped]] = {
    "customer": map_customer,
    "subscription": map_subscription,
    "invoice": map_invoice,
    "charge": map_charge,
    "dispute": map_dispute,
}


def map_record(kind: str, payload: Mapping[str, Any]) -> Mapped:
    """Map one Stripe object of ``kind`` (one of ``KINDS``) to a canonical record.

    A ``refund`` the connector passes on is one that no charge lists (it names none, and its
    payment intent's charge, if any, does not list it): it is refused with that reason, so
    ingestion keeps it raw and reports it.
    """
    mapper = _MAPPERS.get(kind) if isinstance(kind, str) else None
    if mapper is None:
        raise MappingError(
            f"unknown stripe kind {kind!r}; expected one of {', '.join(KINDS)}"
            + (_unplaced_refund(payload) if kind == UNPLACED_REFUND_KIND else ""),
            source=SOURCE,
        )
    return mapper(payload)


def _unplaced_refund(payload: Mapping[str, Any]) -> str:
    """Why a refund the connector passed on is not mapped."""
    intent = payload.get("payment_intent")
    return (
        f" (refund {payload.get('id')!r} names no charge, and no charge lists it (payment "
        f"intent {intent!r}), so it is kept raw)"
    )
