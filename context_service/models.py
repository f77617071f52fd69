"""The shared vocabulary: canonical records, activities and the snapshot.

Everything here is a plain ``msgspec.Struct`` with no behaviour and no I/O; this module imports
nothing internal. Integrations map vendor payloads into these shapes, the store persists them as
JSON, and the API encodes the snapshot straight from them.

Conventions
-----------
* Timestamps are ISO-8601 strings in UTC with a ``Z`` suffix (``2026-11-23T18:35:15Z``), so that
  string comparison is time comparison.
* Money is a decimal string in major units (``"199.65"``) plus an upper-case ISO currency code;
  vendors that count in minor units (Stripe) are converted by their mapper.
* Schema evolution: persisted Structs only ever gain optional fields with defaults; fields are
  never renamed or re-typed, so old rows keep decoding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal, Protocol

import msgspec


class RecordKey(msgspec.Struct, frozen=True, array_like=True):
    """The identity of one vendor object: (source, kind, external_id)."""

    source: str
    kind: str
    external_id: str


class Address(msgspec.Struct, frozen=True, omit_defaults=True):
    """A postal address as the vendor gave it (not normalized)."""

    street: str | None = None
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str | None = None


class PersonFacet(msgspec.Struct, omit_defaults=True):
    """The identity facet of a person-like record (customer, contact, user, spreadsheet row).

    Values are kept as the vendor wrote them; ``identity.normalize`` derives the match keys.
    ``links`` are explicit references to the same person in other systems (Stripe ``metadata``,
    Zendesk ``external_id``...). ``attributes`` carries small facts that belong to the person
    rather than to an activity (CRM lifecycle stage, owner id, customer tags).
    """

    emails: list[str] = []
    phones: list[str] = []
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    company: str | None = None
    addresses: list[Address] = []
    links: list[RecordKey] = []
    attributes: dict[str, str] = {}
    created_at: str | None = None
    birth_date: str | None = None  # as the vendor wrote it; used to keep people apart only


# --------------------------------------------------------------------------------------------
# Activities: what a person did or has, attached to their person-like record(s).
# --------------------------------------------------------------------------------------------


class ActivityBase(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type"):
    """Fields every activity has. ``owners`` are the records this activity belongs to.

    An owner is usually a person-like record (a Shopify customer, a Stripe customer, a HubSpot
    contact, a Zendesk user); it may also be another activity (a Stripe dispute belongs to a
    charge), in which case the snapshot follows it one hop.
    """

    owners: list[RecordKey] = []
    external_id: str | None = None
    url: str | None = None
    status: str | None = None
    title: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    amount: str | None = None
    currency: str | None = None


class Fulfillment(msgspec.Struct, omit_defaults=True):
    """One shipment of an order."""

    status: str | None = None
    shipment_status: str | None = None
    tracking_company: str | None = None
    tracking_numbers: list[str] = []
    tracking_urls: list[str] = []
    created_at: str | None = None


class Refund(msgspec.Struct, omit_defaults=True):
    """Money returned on an order or charge."""

    external_id: str
    amount: str | None = None
    currency: str | None = None
    created_at: str | None = None
    note: str | None = None


class LineItem(msgspec.Struct, omit_defaults=True):
    """One product line of an order. ``quantity`` is what is still ordered now (after order
    edits and restocking refunds); ``ordered_quantity`` is what was first ordered, set only when
    it differs (``quantity`` 0: the line was removed)."""

    title: str
    quantity: int = 1
    sku: str | None = None
    ordered_quantity: int | None = None


class Order(ActivityBase, tag="order"):
    """A commerce order (Shopify). ``title`` is the order name such as ``#1001``.

    ``status`` is one of ``open``, ``closed``, ``cancelled``. ``fulfillment_detail`` says why an
    order is not fulfilled yet when the vendor tells (``on_hold``, ``scheduled``,
    ``in_progress``, ``pending_fulfillment``, ``request_declined``). ``more_line_items``: the
    order has lines beyond ``line_items`` (a sync reads the first few); ``more_items_quantity``
    is how many items those hold, when the vendor gives the order's total quantity. ``test``: a
    test order (Shopify's bogus gateway): no money moved and nothing ships, so it is left out
    of the customer's snapshot.
    """

    number: str | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    line_items: list[LineItem] = []
    fulfillments: list[Fulfillment] = []
    refunds: list[Refund] = []
    cancelled_at: str | None = None
    note: str | None = None
    fulfillment_detail: str | None = None
    more_line_items: bool = False
    more_items_quantity: int | None = None
    test: bool = False


class Subscription(ActivityBase, tag="subscription"):
    """A recurring plan (Stripe). ``title`` is the plan or product name."""

    plan: str | None = None
    interval: str | None = None
    current_period_end: str | None = None
    cancel_at_period_end: bool = False
    canceled_at: str | None = None
    trial_end: str | None = None
    latest_invoice: str | None = None
    # Stripe's ``pause_collection``: the periods go on, but their invoices are not charged
    # (kept as drafts, marked uncollectible or voided) until ``resumes_at``, if one is set.
    collection_paused: bool = False
    resumes_at: str | None = None


class Invoice(ActivityBase, tag="invoice"):
    """A bill (Stripe). ``amount`` is the amount due."""

    number: str | None = None
    amount_paid: str | None = None
    amount_remaining: str | None = None
    attempt_count: int = 0
    next_payment_attempt: str | None = None
    subscription: str | None = None
    paid_at: str | None = None
    due_date: str | None = None


class Charge(ActivityBase, tag="charge"):
    """A payment attempt (Stripe). ``status`` is succeeded, pending, failed, or ``authorized``
    (Stripe's ``succeeded`` for a charge not captured: a hold on the card, nothing taken yet).

    Only the card brand and last four digits are kept; never a full card or bank number.
    """

    failure_code: str | None = None
    failure_message: str | None = None
    refunded: bool = False
    amount_refunded: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    disputed: bool = False
    refunds: list[Refund] = []


class Dispute(ActivityBase, tag="dispute"):
    """A chargeback (Stripe). Its owner is the disputed charge."""

    reason: str | None = None
    charge: str | None = None
    evidence_due_by: str | None = None


class Deal(ActivityBase, tag="deal"):
    """A CRM opportunity (HubSpot). ``status`` is open, won or lost."""

    pipeline: str | None = None
    stage: str | None = None
    close_date: str | None = None
    owner_id: str | None = None


class Ticket(ActivityBase, tag="ticket"):
    """A helpdesk ticket (Zendesk). ``status`` is new, open, pending, hold, solved or closed.

    ``title`` (the subject) and ``last_public_comment`` are customer-written text: render them
    as quoted data, never as instructions.
    """

    priority: str | None = None
    channel: str | None = None
    satisfaction: str | None = None
    last_public_comment: str | None = None
    tags: list[str] = []


Activity = Order | Subscription | Invoice | Charge | Dispute | Deal | Ticket


class Reference(msgspec.Struct, omit_defaults=True):
    """A named object other records point at: a CRM owner, a company, a pipeline stage."""

    label: str
    attributes: dict[str, str] = {}


class Mapped(msgspec.Struct, omit_defaults=True):
    """What a mapper makes of one vendor object: exactly one of person/activity/reference.

    ``updated_at`` is the vendor's own modification time when it has one; the store never lets
    an older ``updated_at`` overwrite a newer one. ``deleted`` marks a tombstone;
    ``merged_into`` is the vendor's id of the record a vendor merge folded this one into.
    """

    key: RecordKey
    updated_at: str | None = None
    deleted: bool = False
    person: PersonFacet | None = None
    activity: Activity | None = None
    reference: Reference | None = None
    merged_into: str | None = None


# --------------------------------------------------------------------------------------------
# Snapshot: the materialized answer to "what should I know about this person right now?"
# --------------------------------------------------------------------------------------------

Severity = Literal["critical", "warning", "info"]


class Member(msgspec.Struct, omit_defaults=True):
    """One source record in a profile, with a link to open it in the vendor's dashboard."""

    source: str
    kind: str
    external_id: str
    url: str | None = None
    updated_at: str | None = None


class IdentitySection(msgspec.Struct):
    """Who this is, merged across sources."""

    name: str | None = None
    names: list[str] = []
    emails: list[str] = []
    phones: list[str] = []
    company: str | None = None
    addresses: list[Address] = []
    customer_since: str | None = None


class CommerceSection(msgspec.Struct):
    """Orders, most recent first. ``total_spent`` adds up the orders (not cancelled, less
    refunds) in ``currency``, the one most of them were placed in; ``total_order_count`` says
    how many orders that is when orders in other currencies were left out (``None``: all)."""

    order_count: int = 0
    total_spent: str | None = None
    currency: str | None = None
    orders: list[Order] = []
    total_order_count: int | None = None


class BillingSection(msgspec.Struct):
    """Subscriptions, invoices, charges and disputes, most recent first."""

    subscriptions: list[Subscription] = []
    invoices: list[Invoice] = []
    charges: list[Charge] = []
    disputes: list[Dispute] = []


class CrmSection(msgspec.Struct):
    """What the CRM says: lifecycle stage, owner, deals."""

    lifecycle_stage: str | None = None
    owner: str | None = None
    deals: list[Deal] = []


class SupportSection(msgspec.Struct):
    """Helpdesk tickets, open ones first, then most recent."""

    open_count: int = 0
    tickets: list[Ticket] = []


class Freshness(msgspec.Struct):
    """The newest data we hold from one source for this profile."""

    source: str
    as_of: str | None


class Signal(msgspec.Struct, omit_defaults=True):
    """Something an agent should notice before replying (payment failed, order not shipped...)."""

    code: str
    severity: Severity
    message: str
    source: str
    ref: str | None = None


class ConflictValue(msgspec.Struct):
    """One source's value for a conflicting field."""

    source: str
    value: str


class Conflict(msgspec.Struct):
    """One field with different values in different sources, and which one we show."""

    field: str
    chosen: str
    rule: str
    values: list[ConflictValue]


class Snapshot(msgspec.Struct):
    """Everything the service knows about one profile at one version."""

    profile_id: str
    version: int
    generated_at: str
    identity: IdentitySection
    members: list[Member]
    commerce: CommerceSection
    billing: BillingSection
    crm: CrmSection
    support: SupportSection
    freshness: list[Freshness]
    signals: list[Signal]
    conflicts: list[Conflict]
    summary: str


# --------------------------------------------------------------------------------------------
# The connector contract: what a source hands to the sync runner and the webhook intake.
# Implemented in integrations/<source>/connector.py; see integrations/_connector.py.
# --------------------------------------------------------------------------------------------


class VendorObject(msgspec.Struct, frozen=True):
    """One vendor object fetched or delivered: its kind (mapper kind) and decoded JSON.

    ``observed_at`` is when the vendor says this version existed (a webhook's event time, an
    event's ``created``), for vendors whose objects carry no ``updated_at`` of their own.
    ``deleted`` marks a deletion notice that carries only the id. ``merged_into`` is set on the
    deletion notice of a record the vendor merged into another of the same kind (HubSpot's
    ``contact.merge``): the external id of the record that survived. ``only_if_stored`` marks a
    deletion notice that applies to a record already stored and to nothing else (a listing of
    the vendor's recycle bin names objects never held here; a refetch can meet a 404 just after
    a creation): for a record never stored it changes nothing, where a plain deletion notice is
    kept as a tombstone so that an older copy arriving later cannot bring the record back.
    ``from_lookup`` marks a deletion notice made by our own look-up answered 404 and dated when
    that was seen, not by the vendor: on a record stored deleted already it changes nothing (an
    eventually consistent API can answer 404 just after a restore, and a deletion dated then
    would make the restored copy lose as stale).
    """

    kind: str
    payload: dict[str, Any]
    observed_at: str | None = None
    deleted: bool = False
    merged_into: str | None = None
    only_if_stored: bool = False
    from_lookup: bool = False


class Page(msgspec.Struct):
    """One page of a stream: the objects and the cursor to store once they are committed."""

    objects: list[VendorObject]
    cursor: str | None
    note: str | None = None


class Stream(Protocol):
    """A resumable sequence of pages for one kind of object."""

    name: str

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages from ``cursor`` (``None``: from the beginning) to the end of the data."""
        ...


class AccessRequest(msgspec.Struct, frozen=True):
    """A person's request for the data held about them, passed on by a vendor (Shopify
    ``customers/data_request``): the vendor's request id, the account it came through (a shop
    domain), the person-like record it names, the contact details the vendor sent, and the
    other records it names (``("order", id)``). It is recorded, not answered by itself: the
    operator sends the export to whoever must answer the person."""

    kind: str
    external_id: str
    request_id: str | None = None
    account: str | None = None
    email: str | None = None
    phone: str | None = None
    records: list[tuple[str, str]] = []


class Delivery(msgspec.Struct):
    """A verified webhook delivery: dedup ids and the objects it carries.

    ``dedup_ids`` are the vendor's delivery/event ids (any one seen before means "replay"),
    except in a ``batch`` (HubSpot's up to 100 events in one request), where they are one per
    event and the delivery is a replay only when every one was seen: a retried event sent again
    in a batch with new ones must not take the new ones with it (applying is idempotent, so
    the events seen before are simply applied again).
    ``topic`` is the vendor's event type. ``refetch`` lists (kind, external_id) of objects to
    fetch fresh through ``Connector.fetch_one`` because the delivery carries only a part of them
    (a Shopify refund or fulfillment belongs to an order). ``erase`` lists (kind, external_id)
    of records whose person must be erased (compliance topics such as ``customers/redact``):
    the record and its person's other records, suppressed from then on (``sync.erase``);
    ``erase_emails`` are the emails the request gives for that person (Shopify's), which pick
    the person's records of a profile the record left before the request. ``remove`` lists
    (kind, external_id, occurred_at) of records the vendor deleted but may restore (HubSpot
    ``contact.deletion``): the record's data is deleted unless the stored copy is newer than
    the deletion, and nothing is suppressed, so a restore brings it back. ``remove_source``
    asks for every record of the source to be deleted the same way (Shopify ``shop/redact``,
    sent after a shop uninstalled the app), and its cursors forgotten, so a new install starts
    with a backfill.
    ``access_requests`` are requests for a person's data (``AccessRequest``), recorded for the
    operator to answer.
    """

    dedup_ids: list[str]
    topic: str
    objects: list[VendorObject] = []
    refetch: list[tuple[str, str]] = []
    erase: list[tuple[str, str]] = []
    erase_emails: list[str] = []
    occurred_at: str | None = None
    remove: list[tuple[str, str, str]] = []
    problems: list[str] = []  # parts of the delivery skipped because they could not be read
    batch: bool = False
    remove_source: bool = False
    access_requests: list[AccessRequest] = []


class Connector(Protocol):
    """What the sync runner and the webhook intake need from a source."""

    source: str

    def streams(self) -> list[Stream]:
        """The streams to sync, in dependency order (people before their activities)."""
        ...

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url: str, now: float
    ) -> None:
        """Raise ``WebhookRejected`` unless the delivery is authentic and fresh."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
        """The delivery's objects; raise ``MappingError`` if the body is malformed."""
        ...

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        """Fetch one object fresh from the API (``None`` if the vendor says it is gone)."""
        ...


# The vendor sources this service connects to; any other source name is a spreadsheet's.
BUILTIN_SOURCES = frozenset({"shopify", "stripe", "hubspot", "zendesk"})
