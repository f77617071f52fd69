"""Stripe webhooks and events: ``Stripe-Signature`` checks and event envelopes -> vendor objects.

Signature (stripe-python ``WebhookSignature``): the header is ``t=<unix>,v1=<hex>[,v1=<hex>...]``;
the signed payload is ``f"{t}.{raw_body}"``; the expected value is the lower-case hex
HMAC-SHA256 under the endpoint secret (``whsec_...``). A delivery is authentic when any ``v1``
matches (several during a secret rotation; ``v0`` is never checked), and fresh when
``t >= now - 300``. Like the SDK, the signature is checked first, then the age, and a timestamp in
the future is not refused.

The same envelope (``{id, type, created, data: {object}}``) arrives by webhook and from
``GET /v1/events``; ``event_objects`` turns either into ``VendorObject``s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from context_service.errors import MappingError, WebhookRejected
from integrations._connector import Delivery, VendorObject
from integrations._convert import iso_utc
from integrations._webhooks import hmac_hex, matches_any
from integrations.stripe.mapping import UNPLACED_REFUND_KIND

__all__ = [
    "EVENT_TYPES",
    "LISTED_EVENT_TYPES",
    "REFUND_EVENT_TYPES",
    "SIGNATURE_HEADER",
    "TOLERANCE_SECONDS",
    "Event",
    "chargeless_refund",
    "charges_to_refresh",
    "decode_event",
    "event_objects",
    "expanded_id",
    "parse_delivery",
    "parse_signature_header",
    "placed_refund_notices",
    "placed_refunds",
    "refunds_incomplete",
    "verify_signature",
]

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
# The event types whose object is a record (the stream lists ``LISTED_EVENT_TYPES``): every
# type that creates, changes or deletes a customer, subscription, invoice, charge or dispute
# (``invoice.deleted`` removes a draft invoice; a charge moves through ``pending``, ``captured``
# and ``expired`` without a ``charge.updated``).
EVENT_TYPES: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
    "invoice.created",
    "invoice.deleted",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
    "invoice.updated",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "charge.pending",
    "charge.succeeded",
    "charge.failed",
    "charge.captured",
    "charge.expired",
    "charge.refunded",
    "charge.updated",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
)
# Refund events carry a refund, which is no record of its own: its charge is refetched (see
# ``charges_to_refresh``). A refund that fails later lowers the charge's ``amount_refunded``
# with no charge event at all, and since 2024-10-28 ``refund.*`` is sent for every refund.
REFUND_EVENT_TYPES: tuple[str, ...] = ("refund.created", "refund.updated", "refund.failed")
# Every type the events stream lists, and the types a webhook endpoint should subscribe to.
LISTED_EVENT_TYPES: tuple[str, ...] = EVENT_TYPES + REFUND_EVENT_TYPES
# ``data.object.object`` -> mapper kind. Anything else (plans, refunds...) carries no object.
_KINDS = {name: name for name in ("customer", "subscription", "invoice", "charge", "dispute")}
# Events whose object no longer exists afterwards (a draft invoice can be deleted).
_DELETIONS = frozenset({"customer.deleted", "invoice.deleted"})
# Events about an object that does not exist yet, skipped with this reason (an endpoint that
# subscribes to ``invoice.*`` gets them; the events stream does not list them).
_PREVIEWS = {
    "invoice.upcoming": "an upcoming invoice is a preview of one not created yet (no invoice id)",
}
_THIN_EVENT = "v2.core.event"
# Unix seconds in ASCII digits; the bound keeps ``int()`` away from absurd inputs (``str.isdigit``
# also accepts "²" and other digits ``int`` refuses, and ``int`` refuses over 4300 digits).
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class _EventData(msgspec.Struct):
    object: dict[str, Any]


class Event(msgspec.Struct):
    """A Stripe (v1, snapshot) event: only the fields read here."""

    id: str
    type: str
    created: int
    data: _EventData
    type_name: str = msgspec.field(name="object", default="event")
    account: str | None = None  # set on a Connect endpoint's events about a connected account


# --- Signatures ----------------------------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name in ``headers``."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def parse_signature_header(value: str) -> tuple[int, list[str]]:
    """The timestamp and the ``v1`` signatures of a ``Stripe-Signature`` header.

    Raises ``WebhookRejected`` when the timestamp is missing or not a plain non-negative integer
    (ASCII digits, at most 15 of them), or no ``v1`` signature is present.
    """
    timestamp: str | None = None
    signatures: list[str] = []
    for item in value.split(","):
        scheme, _, signature = item.strip().partition("=")
        if scheme == "t":
            timestamp = signature.strip()
        elif scheme == "v1":
            signatures.append(signature)
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookRejected("Stripe-Signature has no valid timestamp")
    if not signatures:
        raise WebhookRejected("Stripe-Signature has no v1 signature")
    return int(timestamp), signatures


def verify_signature(
    secret: str | None,
    headers: Mapping[str, str],
    raw_body: bytes,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> None:
    """Raise ``WebhookRejected`` unless ``raw_body`` is signed with ``secret`` and fresh."""
    if not secret:
        raise WebhookRejected("no webhook secret configured for stripe; deliveries are refused")
    value = _header(headers, SIGNATURE_HEADER)
    if not value:
        raise WebhookRejected("missing Stripe-Signature header")
    timestamp, signatures = parse_signature_header(value)
    expected = hmac_hex(secret, f"{timestamp}.".encode() + raw_body)
    if not matches_any(expected, signatures):
        raise WebhookRejected("Stripe-Signature does not match the body")
    if timestamp < now - tolerance:
        raise WebhookRejected(
            f"Stripe-Signature timestamp is {now - timestamp:.0f} s old (limit {tolerance:.0f} s)"
        )


# --- Events --------------------------------------------------------------------------------------


def decode_event(raw: bytes | Mapping[str, Any]) -> Event:
    """Decode an event envelope (raw JSON bytes or a decoded dict); ``MappingError`` if malformed.

    Thin events (``object: "v2.core.event"``) carry no object snapshot and are refused.
    """
    try:
        envelope = msgspec.json.decode(raw) if isinstance(raw, bytes | bytearray) else raw
    except msgspec.DecodeError as exc:
        raise MappingError(f"stripe event: malformed JSON: {exc}", source="stripe") from exc
    if not isinstance(envelope, Mapping):
        raise MappingError("stripe event: the body is not a JSON object", source="stripe")
    if envelope.get("object") == _THIN_EVENT:
        raise MappingError(
            "stripe thin event (v2.core.event) carries no object; not supported", source="stripe"
        )
    try:
        event = msgspec.convert(dict(envelope), Event)
    except msgspec.ValidationError as exc:
        raise MappingError(f"stripe event: {exc}", source="stripe") from exc
    if event.type_name != "event":
        raise MappingError(f"stripe event: `object` is {event.type_name!r}", source="stripe")
    return event


def event_objects(event: Event) -> list[VendorObject]:
    """The object an event carries, as a ``VendorObject`` observed at the event's time.

    Unknown object types and previews (``invoice.upcoming``) give an empty list;
    ``customer.deleted`` marks the object deleted. An object of a known type without a string id
    is passed on all the same, so that ingestion keeps it raw with the reason it cannot be
    mapped instead of dropping it unseen; a deletion without an id names nothing and gives an
    empty list.
    """
    obj = event.data.object
    kind = _KINDS.get(str(obj.get("object")))
    deleted = event.type in _DELETIONS
    if kind is None or event.type in _PREVIEWS or (deleted and not isinstance(obj.get("id"), str)):
        return []
    observed = iso_utc(event.created)
    return [VendorObject(kind, obj, observed_at=observed, deleted=deleted)]


def expanded_id(value: object) -> str | None:
    """The id of a reference: an id string, or the ``id`` of an expanded object."""
    found = value.get("id") if isinstance(value, dict) else value
    return found if isinstance(found, str) and found else None


def refunds_incomplete(charge: Mapping[str, Any]) -> bool:
    """Whether a charge's copy lacks some of its refunds: it has refunded money but no
    ``refunds`` list (unexpanded), or its list says ``has_more`` (an expanded list holds 10)."""
    refunds = charge.get("refunds")
    if isinstance(refunds, dict):
        return refunds.get("has_more") is True
    refunded = charge.get("amount_refunded")
    return isinstance(refunded, int) and not isinstance(refunded, bool) and refunded > 0


def charges_to_refresh(event: Event) -> list[str]:
    """The charges to fetch fresh (with all their refunds) because of ``event``.

    Since API 2022-11-15 a charge carries its ``refunds`` list only when expanded, and an event
    cannot be; an event rendered at an older version lists 10 refunds and ``has_more``. Such a
    copy would replace the stored one, refunds and all, with one that names fewer. A refund
    event names its charge (``charge``), whose totals changed with it (a failed refund gives
    the money back to the merchant); one that names none is ``chargeless_refund``.
    """
    obj = event.data.object
    kind = obj.get("object")
    if kind == "refund":
        charge_id = expanded_id(obj.get("charge"))
        return [charge_id] if charge_id else []
    charge_id = expanded_id(obj.get("id"))
    return [charge_id] if kind == "charge" and charge_id and refunds_incomplete(obj) else []


def chargeless_refund(event: Event) -> dict[str, Any] | None:
    """The refund ``event`` carries when it names no charge (``charge: null``: a refund of a
    PaymentIntent, found through its ``payment_intent``), else ``None``."""
    obj = event.data.object
    if obj.get("object") != "refund" or expanded_id(obj.get("charge")) is not None:
        return None
    return obj if expanded_id(obj.get("id")) is not None else None


def placed_refunds(obj: Mapping[str, Any]) -> list[str]:
    """The refunds a charge shows in ``obj``: a refund that names its charge, or the refunds a
    charge's ``refunds`` list holds."""
    if obj.get("object") == "refund":
        refund = expanded_id(obj.get("id"))
        return [refund] if refund and expanded_id(obj.get("charge")) else []
    refunds = obj.get("refunds") if obj.get("object") == "charge" else None
    data = refunds.get("data") if isinstance(refunds, dict) else None
    listed = (expanded_id(r) for r in data) if isinstance(data, list) else ()
    return [refund for refund in listed if refund]


