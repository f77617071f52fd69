"""Map HubSpot CRM v3 objects and owners to canonical ``Mapped`` records.

Input shapes (HubSpot CRM v3, developers.hubspot.com/docs/api/crm):

* contacts, companies, deals: one item of ``GET /crm/v3/objects/{type}`` (or the single-object
  and search endpoints): ``{"id", "properties": {name: string | null}, "createdAt",
  "updatedAt", "archived", "associations": {"companies" | "contacts": {"results": [{"id"}]}}}``;
* owners: one item of ``GET /crm/v3/owners``: ``{"id", "email", "firstName", "lastName",
  "userId", "createdAt", "updatedAt", "archived"}``.

Each Struct below declares only the fields the mapper reads; anything else in the payload (a
fixture's ``_source`` note included) is skipped while decoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import msgspec

from context_service.errors import MappingError
from context_service.models import (
    Address,
    Deal,
    Mapped,
    PersonFacet,
    RecordKey,
    Reference,
)
from integrations._convert import clean, currency_code, decimal_string, decode, iso_utc

SOURCE = "hubspot"
PERSON_KIND = "contact"
KINDS = ("contact", "company", "deal", "owner")
# Where the connector puts display labels: a deal's pipeline and stage, a contact's lifecycle stage.
LABELS_KEY = "_labels"
COMPANY_KEY = "_company"  # where it puts a contact's primary associated company

# Custom contact properties that carry another system's id for the same person.
_LINK_PROPERTIES = (
    ("shopify_customer_id", "shopify", "customer"),
    ("stripe_customer_id", "stripe", "customer"),
    ("zendesk_user_id", "zendesk", "user"),
)

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# Payload shapes (only the fields we read)
# --------------------------------------------------------------------------------------------


class _AssociatedId(msgspec.Struct):
    id: str | int


class _AssociationList(msgspec.Struct):
    results: list[_AssociatedId] = []


class _Associations(msgspec.Struct):
    companies: _AssociationList | None = None
    contacts: _AssociationList | None = None


class _ContactProperties(msgspec.Struct):
    email: str | None = None
    hs_additional_emails: str | None = None
    phone: str | None = None
    mobilephone: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    company: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    lifecyclestage: str | None = None
    hubspot_owner_id: str | None = None
    createdate: str | None = None
    lastmodifieddate: str | None = None
    shopify_customer_id: str | None = None
    stripe_customer_id: str | None = None
    zendesk_user_id: str | None = None
    date_of_birth: str | None = None
    associatedcompanyid: str | None = None  # the primary associated company's id


class _CompanyProperties(msgspec.Struct):
    name: str | None = None
    domain: str | None = None
    industry: str | None = None
    hs_lastmodifieddate: str | None = None


class _DealLabels(msgspec.Struct):
    """Display labels the connector adds beside the ids (``GET /crm/v3/pipelines/deals``)."""

    pipeline: str | None = None
    dealstage: str | None = None


class _DealProperties(msgspec.Struct):
    dealname: str | None = None
    pipeline: str | None = None
    dealstage: str | None = None
    amount: str | None = None
    deal_currency_code: str | None = None
    closedate: str | None = None
    hubspot_owner_id: str | None = None
    hs_is_closed: str | None = None
    hs_is_closed_won: str | None = None
    createdate: str | None = None
    hs_lastmodifieddate: str | None = None


class _CrmObject(msgspec.Struct, rename="camel"):
    """Fields every CRM v3 object has."""

    id: str | int
    created_at: str | None = None
    updated_at: str | None = None
    archived: bool = False
    associations: _Associations = msgspec.field(default_factory=_Associations)


class _ContactLabels(msgspec.Struct):
    """The display label the connector adds beside the lifecycle stage's internal value
    (``GET /crm/v3/properties/contacts/lifecyclestage``, ``integrations.hubspot._lifecycle``)."""

    lifecyclestage: str | None = None


class _PrimaryCompany(msgspec.Struct):
    """The contact's primary associated company, as the connector adds it (``_company``)."""

    name: str | None = None


