"""Map Shopify REST Admin / webhook payloads (snake_case) to canonical ``Mapped`` records.

Payloads are decoded with msgspec Structs that declare only the fields read here; everything
else is skipped. Every failure, whether a wrong type, a missing id or an unparseable timestamp,
surfaces as ``MappingError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec

from context_service.errors import MappingError
from context_service.models import (
    Address,
    Fulfillment,
    LineItem,
    Mapped,
    Order,
    PersonFacet,
    RecordKey,
    Refund,
)
from integrations._convert import clean, currency_code, decimal_string, decode, iso_utc

SOURCE = "shopify"
PERSON_KIND = "customer"
KINDS: tuple[str, ...] = ("customer", "order")

_GID_PREFIX = "gid://shopify/"
# ISO 4217 currencies without minor units: their amounts carry no cents ("1500 JPY"), as the
# Stripe mapper gives them (``minor_to_major``), while Shopify writes "1500.0" or "1500.00".
_ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
)
_T = TypeVar("_T")


# --- Payload shapes: only the fields we read. ----------------------------------------------------


class _Address(msgspec.Struct):
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    company: str | None = None
    phone: str | None = None


class _Customer(msgspec.Struct):
    id: int | str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    tags: str | None = None
    state: str | None = None
    note: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    addresses: list[_Address] | None = None
    default_address: _Address | None = None


class _IdOnly(msgspec.Struct):
    id: int | str


class _LineItem(msgspec.Struct):
    title: str | None = None
    name: str | None = None
    quantity: int | None = None
    current_quantity: int | None = None
    sku: str | None = None


class _Fulfillment(msgspec.Struct):
    status: str | None = None
    shipment_status: str | None = None
    tracking_company: str | None = None
    tracking_number: str | None = None
    tracking_numbers: list[str] | None = None
    tracking_url: str | None = None
    tracking_urls: list[str] | None = None
    created_at: str | None = None


class _Transaction(msgspec.Struct):
    kind: str | None = None
    status: str | None = None
    amount: str | None = None
    currency: str | None = None


class _Refund(msgspec.Struct):
    id: int | str
    created_at: str | None = None
    note: str | None = None
    transactions: list[_Transaction] | None = None


class _Money(msgspec.Struct):
    amount: str | None = None
    currency_code: str | None = None


class _MoneySet(msgspec.Struct):
    shop_money: _Money | None = None
    presentment_money: _Money | None = None


class _Order(msgspec.Struct):
    id: int | str
    name: str | None = None
    order_number: int | None = None
    customer: _IdOnly | None = None
    created_at: str | None = None
    updated_at: str | None = None
    cancelled_at: str | None = None
    closed_at: str | None = None
    total_price: str | None = None
    currency: str | None = None
    total_price_set: _MoneySet | None = None
    presentment_currency: str | None = None
    financial_status: str | None = None
    fulfillment_status: str | msgspec.UnsetType | None = msgspec.UNSET
    # Not REST fields: what a synced (GraphQL) order says beyond them (``graphql.order_to_rest``).
    display_fulfillment_status: str | None = None
    line_items_has_next_page: bool | None = None
    current_subtotal_line_items_quantity: int | None = None
    note: str | None = None
    line_items: list[_LineItem] | None = None
    fulfillments: list[_Fulfillment] | None = None
    refunds: list[_Refund] | None = None
    test: bool | None = None


# --- Small helpers: decoding, ids, timestamps, money. --------------------------------------------


def _decode(payload: Any, into: type[_T], what: str) -> _T:
    """Decode ``payload`` into ``into``; a validation failure becomes a ``MappingError``."""
    return decode(payload, into, SOURCE, what)


def _external_id(value: int | str, where: str) -> str:
    """A Shopify id as a string; GraphQL gids (``gid://shopify/Customer/1``) become ``1``."""
    text = str(value).strip()
    if text.startswith(_GID_PREFIX):
        text = text.rsplit("/", 1)[-1].split("?", 1)[0]
    if not text:
        raise MappingError(f"shopify {where}: field `id` is empty", source=SOURCE)
    return text


def _time(value: str | None, where: str, field: str) -> str | None:
    """``iso_utc`` with the failing field named in the error."""
    try:
        return iso_utc(value)
    except (MappingError, OverflowError, ValueError) as exc:
        raise MappingError(
            f"shopify {where}: field `{field}`: unparseable timestamp {value!r}", source=SOURCE
        ) from exc


def _money(value: str | None, where: str, field: str) -> str | None:
    """``decimal_string`` (which keeps a third decimal that matters) with the failing field
    named in the error."""
    try:
        return decimal_string(value)
    except (MappingError, ArithmeticError) as exc:
        raise MappingError(
            f"shopify {where}: field `{field}`: invalid or out-of-range amount {value!r}",
            source=SOURCE,
        ) from exc


def _in_currency(amount: str | None, currency: str | None) -> str | None:
    """``amount`` (a canonical decimal string) without the cents a zero-decimal currency does
    not have: ``"1500.00"`` JPY is ``"1500"``; a fraction that is really there is kept."""
    if amount is None or currency not in _ZERO_DECIMAL_CURRENCIES:
        return amount
    number = Decimal(amount)
    return str(number.quantize(Decimal(1))) if number == number.to_integral_value() else amount


def _unique(values: Iterable[str | None]) -> list[str]:
    """Cleaned, non-empty values in first-seen order without duplicates."""
    seen: dict[str, None] = {}
    for value in values:
        text = clean(value)
        if text is not None:
            seen.setdefault(text)
    return list(seen)


# --- Customers -----------------------------------------------------------------------------------


def _street(address: _Address) -> str | None:
    parts = _unique([address.address1, address.address2])
    return ", ".join(parts) or None


def _address(address: _Address) -> Address | None:
    mapped = Address(
        street=_street(address),
        city=clean(address.city),
        region=clean(address.province_code) or clean(address.province),
        postcode=clean(address.zip),
        country=clean(address.country_code) or clean(address.country),
    )
    return None if mapped == Address() else mapped


def _customer_addresses(customer: _Customer) -> list[_Address]:
    """The address book, with the default address first when it is not already in it."""
    book = list(customer.addresses or [])
    default = customer.default_address
    return book if default is None or default in book else [default, *book]


def _person_name(first: str | None, last: str | None) -> str | None:
    """``name`` only when exactly one of first and last name is present."""
    return (first or last) if (first is None) != (last is None) else None


def _attributes(customer: _Customer) -> dict[str, str]:
    pairs = {"tags": customer.tags, "state": customer.state, "note": customer.note}
    return {key: text for key, value in pairs.items() if (text := clean(value)) is not None}


def _person(customer: _Customer, where: str) -> PersonFacet:
    book = _customer_addresses(customer)
    first, last = clean(customer.first_name), clean(customer.last_name)
    addresses = [mapped for item in book if (mapped := _address(item)) is not None]
    default = customer.default_address
    return PersonFacet(
        emails=_unique([customer.email]),
        phones=_unique([customer.phone, *(item.phone for item in book)]),
        first_name=first,
        last_name=last,
        name=_person_name(first, last),
        company=clean(default.company) if default else None,
        addresses=list(dict.fromkeys(addresses)),
        attributes=_attributes(customer),
        created_at=_time(customer.created_at, where, "created_at"),
    )


def map_customer(payload: Mapping[str, Any]) -> Mapped:
    """Map a Shopify customer (REST resource or ``customers/*`` webhook body) to a person."""
    customer = _decode(payload, _Customer, "customer")
    key = RecordKey(SOURCE, "customer", _external_id(customer.id, "customer"))
    where = f"customer {key.external_id}"
    return Mapped(
        key=key,
        updated_at=_time(customer.updated_at, where, "updated_at"),
        person=_person(customer, where),
    )


def map_deletion(kind: str, payload: Mapping[str, Any]) -> Mapped:
    """Map a ``customers/delete`` or ``orders/delete`` body (``{"id": 123}``) to a tombstone."""
    if kind not in KINDS:
        raise _unknown_kind(kind)
    body = _decode(payload, _IdOnly, f"{kind} deletion")
    key = RecordKey(SOURCE, kind, _external_id(body.id, f"{kind} deletion"))
    return Mapped(key=key, deleted=True)


def map_customer_deletion(payload: Mapping[str, Any]) -> Mapped:
    """Map a ``customers/delete`` webhook body (``{"id": 123}``) to a tombstone."""
    return map_deletion("customer", payload)


# --- Orders, fulfillments, refunds ---------------------------------------------------------------


def _line_item(item: _LineItem) -> LineItem:
    """A line as it stands now: ``quantity`` is what is still ordered (``current_quantity``,
    after removals by order edits and restocking refunds), and ``ordered_quantity`` what was
    ordered, when that differs (a line with none left was removed). The title is the line's
    ``name`` (product and variant, ``IPod Nano - 8gb - green``), else its product title."""
    ordered = 1 if item.quantity is None else item.quantity
    current = ordered if item.current_quantity is None else item.current_quantity
    return LineItem(
        title=clean(item.name) or clean(item.title) or "",
        quantity=max(current, 0),
        sku=clean(item.sku),
        ordered_quantity=ordered if current != ordered else None,
    )


def _more_items_quantity(order: _Order, lines: list[LineItem]) -> int | None:
    """How many items the lines not read hold: the order's current quantity less the listed
    lines' (``None`` when all lines were read or the order's quantity is not known)."""
    total = order.current_subtotal_line_items_quantity
    if not order.line_items_has_next_page or total is None:
        return None
    more = total - sum(line.quantity for line in lines)
    return more if more > 0 else None


def _fulfillment(item: _Fulfillment, where: str) -> Fulfillment:
    numbers: Iterable[str | None] = item.tracking_numbers or (item.tracking_number,)
    urls: Iterable[str | None] = item.tracking_urls or (item.tracking_url,)
    return Fulfillment(
        status=clean(item.status),
        shipment_status=clean(item.shipment_status),
        tracking_company=clean(item.tracking_company),
        tracking_numbers=_unique(numbers),
        tracking_urls=_unique(urls),
        created_at=_time(item.created_at, where, "fulfillments[].created_at"),
    )


def map_fulfillment(payload: Mapping[str, Any]) -> Fulfillment:
    """Map one Shopify fulfillment (embedded in an order or a ``fulfillments/*`` webhook)."""
    return _fulfillment(_decode(payload, _Fulfillment, "fulfillment"), "fulfillment")


def _is_refunded(transaction: _Transaction) -> bool:
    """A money-moving refund transaction: kind ``refund`` that succeeded (or has no status)."""
    return transaction.kind == "refund" and transaction.status in (None, "success")


def _refund_amount(refund: _Refund, where: str) -> str | None:
    amounts = [
        _money(item.amount, where, "refunds[].transactions[].amount")
        for item in refund.transactions or []
        if _is_refunded(item)
    ]
    known = [Decimal(amount) for amount in amounts if amount is not None]
    return _money(str(sum(known, Decimal(0))), where, "refunds[]") if known else None


def _refund_currency(refund: _Refund, fallback: str | None) -> str | None:
    for item in refund.transactions or []:
        if _is_refunded(item) and item.currency:
            return currency_code(clean(item.currency))
    return fallback


def _refund(refund: _Refund, currency: str | None, where: str) -> Refund:
    refund_currency = _refund_currency(refund, currency)
    return Refund(
        external_id=_external_id(refund.id, f"{where} refund"),
        amount=_in_currency(_refund_amount(refund, where), refund_currency),
        currency=refund_currency,
        created_at=_time(refund.created_at, where, "refunds[].created_at"),
        note=clean(refund.note),
    )


def map_refund(payload: Mapping[str, Any], currency: str | None = None) -> Refund:
    """Map one Shopify refund (embedded in an order or a ``refunds/create`` webhook).

    ``amount`` is the sum of its successful ``refund`` transactions; ``currency`` is theirs,
    else the given order currency.
    """
    return _refund(_decode(payload, _Refund, "refund"), currency_code(currency), "refund")


def _order_status(order: _Order) -> str:
    if order.cancelled_at:
        return "cancelled"
    return "closed" if order.closed_at else "open"


# Display statuses of an order not fulfilled yet that say why (GraphQL
# ``displayFulfillmentStatus``, lower-cased): the order stays ``unfulfilled``, as REST says.
_WAITING_STATUSES = frozenset(
    {"on_hold", "scheduled", "in_progress", "pending_fulfillment", "request_declined"}
)
# An order with nothing to ship (digital goods): not "unfulfilled", which reads as overdue.
_NOT_REQUIRED = "fulfillment_not_required"


def _fulfillment_status(order: _Order) -> str | None:
    """Shopify sends ``null`` for an unfulfilled order; an absent field stays unknown. A
    display status saying no fulfilment is needed overrides REST's ``null``."""
    display = clean(order.display_fulfillment_status)
    if display == _NOT_REQUIRED:
        return "not_required"
    value = order.fulfillment_status
    if isinstance(value, msgspec.UnsetType):
        return None
    return clean(value) or "unfulfilled"


def _fulfillment_detail(order: _Order, status: str | None) -> str | None:
    """Why an unfulfilled order waits (``on_hold``...), when its display status says."""
    display = clean(order.display_fulfillment_status)
    return display if status == "unfulfilled" and display in _WAITING_STATUSES else None


def _order_owners(order: _Order, where: str) -> list[RecordKey]:
    if order.customer is None:
        return []
    return [RecordKey(SOURCE, "customer", _external_id(order.customer.id, f"{where} customer"))]


def _order_total(order: _Order, where: str) -> tuple[str | None, str | None]:
    """The order's total and currency as the customer paid it: the presentment money of
    ``total_price_set`` when the payload has it, else ``total_price`` in ``currency``.

    Shopify prices an order in the shop's currency and in the customer's (presentment) one;
    refunds move money in the presentment currency (their transactions are in it), so the
    total is taken in the same currency and a refund can be netted from its order.
    """
    shop_total = _money(order.total_price, where, "total_price")
    paid = order.total_price_set.presentment_money if order.total_price_set else None
    if paid is not None and clean(paid.amount) is not None:
        currency = currency_code(clean(paid.currency_code) or clean(order.presentment_currency))
        field = "total_price_set.presentment_money.amount"
        return _in_currency(_money(paid.amount, where, field), currency), currency
    currency = currency_code(clean(order.currency))
    return _in_currency(shop_total, currency), currency


def _order(order: _Order, where: str) -> Order:
    amount, currency = _order_total(order, where)
    number = str(order.order_number) if order.order_number is not None else clean(order.name)
    fulfillment_status = _fulfillment_status(order)
    line_items = [_line_item(item) for item in order.line_items or []]
    return Order(
        owners=_order_owners(order, where),
        status=_order_status(order),
        title=clean(order.name),
        number=number,
        created_at=_time(order.created_at, where, "created_at"),
        updated_at=_time(order.updated_at, where, "updated_at"),
        amount=amount,
        currency=currency,
        financial_status=clean(order.financial_status),
        fulfillment_status=fulfillment_status,
        fulfillment_detail=_fulfillment_detail(order, fulfillment_status),
        line_items=line_items,
        more_line_items=order.line_items_has_next_page is True,
        more_items_quantity=_more_items_quantity(order, line_items),
        fulfillments=[_fulfillment(item, where) for item in order.fulfillments or []],
        refunds=[
            _refund(item, currency, where) for item in order.refunds or [] if _moved_money(item)
        ],
        cancelled_at=_time(order.cancelled_at, where, "cancelled_at"),
        note=clean(order.note),
        test=order.test is True,
    )


def _moved_money(refund: _Refund) -> bool:
    """Whether a refund gave money back: one of its transactions is a refund of money that
    succeeded, or the payload does not list them (not known: kept). A restock-only refund (no
    transactions, or one of 0) or one whose transaction failed returned nothing, and read as
    "refunded" it would tell a customer money is on its way."""
    if refund.transactions is None:
        return True
    return any(_is_refunded(item) and _not_zero(item.amount) for item in refund.transactions)


def _not_zero(amount: str | None) -> bool:
    """An amount that is not zero (``None``, unknown, counts as money: REST may leave it out;
    GraphQL's total of a restock-only refund is ``0.0``)."""
    try:
        return amount is None or Decimal(amount) != 0
    except (InvalidOperation, ValueError):
        return True


def map_order(payload: Mapping[str, Any]) -> Mapped:
    """Map a Shopify order (REST resource or ``orders/*`` webhook body) to an ``Order``."""
    order = _decode(payload, _Order, "order")
    key = RecordKey(SOURCE, "order", _external_id(order.id, "order"))
    activity = _order(order, f"order {key.external_id}")
    return Mapped(key=key, updated_at=activity.updated_at, activity=activity)


# --- Dispatch ------------------------------------------------------------------------------------

_MAPPERS: dict[str, Callable[[Mapping[str, Any]], Mapped]] = {
    "customer": map_customer,
    "order": map_order,
}


def map_record(kind: str, payload: Mapping[str, Any]) -> Mapped:
    """Map one Shopify object of ``kind`` (one of ``KINDS``) to a canonical record."""
    mapper = _MAPPERS.get(kind) if isinstance(kind, str) else None
    if mapper is None:
        raise _unknown_kind(kind)
    return mapper(payload)


def _unknown_kind(kind: object) -> MappingError:
    expected = ", ".join(KINDS)
    return MappingError(f"unknown shopify kind {kind!r}; expected one of {expected}", source=SOURCE)