def placed_refund_notices(refund_ids: Iterable[str], observed_at: str | None) -> list[VendorObject]:
    """Deletion notices, for stored records only, of these refunds as kept raw (kind
    ``refund``, when they named no charge): a charge shows them now, so the raw copy gives way
    to it and leaves the rejected list. Dated ``observed_at``, so an older raw copy of one
    arriving later (a replayed event) is stale."""
    return [
        VendorObject(
            UNPLACED_REFUND_KIND,
            {"id": refund},
            observed_at=observed_at,
            deleted=True,
            only_if_stored=True,
        )
        for refund in dict.fromkeys(refund_ids)
    ]


def _refreshed(obj: VendorObject, charges: list[str]) -> bool:
    return obj.kind == "charge" and obj.payload.get("id") in charges


def parse_delivery(raw_body: bytes) -> Delivery:
    """A verified webhook body as a ``Delivery`` deduplicated by its event id; a preview event
    carries no object and says why in ``problems``; a charge whose refunds changed is refetched
    (``charges_to_refresh``) instead of taken from the event, and a refund that names no charge
    is refetched as a ``refund`` (``StripeConnector.fetch_one`` finds the charge that shows it).
    A refund the event shows on its charge ends its copy kept raw, if one is stored
    (``placed_refund_notices``).
    """
    event = decode_event(raw_body)
    if event.account is not None:  # another Stripe account's object: none of ours
        return Delivery(
            dedup_ids=[event.id],
            topic=event.type,
            occurred_at=iso_utc(event.created),
            problems=[
                f"stripe {event.type} {event.id} skipped: about connected account "
                f"{event.account}, not the account this service syncs"
            ],
        )
    preview = _PREVIEWS.get(event.type)
    refreshed = charges_to_refresh(event)
    refund = chargeless_refund(event)
    return Delivery(
        dedup_ids=[event.id],
        topic=event.type,
        # A refetched charge's current copy supersedes the event's, which lacks refunds: were
        # the refetch to find nothing, that copy would replace the stored refunds with none.
        objects=[obj for obj in event_objects(event) if not _refreshed(obj, refreshed)]
        + placed_refund_notices(placed_refunds(event.data.object), iso_utc(event.created)),
        refetch=[("charge", charge) for charge in refreshed]
        + ([("refund", str(refund["id"]))] if refund is not None else []),
        occurred_at=iso_utc(event.created),
        problems=[f"stripe {event.type} {event.id} skipped: {preview}"] if preview else [],
    )