class HubSpotContact(_CrmObject):
    """A contact as returned by ``GET /crm/v3/objects/contacts``.

    ``_company`` is not HubSpot's: the connector adds the name of the company
    ``associatedcompanyid`` names (``integrations.hubspot._companies``). The contact stays
    dated by its own modification: a later date would outrank a ``contact.deletion`` that
    came between the two. ``_labels`` is not HubSpot's either: the connector adds the
    lifecycle stage's label there (the property holds its internal value); without it (a
    contact stored before labels were added, or a label HubSpot could not give) the value
    is used.
    """

    properties: _ContactProperties = msgspec.field(default_factory=_ContactProperties)
    primary_company: _PrimaryCompany | None = msgspec.field(default=None, name=COMPANY_KEY)
    labels: _ContactLabels = msgspec.field(default_factory=_ContactLabels, name=LABELS_KEY)


class HubSpotCompany(_CrmObject):
    """A company as returned by ``GET /crm/v3/objects/companies``."""

    properties: _CompanyProperties = msgspec.field(default_factory=_CompanyProperties)


class HubSpotDeal(_CrmObject):
    """A deal as returned by ``GET /crm/v3/objects/deals``.

    ``_labels`` is not HubSpot's: the connector adds the pipeline's and the stage's labels there
    (the properties hold only their ids); without it the ids are used.
    """

    properties: _DealProperties = msgspec.field(default_factory=_DealProperties)
    labels: _DealLabels = msgspec.field(default_factory=_DealLabels, name=LABELS_KEY)


class HubSpotOwner(msgspec.Struct, rename="camel"):
    """An owner (a HubSpot user records can be assigned to) from ``GET /crm/v3/owners``."""

    id: str | int
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    archived: bool = False


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _decode(payload: Mapping[str, Any], kind: str, shape: type[_T]) -> _T:
    """Decode ``payload`` into ``shape``; any mismatch becomes a ``MappingError``."""
    return decode(payload, shape, SOURCE, kind, kind=kind)


def _key(kind: str, raw_id: str | int) -> RecordKey:
    """The record key; an empty id is unmappable."""
    external_id = clean(str(raw_id))
    if external_id is None:
        raise MappingError(f"hubspot {kind}: field 'id' is empty", source=SOURCE, kind=kind)
    return RecordKey(SOURCE, kind, external_id)


def _checked(
    key: RecordKey, field: str, convert: Callable[[str | None], str | None], value: str | None
) -> str | None:
    """Run one conversion and name the field (and the record) if it fails."""
    try:
        result = convert(value)
    except (MappingError, ArithmeticError, ValueError) as exc:
        raise MappingError(
            f"hubspot {key.kind} {key.external_id}: field {field!r}: cannot convert {value!r}",
            source=SOURCE,
            kind=key.kind,
            external_id=key.external_id,
            field=field,
        ) from exc
    return result


def _timestamp(key: RecordKey, *candidates: tuple[str, str | None]) -> str | None:
    """The first non-empty ``(field, value)`` candidate as ISO-8601 UTC, or ``None``."""
    for field, value in candidates:
        cleaned = clean(value)
        if cleaned is not None:
            return _checked(key, field, iso_utc, cleaned)
    return None


def _unique(values: Iterable[str | None]) -> list[str]:
    """Non-empty stripped values, first occurrence kept, order preserved."""
    seen: dict[str, None] = {}
    for value in values:
        cleaned = clean(value)
        if cleaned is not None:
            seen.setdefault(cleaned, None)
    return list(seen)


def _non_empty(pairs: Mapping[str, str | None]) -> dict[str, str]:
    """Drop entries whose value is ``None`` or blank."""
    return {name: cleaned for name, value in pairs.items() if (cleaned := clean(value))}


