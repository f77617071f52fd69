"""Zendesk webhooks: signature and age checks, then deliveries -> ids to refetch or delete.

Signature (developer.zendesk.com/documentation/webhooks/verifying/): ``X-Zendesk-Webhook-
Signature`` is ``base64(HMAC-SHA256(signing secret, timestamp + raw body))`` where the timestamp
is the ``X-Zendesk-Webhook-Signature-Timestamp`` header's value as sent (ISO-8601, e.g.
``2024-04-17T17:18:10Z``), with no separator; the body may be empty. The signature is checked
first (constant time), then the age: a timestamp more than ``TOLERANCE_SECONDS`` (300 s) from
now, either way, is refused. Zendesk retries a failed call at most a few times within about a
minute, so five minutes leaves room for those retries and for clock skew, while replays inside
the window are caught by the dedup ids below.

Two body formats are accepted:

* event-subscription webhooks: ``{"type": "zen:event-type:<resource>.<action>", "id",
  "time", "subject": "zen:<resource>:<id>", "detail": {"id", ...}, "event": {...}}`` for the
  resources ``ticket``, ``user`` and ``organization``; other resources are acknowledged and
  carry nothing;
* trigger or automation webhooks with a custom JSON body, which must be (document this in the
  trigger's body template): ``{"ticket_id": "{{ticket.id}}", "event": "<any label>"}``, and may
  also carry ``"requester_id": "{{ticket.requester.id}}"``.

Event ``detail`` objects are summaries in their own shape (upper-case statuses, no comments), so
a delivery never maps them: it names the object to ``refetch`` through ``fetch_one``, which reads
the current state. A ``ticket.created`` or ``ticket.requester_changed`` event also refetches the
requester (``detail.requester_id``) first, so a new customer's first ticket, or a ticket moved
to someone not synced yet, has an owner; so does ``ticket.marked_as_spam``, because marking a
ticket as spam also suspends its requester and no user event reports a suspension (a suspended
user no longer links to a customer: see ``mapping``). A trigger delivery always refetches the
ticket's requester first: its ``requester_id`` when the body carries one, else
``(TICKET_REQUESTER, ticket id)``, which ``fetch_one`` resolves by reading the ticket (one
request more), since a trigger body says nothing of what changed. Deletions (``user.deleted``,
``organization.deleted``, ``ticket.soft_deleted``, ``ticket.permanently_deleted``) become
deletion notices observed at the event's ``time``. Zendesk does not guarantee the order of
deliveries; refetching plus the store's newest-wins upsert makes the order irrelevant, and a
deletion older than what the store holds is ignored as stale.

Dedup ids: ``invocation:<X-Zendesk-Webhook-Invocation-Id>`` when the header is present (one per
invocation, repeated by Zendesk's retries) and ``event:<id>`` for events (one per event, repeated
when several webhooks deliver it). A trigger delivery without an invocation id is identified by
the SHA-256 of its signature timestamp and body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from context_service.errors import MappingError, WebhookRejected
from integrations._connector import Delivery, VendorObject
from integrations._convert import iso_utc
from integrations._webhooks import hmac_base64, matches_any, require_fresh, require_secret

__all__ = [
    "DELETION_EVENTS",
    "EVENT_PREFIX",
    "INVOCATION_HEADER",
    "REQUESTER_EVENTS",
    "SIGNATURE_HEADER",
    "TICKET_REQUESTER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_SECONDS",
    "TRIGGER_TOPIC",
    "header",
    "parse_delivery",
    "parse_timestamp",
    "verify_signature",
]

SOURCE = "zendesk"
SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION_HEADER = "X-Zendesk-Webhook-Invocation-Id"
TOLERANCE_SECONDS = 300.0
EVENT_PREFIX = "zen:event-type:"
TRIGGER_TOPIC = "trigger"
# A refetch kind of this connector's own: "the requester of ticket <id>" (``fetch_one``).
TICKET_REQUESTER = "ticket_requester"
_RESOURCES = frozenset({"ticket", "user", "organization"})
# Ticket events after which the ticket's requester may be someone not held yet (a new ticket's,
# or the one an agent just moved it to) or changed with no event of their own (marking a ticket
# as spam suspends its requester). ``detail.requester_id`` is the current requester.
REQUESTER_EVENTS = frozenset(
    {"ticket.created", "ticket.requester_changed", "ticket.marked_as_spam"}
)
DELETION_EVENTS = frozenset(
    {"user.deleted", "organization.deleted", "ticket.soft_deleted", "ticket.permanently_deleted"}
)


class _Event(msgspec.Struct):
    type: str
    id: str
    detail: dict[str, Any] = {}
    time: str | None = None
    subject: str | None = None


class _Trigger(msgspec.Struct):
    ticket_id: int | str
    event: str | None = None
    requester_id: int | str | None = None


# --- Verification --------------------------------------------------------------------------------


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's non-empty value, whatever the case of its name in ``headers``."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted and value:
            return value
    return None


def parse_timestamp(value: str) -> float:
    """The signature timestamp (ISO-8601, ``Z`` or an offset) as unix seconds."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise WebhookRejected(f"{TIMESTAMP_HEADER} is not a timestamp: {value[:40]!r}") from exc
    if moment.tzinfo is None:
        raise WebhookRejected(f"{TIMESTAMP_HEADER} has no time zone: {value[:40]!r}")
    return moment.timestamp()


