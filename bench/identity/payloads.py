"""Vendor payloads for one ``View``: exactly what each API returns for a customer-like object.

Stripe customers, HubSpot contacts and Zendesk users come from the demo's builders
(``context_service.demo._stripe`` / ``_hubspot`` / ``_zendesk``), fed a demo ``Person`` that holds
this view's values. Shopify is synced through the GraphQL Admin API, so a Shopify customer is a
GraphQL ``Customer`` node (``integrations.shopify.graphql.CUSTOMER_FIELDS``); ``to_raw`` turns it
into the REST shape the connector stores, as the connector does.
"""

from __future__ import annotations

from typing import Any

from bench.identity.population import NOW, Human
from bench.identity.views import SOURCES, View
from context_service.demo import _hubspot as demo_hubspot
from context_service.demo import _stripe as demo_stripe
from context_service.demo import _zendesk as demo_zendesk
from context_service.demo._util import DAY, StripeIds, iso_z
from context_service.demo.people import (
    Addr,
    Person,
    hubspot_contact_id,
    shopify_customer_id,
    zendesk_user_id,
)

KINDS = {"shopify": "customer", "stripe": "customer", "hubspot": "contact", "zendesk": "user"}
_OFFSET_DAYS = {"shopify": 0, "stripe": 3, "hubspot": -40, "zendesk": 9}


def record_number(index: int, source: str, dup: int) -> int:
    """A number unique to (person, source, duplicate): every vendor id derives from it."""
    return index * 8 + SOURCES.index(source) * 2 + dup


def external_id(ids: StripeIds, index: int, source: str, dup: int) -> str:
    """The vendor's id of a person's record in ``source``, as the mapper keys it."""
    g = record_number(index, source, dup)
    if source == "shopify":
        return str(shopify_customer_id(g))
    if source == "stripe":
        return demo_stripe.customer_id(ids, g)
    if source == "hubspot":
        return hubspot_contact_id(g)
    return str(zendesk_user_id(g))


def _times(h: Human, v: View) -> tuple[int, int]:
    """(created, updated) of a record: around when the person appeared, never in the future."""
    created = min(h.created + _OFFSET_DAYS[v.source] * DAY + v.dup * 30 * DAY, NOW)
    span = h.created % (200 * DAY)
    return created, min(created + span, NOW)


def _demo_person(h: Human, v: View, g: int) -> Person:
    first, last = v.first or "", v.last or ""
    return Person(g, first, last, h.country, h.created, v.address)


def _graphql_address(a: Addr, v: View) -> dict[str, Any]:
    return {
        "firstName": v.first,
        "lastName": v.last,
        "address1": a.address1,
        "address2": a.address2,
        "city": a.city,
        "province": a.province,
        "provinceCode": a.province_code,
        "zip": a.zip,
        "country": a.country,
        "countryCodeV2": a.country_code,
        "phone": v.mobile,
        "company": None,
    }


def shopify_customer(h: Human, v: View) -> dict[str, Any]:
    """A GraphQL ``Customer`` node, as ``customers(first:, after:) { nodes { ... } }`` lists it."""
    cid = shopify_customer_id(record_number(h.index, v.source, v.dup))
    created, updated = _times(h, v)
    address = _graphql_address(v.address, v) if v.address is not None else None
    return {
        "id": f"gid://shopify/Customer/{cid}",
        "email": v.emails[0] if v.emails else None,
        "firstName": v.first,
        "lastName": v.last,
        "phone": v.phone,
        "createdAt": iso_z(created),
        "updatedAt": iso_z(updated),
        "state": "ENABLED",
        "tags": [],
        "note": None,
        "defaultAddress": address,
        "addresses": [address] if address else [],
    }


def stripe_customer(ids: StripeIds, seed: int, h: Human, v: View) -> dict[str, Any]:
    """A ``GET /v1/customers`` item (``metadata.shopify_customer_id`` when linked)."""
    p = _demo_person(h, v, record_number(h.index, v.source, v.dup))
    p.stripe_email = v.emails[0] if v.emails else None
    p.stripe_name, p.stripe_phone = v.name, v.phone
    p.stripe_address = v.address is not None
    if "shopify" in v.links:
        p.stripe_metadata["shopify_customer_id"] = external_id(ids, h.index, "shopify", 0)
    return demo_stripe.customer(ids, seed, p, _times(h, v)[0])


def hubspot_contact(ids: StripeIds, h: Human, v: View) -> dict[str, Any]:
    """A ``GET /crm/v3/objects/contacts`` item, with the portal's link properties when set."""
    p = _demo_person(h, v, record_number(h.index, v.source, v.dup))
    p.hubspot_email = v.emails[0] if v.emails else None
    p.hubspot_additional_emails = ";".join(v.emails[1:]) or None
    p.hubspot_first, p.hubspot_last = v.first, v.last
    p.hubspot_phone, p.hubspot_mobile = v.phone, v.mobile
    p.hubspot_address = v.address is not None
    payload = demo_hubspot.contact(p, *_times(h, v))
    for source in v.links:
        prop = f"{source}_customer_id"
        payload["properties"][prop] = external_id(ids, h.index, source, v.links[source])
    return payload


def zendesk_user(ids: StripeIds, h: Human, v: View) -> dict[str, Any]:
    """A ``GET /api/v2/users?role=end-user`` item (``external_id`` ``shopify:<id>`` if linked)."""
    p = _demo_person(h, v, record_number(h.index, v.source, v.dup))
    p.zendesk_name = v.name or (v.emails[0].partition("@")[0] if v.emails else "Customer")
    p.zendesk_email = v.emails[0] if v.emails else None
    p.zendesk_phone = v.phone
    p.household = 1 if "shared_phone" in v.tags else 0
    if "shopify" in v.links:
        p.external_id = f"shopify:{external_id(ids, h.index, 'shopify', v.links['shopify'])}"
    return demo_zendesk.user(p, *_times(h, v))


def payload_of(ids: StripeIds, seed: int, h: Human, v: View) -> dict[str, Any]:
    """The vendor payload of view ``v`` of person ``h``."""
    if v.source == "shopify":
        return shopify_customer(h, v)
    if v.source == "stripe":
        return stripe_customer(ids, seed, h, v)
    if v.source == "hubspot":
        return hubspot_contact(ids, h, v)
    return zendesk_user(ids, h, v)