def _associated_ids(associations: _AssociationList | None) -> list[str]:
    """Ids of associated objects, deduplicated (v4 labels can list one object twice)."""
    if associations is None:
        return []
    return _unique(str(item.id) for item in associations.results)


# --------------------------------------------------------------------------------------------
# Mappers
# --------------------------------------------------------------------------------------------


def _contact_emails(props: _ContactProperties) -> list[str]:
    """The primary email, then ``hs_additional_emails`` (semicolon-separated), as written."""
    extra = (props.hs_additional_emails or "").split(";")
    return _unique([props.email, *extra])


def _contact_addresses(props: _ContactProperties) -> list[Address]:
    """The contact's one postal address, if any part of it is filled in."""
    address = Address(
        street=clean(props.address),
        city=clean(props.city),
        region=clean(props.state),
        postcode=clean(props.zip),
        country=clean(props.country),
    )
    return [address] if address != Address() else []


def _contact_links(props: _ContactProperties) -> list[RecordKey]:
    """Explicit ids of the same person in other systems, from custom properties."""
    links = []
    for prop, source, kind in _LINK_PROPERTIES:
        value = clean(getattr(props, prop))
        if value is not None:
            links.append(RecordKey(source, kind, value))
    return links


def _lifecycle_stage(props: _ContactProperties, labels: _ContactLabels) -> str | None:
    """The stage's label, else its internal value (``salesqualifiedlead``, or a custom
    stage's number); ``None`` when the contact has no stage."""
    value = clean(props.lifecyclestage)
    if value is None:
        return None
    return clean(labels.lifecyclestage) or value


def map_contact(payload: Mapping[str, Any]) -> Mapped:
    """Map a HubSpot contact to a person-like record.

    Its company is the free-text ``company`` property, else the name of its primary
    associated company (HubSpot fills the property only when someone types it, and
    associates contacts with companies by their email domain).
    """
    contact = _decode(payload, "contact", HubSpotContact)
    key = _key("contact", contact.id)
    props = contact.properties
    company_ids = _associated_ids(contact.associations.companies)
    primary = contact.primary_company
    person = PersonFacet(
        emails=_contact_emails(props),
        phones=_unique([props.phone, props.mobilephone]),
        first_name=clean(props.firstname),
        last_name=clean(props.lastname),
        company=clean(props.company) or (clean(primary.name) if primary else None),
        addresses=_contact_addresses(props),
        links=_contact_links(props),
        attributes=_non_empty(
            {
                "lifecycle_stage": _lifecycle_stage(props, contact.labels),
                "owner_id": props.hubspot_owner_id,
                "company_ids": ",".join(company_ids),
            }
        ),
        created_at=_timestamp(
            key, ("createdate", props.createdate), ("createdAt", contact.created_at)
        ),
        birth_date=clean(props.date_of_birth),
    )
    updated_at = _timestamp(
        key, ("lastmodifieddate", props.lastmodifieddate), ("updatedAt", contact.updated_at)
    )
    return Mapped(key=key, updated_at=updated_at, deleted=contact.archived, person=person)


def map_company(payload: Mapping[str, Any]) -> Mapped:
    """Map a HubSpot company to a reference (label: name, else domain, else ``Company <id>``)."""
    company = _decode(payload, "company", HubSpotCompany)
    key = _key("company", company.id)
    props = company.properties
    label = clean(props.name) or clean(props.domain) or f"Company {key.external_id}"
    reference = Reference(
        label=label,
        attributes=_non_empty({"domain": props.domain, "industry": props.industry}),
    )
    updated_at = _timestamp(
        key, ("hs_lastmodifieddate", props.hs_lastmodifieddate), ("updatedAt", company.updated_at)
    )
    return Mapped(key=key, updated_at=updated_at, deleted=company.archived, reference=reference)