def verify_signature(
    secret: str | None,
    headers: Mapping[str, str],
    raw_body: bytes,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> None:
    """Raise ``WebhookRejected`` unless ``raw_body`` is signed with ``secret`` and fresh."""
    key = require_secret(secret, SOURCE)
    signature = header(headers, SIGNATURE_HEADER)
    if signature is None:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
    stamp = header(headers, TIMESTAMP_HEADER)
    if stamp is None:
        raise WebhookRejected(f"missing {TIMESTAMP_HEADER} header")
    expected = hmac_base64(key, stamp.encode() + raw_body)
    if not matches_any(expected, [signature]):
        raise WebhookRejected(f"{SIGNATURE_HEADER} does not match the body")
    require_fresh(parse_timestamp(stamp), now, tolerance, TIMESTAMP_HEADER)


# --- Parsing -------------------------------------------------------------------------------------


def _decode(raw_body: bytes) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(raw_body)
    except msgspec.DecodeError as exc:
        raise MappingError(f"zendesk webhook: malformed JSON: {exc}", source=SOURCE) from exc
    if not isinstance(body, dict):
        raise MappingError("zendesk webhook: the body is not a JSON object", source=SOURCE)
    return body


def _convert(body: dict[str, Any], into: type[msgspec.Struct], what: str) -> Any:
    try:
        return msgspec.convert(body, into)
    except msgspec.ValidationError as exc:
        raise MappingError(f"zendesk {what}: {exc}", source=SOURCE) from exc


def _object_id(value: Any, what: str) -> str:
    """A Zendesk numeric id (an int or a string of digits) as a string."""
    text = str(value).strip() if isinstance(value, int | str) else ""
    if isinstance(value, bool) or not text.isdigit():
        raise MappingError(f"zendesk {what}: no numeric object id ({value!r})", source=SOURCE)
    return text


def _event_object_id(event: _Event) -> str:
    """``detail.id``, else the id at the end of ``subject`` (``zen:ticket:123``)."""
    raw = event.detail.get("id")
    if raw is None and event.subject:
        raw = event.subject.rpartition(":")[2]
    return _object_id(raw, event.type)


def _occurred(value: str | None, what: str) -> str | None:
    try:
        return iso_utc(value)
    except MappingError as exc:
        raise MappingError(f"zendesk {what}: unreadable time {value!r}", source=SOURCE) from exc


def _invocation(headers: Mapping[str, str]) -> list[str]:
    value = header(headers, INVOCATION_HEADER)
    return [f"invocation:{value.strip()}"] if value and value.strip() else []


def _event_delivery(body: dict[str, Any], headers: Mapping[str, str]) -> Delivery:
    event: _Event = _convert(body, _Event, "event")
    name = event.type.removeprefix(EVENT_PREFIX)
    resource = name.partition(".")[0]
    dedup = [*_invocation(headers), f"event:{event.id}"]
    occurred = _occurred(event.time, event.type)
    if resource not in _RESOURCES:
        return Delivery(dedup_ids=dedup, topic=event.type, occurred_at=occurred)
    object_id = _event_object_id(event)
    if name in DELETION_EVENTS:
        gone = VendorObject(resource, {"id": object_id}, observed_at=occurred, deleted=True)
        return Delivery(dedup_ids=dedup, topic=event.type, objects=[gone], occurred_at=occurred)
    refetch = [(resource, object_id)]
    requester = event.detail.get("requester_id")
    if name in REQUESTER_EVENTS and requester is not None:
        refetch.insert(0, ("user", _object_id(requester, event.type)))
    return Delivery(dedup_ids=dedup, topic=event.type, refetch=refetch, occurred_at=occurred)


def _trigger_delivery(
    body: dict[str, Any], headers: Mapping[str, str], raw_body: bytes
) -> Delivery:
    trigger: _Trigger = _convert(body, _Trigger, "trigger webhook")
    ticket_id = _object_id(trigger.ticket_id, "trigger webhook ticket_id")
    stamp = header(headers, TIMESTAMP_HEADER) or ""
    # The invocation id is not signed: a captured delivery re-sent with a new one within the
    # timestamp window would be applied again (a ticket fetch each time). The signed timestamp
    # and body are, so their digest is always an id too (Zendesk's own retries keep the
    # invocation id, which still ties them together).
    digest = hashlib.sha256(stamp.encode() + raw_body).hexdigest()
    dedup = [*_invocation(headers), f"body:{digest}"]
    topic = f"{TRIGGER_TOPIC}:{trigger.event}" if trigger.event else TRIGGER_TOPIC
    occurred = _trigger_time(stamp)
    refetch = [_trigger_requester(trigger, ticket_id), ("ticket", ticket_id)]
    return Delivery(dedup_ids=dedup, topic=topic, refetch=refetch, occurred_at=occurred)


def _trigger_requester(trigger: _Trigger, ticket_id: str) -> tuple[str, str]:
    """What to refetch for the ticket's requester: the user the body names (a template with
    ``{{ticket.requester.id}}``), else whoever the ticket names now (``TICKET_REQUESTER``).
    A template whose placeholder renders empty names nobody, as if it were not there."""
    named = trigger.requester_id
    if named is None or (isinstance(named, str) and not named.strip()):
        return (TICKET_REQUESTER, ticket_id)
    return ("user", _object_id(named, "trigger webhook requester_id"))


def _trigger_time(stamp: str) -> str | None:
    try:
        return iso_utc(stamp) if stamp else None
    except MappingError:
        return None


def parse_delivery(headers: Mapping[str, str], raw_body: bytes) -> Delivery:
    """A verified delivery (event or trigger body) as a ``Delivery``; ``MappingError`` if not."""
    body = _decode(raw_body)
    kind = body.get("type")
    if isinstance(kind, str) and kind.startswith(EVENT_PREFIX):
        return _event_delivery(body, headers)
    if "ticket_id" in body:
        return _trigger_delivery(body, headers, raw_body)
    raise MappingError(
        "zendesk webhook: neither an event (type zen:event-type:...) nor a trigger body "
        "with ticket_id",
        source=SOURCE,
    )
