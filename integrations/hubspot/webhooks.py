"""HubSpot webhooks: signature v3 checks and event batches -> a ``Delivery``.

Signature v3 (developers.hubspot.com, "Validating requests"): HubSpot sends
``X-HubSpot-Signature-v3`` and ``X-HubSpot-Request-Timestamp`` (epoch milliseconds). The signed
source is ``method + uri + raw body + timestamp`` (UTF-8), where ``uri`` is the full URL HubSpot
called, query included, with a few percent-encoded characters decoded; the signature is the
base64 HMAC-SHA256 of it under the app's client secret. Deliveries older than five minutes are
refused (the timestamp is signed, and HubSpot signs every retry anew).

The body is a JSON array of events. Each carries one property at most, so creations, property
changes and restores ask for a fresh copy (``refetch``); an association change also refetches
its other end when that record's mapping holds the link (a deal's contacts are its owners),
whose kind the ``associationType`` names (``COMPANY_TO_CONTACT`` and suffixed forms such as
``COMPANY_TO_CONTACT_UNLABELED``), else ``toObjectTypeId``, else a HubSpot-defined
``associationTypeId`` (an event of a v4 label may name the type by its label only).
Generic ``object.*`` events (``objectTypeId`` 0-1, 0-2, 0-3) count as their ``contact.*``,
``company.*`` and ``deal.*`` equivalents. ``contact.privacyDeletion`` erases the
person (``erase``: their profile, suppressed); ``contact.deletion``, which HubSpot can undo for
90 days, deletes the contact's data unless a newer copy is stored (``remove``: a bare tombstone
dated by the deletion stays), so a restore, dated later, brings it back; other deletions leave
a deleted tombstone. A merge refetches the record that
survived it and tombstones every other id it names: contact and company merges now create a
new record (``newObjectId``) into which both the primary and the merged records go
(developers.hubspot.com/changelog/updated-merge-functionality-for-contacts-and-companies), so
the survivor is ``newObjectId`` when the event carries one, else ``primaryObjectId``. Within a
batch the last event about a record decides, with two exceptions: an erasure is final (a later
event about the record cannot undo the person's request), and a record merged away stays
merged (HubSpot goes on sending events about a merged-away id; they refetch the survivor). HubSpot
says ``eventId`` is not guaranteed unique, so each event's dedup id adds a digest of what
identifies the change. Only the events of the portal this service syncs are taken (their
``portalId``; see ``integrations.hubspot._portal``): one app's secret signs the deliveries of
every portal that installed it, and object ids repeat across portals.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

import msgspec

from context_service.errors import MappingError, WebhookRejected, shown
from integrations._connector import Delivery, VendorObject
from integrations._convert import iso_utc
from integrations._webhooks import hmac_base64, matches_any, require_fresh, require_secret
from integrations.hubspot._portal import PORTAL_SETTING, portal_text

__all__ = [
    "MAX_AGE_SECONDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Event",
    "decode_events",
    "dedup_id",
    "deletion_notice",
    "parse_delivery",
    "require_portal",
    "signature_source",
    "verify_signature",
]

SOURCE = "hubspot"
SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
MAX_AGE_SECONDS = 300.0
# Epoch milliseconds in ASCII digits; the bound keeps ``int()`` away from absurd inputs
# (``str.isdigit`` also accepts "²", which ``int`` refuses, and ``int`` refuses over 4300 digits).
_TIMESTAMP = re.compile(r"[0-9]{1,16}")
# The percent-encodings HubSpot's validation guide says to decode in the URI before hashing.
_URI_DECODES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
# Subscription prefix -> mapper kind; other objects (tickets, ...) are ignored.
_KINDS = {"contact": "contact", "company": "company", "deal": "deal"}
# Generic ``object.*`` events name their object by ``objectTypeId`` (changelog: "Public Beta:
# Generic Webhook Subscriptions"): the legacy prefix of the ones mapped here.
_OBJECT_TYPE_IDS = {"0-1": "contact", "0-2": "company", "0-3": "deal"}
_REFETCH = frozenset({"creation", "propertyChange", "restore", "associationChange"})
_ERASE = frozenset({"contact.privacyDeletion"})
_REMOVE = frozenset({"contact.deletion"})  # restorable for 90 days in HubSpot
# (record kind, associated kind) pairs where the record's mapping holds the link: a contact
# names its companies, a deal its contacts (its owners) and companies.
_HOLDS_LINK = frozenset({("contact", "company"), ("deal", "contact"), ("deal", "company")})
# ``associationTypeId`` of HubSpot-defined association types -> the kind of their ``to`` end
# (HubSpot's associations v4 guide, "Association type ID values"): primary and unlabeled
# contact<->company, contact<->deal, deal<->company. A ``USER_DEFINED`` id (a label) is the
# portal's own and names no object type.
_DEFINED_TYPE_IDS = {
    1: "company",  # contact to company (primary)
    279: "company",  # contact to company (unlabeled)
    2: "contact",  # company to contact (primary)
    280: "contact",  # company to contact (unlabeled)
    3: "contact",  # deal to contact
    4: "deal",  # contact to deal
    5: "company",  # deal to company (primary)
    341: "company",  # deal to company (unlabeled)
    6: "deal",  # company to deal (primary)
    342: "deal",  # company to deal (unlabeled)
}
_HUBSPOT_DEFINED = "HUBSPOT_DEFINED"


class Event(msgspec.Struct, rename="camel"):
    """One webhook event: only the fields read here."""

    event_id: int | str
    subscription_type: str
    occurred_at: int
    portal_id: int | str | None = None
    object_id: int | str | None = None
    property_name: str | None = None
    property_value: str | None = None
    primary_object_id: int | str | None = None
    merged_object_ids: list[int | str] = []
    new_object_id: int | str | None = None
    from_object_id: int | str | None = None
    to_object_id: int | str | None = None
    association_type: str | int | None = None
    association_type_id: int | str | None = None
    association_category: str | None = None
    object_type_id: str | int | None = None
    from_object_type_id: str | int | None = None
    to_object_type_id: str | int | None = None


# --- Signatures ----------------------------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name in ``headers``."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _decoded_uri(uri: str) -> str:
    """``uri`` with the percent-encodings HubSpot decodes before signing decoded."""
    for encoded, char in _URI_DECODES.items():
        uri = uri.replace(encoded, char).replace(encoded.lower(), char)
    return uri


def signature_source(method: str, uri: str, raw_body: bytes, timestamp: str) -> bytes:
    """The bytes HubSpot signs: method, decoded URI, raw body and timestamp, concatenated."""
    return method.upper().encode() + _decoded_uri(uri).encode() + raw_body + timestamp.encode()


def verify_signature(
    secret: str | None,
    headers: Mapping[str, str],
    raw_body: bytes,
    uri: str,
    now: float,
    method: str = "POST",
) -> None:
    """Raise ``WebhookRejected`` unless the v3 signature matches and is at most 5 minutes old."""
    key = require_secret(secret, SOURCE)
    signature = _header(headers, SIGNATURE_HEADER)
    timestamp = (_header(headers, TIMESTAMP_HEADER) or "").strip()
    if not signature:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER} header")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookRejected(f"missing or malformed {TIMESTAMP_HEADER} header")
    require_fresh(int(timestamp) / 1000, now, MAX_AGE_SECONDS, TIMESTAMP_HEADER)
    expected = hmac_base64(key, signature_source(method, uri, raw_body, timestamp))
    if not matches_any(expected, [signature]):
        raise WebhookRejected(f"{SIGNATURE_HEADER} does not match the request")


# --- Events --------------------------------------------------------------------------------------


_EVENT = msgspec.json.Decoder(Event)


def decode_events(raw_body: bytes) -> tuple[list[Event], list[str]]:
    """The events of a delivery body, and why each event that could not be read was skipped.

    ``MappingError`` unless the body is a non-empty array holding at least one readable event:
    one malformed event does not cost the batch's others (HubSpot would retry the whole batch,
    and fail the same way each time).
    """
    try:
        items = msgspec.json.decode(raw_body, type=list[msgspec.Raw])
    except msgspec.DecodeError as exc:
        raise MappingError(f"hubspot webhook: malformed body: {exc}", source=SOURCE) from exc
    except msgspec.ValidationError as exc:
        raise MappingError(f"hubspot webhook: {exc}", source=SOURCE) from exc
    if not items:
        raise MappingError("hubspot webhook: the body is an empty array", source=SOURCE)
    events: list[Event] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            events.append(_EVENT.decode(item))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            problems.append(f"hubspot webhook: event {index} skipped: {exc}")
    if not events:
        raise MappingError("; ".join(problems[:3]), source=SOURCE)
    return events, problems


def dedup_id(event: Event) -> str:
    """``<eventId>:<digest>``: the event id plus a digest of what identifies the change."""
    parts: tuple[object, ...] = (
        event.subscription_type,
        event.object_id,
        event.occurred_at,
        event.property_name,
        event.property_value,
        event.primary_object_id,
        tuple(event.merged_object_ids),
    )
    if event.new_object_id is not None:  # kept out otherwise: earlier ids stay as they were
        parts += (event.new_object_id,)
    if event.from_object_id is not None:  # an association change: its records and type
        parts += (event.from_object_id, event.to_object_id, event.association_type)
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
    return f"{event.event_id}:{digest}"


def _required_id(event: Event, value: int | str | None, field: str) -> str:
    text = "" if value is None or isinstance(value, bool) else str(value).strip()
    if not text:
        raise MappingError(
            f"hubspot webhook: {event.subscription_type} event {event.event_id} has no {field}",
            source=SOURCE,
        )
    return text


class _Collected:
    """What a batch asks for per record; a later event about a record overrides an earlier one,
    except that an erasure is never overridden and a record merged away is never refetched (its
    survivor is)."""

    def __init__(self) -> None:
        self.actions: dict[tuple[str, str], VendorObject | str] = {}
        self.removed_at: dict[tuple[str, str], str] = {}
        self.merged_into: dict[tuple[str, str], str] = {}  # merged away in this batch -> survivor

    def add(self, event: Event) -> None:
        subscription = _legacy_type(event)
        prefix, _, action = subscription.partition(".")
        kind = _KINDS.get(prefix)
        if kind is None:
            return
        if subscription in _ERASE:
            self._set((kind, _required_id(event, event.object_id, "objectId")), "erase")
        elif subscription in _REMOVE:
            key = (kind, _required_id(event, event.object_id, "objectId"))
            self._set(key, "remove")
            self.removed_at[key] = iso_utc(event.occurred_at) or ""
        elif action == "deletion":
            self._tombstone(kind, _required_id(event, event.object_id, "objectId"), event)
        elif action == "merge":
            self._merge(kind, event)
        elif action in _REFETCH:
            # An ``associationChange`` carries no ``objectId``: its record of the subscription's
            # type is ``fromObjectId`` (``toObjectId`` is the other end). HubSpot fires one
            # event per side, "contact.associationChange: Sam -> BlorgCorp" and
            # "company.associationChange: BlorgCorp -> Sam"
            # (developers.hubspot.com/changelog/bugfix-webhook-associationchanges).
            target = event.object_id if event.object_id is not None else event.from_object_id
            self._set(self._survivor((kind, _required_id(event, target, "objectId"))), "refetch")
            if action == "associationChange":
                self._refetch_other_end(kind, event)

    def _refetch_other_end(self, kind: str, event: Event) -> None:
        """Refetch the ``toObjectId`` end of an association change too when its mapping holds
        the link (a deal's owners are its contacts): an app subscribed to one side only gets
        the event of that side, and the other record would keep the stale association.
        Left alone when the batch already says something about that record."""
        other = _other_kind(event)
        if other is None or (other, kind) not in _HOLDS_LINK:
            return
        to_id = "" if event.to_object_id is None else str(event.to_object_id).strip()
        key = self._survivor((other, to_id))
        if to_id and key not in self.actions:
            self._set(key, "refetch")

    def of(self, wanted: str) -> list[tuple[str, str]]:
        """The records whose last action is ``wanted`` (``refetch`` or ``erase``)."""
        return [key for key, action in self.actions.items() if action == wanted]

    def removals(self) -> list[tuple[str, str, str]]:
        """The records whose last action is a (restorable) deletion, with its time."""
        return [(kind, ext, self.removed_at[(kind, ext)]) for kind, ext in self.of("remove")]

    def tombstones(self) -> list[VendorObject]:
        """The deleted-record notices, in order."""
        return [action for action in self.actions.values() if isinstance(action, VendorObject)]

    def _set(self, key: tuple[str, str], action: VendorObject | str) -> None:
        """Make ``action`` what the batch asks for ``key``, unless it asks to erase it: an
        erasure wins over any other event about the record, earlier or later."""
        if self.actions.get(key) == "erase":
            return
        self.actions.pop(key, None)
        self.actions[key] = action

    def _survivor(self, key: tuple[str, str]) -> tuple[str, str]:
        """The record ``key`` now is: the one it was merged into earlier in the batch (after
        any further merges), else ``key`` itself."""
        seen = {key}
        while (into := self.merged_into.get(key)) is not None and (key[0], into) not in seen:
            key = (key[0], into)
            seen.add(key)
        return key

    def _merge(self, kind: str, event: Event) -> None:
        """Refetch the merge's survivor; tombstone the primary (when replaced) and the merged."""
        primary = event.primary_object_id
        if primary is None:
            primary = event.object_id
        primary_id = _required_id(event, primary, "primaryObjectId")
        survivor = primary_id
        if event.new_object_id is not None and str(event.new_object_id).strip():
            survivor = _required_id(event, event.new_object_id, "newObjectId")
        self._set((kind, survivor), "refetch")
        self.merged_into.pop((kind, survivor), None)  # alive again, if merged away before
        merged = [
            _required_id(event, value, "mergedObjectIds") for value in event.merged_object_ids
        ]
        for gone in dict.fromkeys([primary_id, *merged]):
            if gone != survivor:  # the survivor lives on, even if listed among the merged
                self._tombstone(kind, gone, event, merged_into=survivor)
                self.merged_into[(kind, gone)] = survivor

    def _tombstone(
        self, kind: str, external_id: str, event: Event, merged_into: str | None = None
    ) -> None:
        notice = deletion_notice(kind, external_id, iso_utc(event.occurred_at), merged_into)
        self._set((kind, external_id), notice)


def deletion_notice(
    kind: str,
    external_id: str,
    observed_at: str | None,
    merged_into: str | None = None,
    *,
    only_if_stored: bool = False,
    from_lookup: bool = False,
) -> VendorObject:
    """The deletion notice of one record: a ``*.deletion`` event's, or, with ``merged_into``,
    that of a record merged into another (``*.merge``, or ``hs_merged_object_ids`` read by the
    streams). One payload for all of them, so the same deletion stored twice is unchanged."""
    return VendorObject(
        kind,
        {"id": external_id, "archived": True},
        observed_at=observed_at,
        deleted=True,
        merged_into=merged_into,
        only_if_stored=only_if_stored,
        from_lookup=from_lookup,
    )


def _legacy_type(event: Event) -> str:
    """The event's subscription type, a generic ``object.<action>`` of a contact, company or
    deal named as its legacy ``contact.<action>`` (etc.) equivalent."""
    prefix, _, action = event.subscription_type.partition(".")
    if prefix != "object":
        return event.subscription_type
    type_id = (
        event.object_type_id if event.object_type_id is not None else event.from_object_type_id
    )
    legacy = _OBJECT_TYPE_IDS.get(str(type_id).strip()) if type_id is not None else None
    return f"{legacy}.{action}" if legacy else event.subscription_type


def _other_kind(event: Event) -> str | None:
    """The mapper kind of an association change's ``toObjectId`` end, or ``None`` when the
    event names no kind mapped here: by its ``associationType`` name, else its
    ``toObjectTypeId`` (generic events), else a HubSpot-defined ``associationTypeId``."""
    named = _kind_in_type_name(event.association_type)
    if named is not None:
        return named
    if event.to_object_type_id is not None:
        return _OBJECT_TYPE_IDS.get(str(event.to_object_type_id).strip())
    return _kind_of_type_id(event)


def _kind_in_type_name(association_type: str | int | None) -> str | None:
    """The kind after ``_TO_`` in ``CONTACT_TO_DEAL``-style names, suffixes and label words
    included: ``COMPANY_TO_CONTACT_UNLABELED`` and ``DEAL_TO_PRIMARY_COMPANY`` name ``contact``
    and ``company``; ``DEAL_TO_LINE_ITEM`` names none mapped here."""
    if not isinstance(association_type, str):
        return None
    _, separator, target = association_type.strip().upper().partition("_TO_")
    words = (_KINDS.get(word.lower()) for word in target.split("_")) if separator else iter(())
    return next((kind for kind in words if kind is not None), None)


def _kind_of_type_id(event: Event) -> str | None:
    """The ``to`` kind of a HubSpot-defined ``associationTypeId`` (a v4 label's event may name
    its type by label only); a user-defined id is the portal's own and names nothing."""
    category = (event.association_category or "").strip().upper()
    type_id = str(event.association_type_id or "").strip()
    if category != _HUBSPOT_DEFINED or not type_id.isdigit():
        return None
    return _DEFINED_TYPE_IDS.get(int(type_id))


def _topic(events: Iterable[Event]) -> str:
    return ",".join(sorted({event.subscription_type for event in events}))


def parse_delivery(raw_body: bytes, portal: str | None = None) -> Delivery:
    """A verified body as a ``Delivery``: one dedup id per event, refetches, erasures, tombstones.

    Events are taken in ``occurredAt`` order (HubSpot does not order a batch), and the last event
    about a record decides: a contact deleted and then restored is refetched, not removed. Two
    exceptions: a privacy deletion stays an erasure whatever follows it, and an event about a
    record merged away earlier in the batch refetches the record it was merged into.

    With ``portal`` (the portal this service syncs), an event of any other portal, or one that
    names none, is skipped and said so in ``problems``; ``WebhookRejected`` when that leaves
    none (``require_portal``). Every event keeps its dedup id, so a retry is still a replay.
    """
    events, problems = decode_events(raw_body)
    ours = events if portal is None else _of_portal(events, portal, problems)
    collected = _Collected()
    applied = 0
    for event in sorted(ours, key=lambda event: event.occurred_at):
        try:
            collected.add(event)
        except MappingError as exc:  # one event without the id it needs: the rest still apply
            problems.append(f"{exc.detail} (skipped)")
            continue
        applied += 1
    if not applied:
        raise MappingError("; ".join(problems[:3]), source=SOURCE)
    return Delivery(
        dedup_ids=[dedup_id(event) for event in events],
        topic=_topic(events),
        objects=collected.tombstones(),
        refetch=collected.of("refetch"),
        erase=collected.of("erase"),
        remove=collected.removals(),
        occurred_at=iso_utc(max(event.occurred_at for event in ours)),
        problems=problems,
        batch=True,  # one dedup id per event: a retried event may come with new ones
    )


# --- Portals -------------------------------------------------------------------------------------


def require_portal(raw_body: bytes, portal: str) -> None:
    """Raise ``WebhookRejected`` when no event of the body is for ``portal``: one app's
    secret signs the deliveries of every portal that installed it, and object ids are only
    unique within a portal. A body that cannot be read is left to ``decode_events``."""
    try:
        events, _ = decode_events(raw_body)
    except MappingError:
        return
    _of_portal(events, portal, [])


def _of_portal(events: list[Event], portal: str, problems: list[str]) -> list[Event]:
    """The events of ``portal``; each other one is named in ``problems``, and
    ``WebhookRejected`` is raised when no event is left."""
    ours = [event for event in events if portal_text(event.portal_id) == portal]
    others: dict[str, list[Event]] = {}
    for event in events:
        if portal_text(event.portal_id) != portal:
            others.setdefault(_whose(event), []).append(event)
    if not ours:
        raise WebhookRejected(
            f"hubspot delivery refused: every event is {' or '.join(sorted(others)[:3])}, not "
            f"portal {portal}, the one this service syncs ({PORTAL_SETTING}, or the access "
            "token's)"
        )
    for whose, skipped in others.items():
        ids = ", ".join(shown(event.event_id) for event in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        problems.append(
            f"hubspot webhook: {len(skipped)} event(s) {whose} skipped (eventId {ids}{more}): "
            f"this service syncs portal {portal}"
        )
    return ours


def _whose(event: Event) -> str:
    """Which portal an event says it is from, in words."""
    found = portal_text(event.portal_id)
    return f"from portal {found}" if found else "from no portal (no portalId)"