def _deal_status(props: _DealProperties) -> str:
    """``won``, ``lost`` or ``open`` from the closed flags or the default pipeline's stages."""
    stage = (props.dealstage or "").strip().lower()
    won = (props.hs_is_closed_won or "").strip().lower() == "true" or stage == "closedwon"
    if won:
        return "won"
    closed = (props.hs_is_closed or "").strip().lower() == "true"
    return "lost" if closed or stage == "closedlost" else "open"


def map_deal(payload: Mapping[str, Any]) -> Mapped:
    """Map a HubSpot deal to a ``Deal`` activity owned by its associated contacts."""
    deal = _decode(payload, "deal", HubSpotDeal)
    key = _key("deal", deal.id)
    props = deal.properties
    updated_at = _timestamp(
        key, ("hs_lastmodifieddate", props.hs_lastmodifieddate), ("updatedAt", deal.updated_at)
    )
    activity = Deal(
        owners=[
            RecordKey(SOURCE, PERSON_KIND, cid)
            for cid in _associated_ids(deal.associations.contacts)
        ],
        external_id=key.external_id,
        status=_deal_status(props),
        title=clean(props.dealname),
        created_at=_timestamp(
            key, ("createdate", props.createdate), ("createdAt", deal.created_at)
        ),
        updated_at=updated_at,
        amount=_checked(key, "amount", decimal_string, clean(props.amount)),
        currency=currency_code(clean(props.deal_currency_code)),
        pipeline=clean(deal.labels.pipeline) or clean(props.pipeline),
        stage=clean(deal.labels.dealstage) or clean(props.dealstage),
        close_date=_timestamp(key, ("closedate", props.closedate)),
        owner_id=clean(props.hubspot_owner_id),
    )
    return Mapped(key=key, updated_at=updated_at, deleted=deal.archived, activity=activity)


def map_owner(payload: Mapping[str, Any]) -> Mapped:
    """Map a HubSpot owner to a reference: ``First Last``, else the email, else ``Owner <id>``."""
    owner = _decode(payload, "owner", HubSpotOwner)
    key = _key("owner", owner.id)
    full_name = " ".join(filter(None, [clean(owner.first_name), clean(owner.last_name)]))
    label = full_name or clean(owner.email) or f"Owner {key.external_id}"
    reference = Reference(label=label, attributes=_non_empty({"email": owner.email}))
    updated_at = _timestamp(key, ("updatedAt", owner.updated_at))
    return Mapped(key=key, updated_at=updated_at, deleted=owner.archived, reference=reference)


def _property_names(shape: type[msgspec.Struct]) -> tuple[str, ...]:
    """The property names a properties Struct reads, in declaration order."""
    return tuple(field.encode_name for field in msgspec.structs.fields(shape))


# The ids HubSpot merged into a record, ``;``-separated: read by the connector's streams (each
# becomes a deletion notice naming the record as its survivor), not by the mappers.
MERGED_IDS_PROPERTY = "hs_merged_object_ids"

# The properties to request per object type: everything the mapper reads, and the merged ids.
PROPERTIES: dict[str, tuple[str, ...]] = {
    "contact": (*_property_names(_ContactProperties), MERGED_IDS_PROPERTY),
    "company": (*_property_names(_CompanyProperties), MERGED_IDS_PROPERTY),
    "deal": (*_property_names(_DealProperties), MERGED_IDS_PROPERTY),
}

_MAPPERS: dict[str, Callable[[Mapping[str, Any]], Mapped]] = {
    "contact": map_contact,
    "company": map_company,
    "deal": map_deal,
    "owner": map_owner,
}


def map_record(kind: str, payload: Mapping[str, Any]) -> Mapped:
    """Map one HubSpot object of ``kind`` (one of ``KINDS``) to a canonical record."""
    mapper = _MAPPERS.get(kind)
    if mapper is None:
        raise MappingError(
            f"hubspot: unknown kind {kind!r}; expected one of {', '.join(KINDS)}",
            source=SOURCE,
            kind=kind,
        )
    return mapper(payload)
