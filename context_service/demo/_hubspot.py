"""HubSpot CRM v3 shapes: owners, companies, contacts and deals, filled from given values.

CRM objects carry every property as a string (or ``null``); ids are numeric strings; the
top-level ``createdAt``/``updatedAt`` and the date properties are ISO-8601 with milliseconds.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from context_service.demo._data import STORE_DOMAIN
from context_service.demo._util import iso_ms
from context_service.demo.people import Company, Person, hubspot_company_id, hubspot_contact_id

OWNERS: tuple[tuple[str, str], ...] = (
    ("Jordan", "Reyes"), ("Priya", "Natarajan"), ("Sam", "Okoro"),
    ("Elena", "Voss"), ("Marcus", "Bell"), ("Hannah", "Lindqvist"),
)  # fmt: skip
OPEN_STAGES = (
    "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
    "contractsent",
)  # fmt: skip
_PROBABILITY = {
    "appointmentscheduled": "0.2", "qualifiedtobuy": "0.4", "presentationscheduled": "0.6",
    "decisionmakerboughtin": "0.8", "contractsent": "0.9", "closedwon": "1.0", "closedlost": "0.0",
}  # fmt: skip


def owner_id(index: int) -> str:
    return str(77_001 + index)


def owner(index: int, created: int, updated: int) -> dict[str, Any]:
    """``GET /crm/v3/owners`` item."""
    first, last = OWNERS[index]
    return {
        "id": owner_id(index),
        "email": f"{first.lower()}.{last.lower()}@{STORE_DOMAIN}",
        "type": "PERSON",
        "firstName": first,
        "lastName": last,
        "userId": 9_100_001 + index,
        "userIdIncludingInactive": 9_100_001 + index,
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(updated),
        "archived": False,
        "teams": [{"id": "3001", "name": "Sales", "primary": True}],
    }


def company(c: Company, created: int, updated: int) -> dict[str, Any]:
    """``GET /crm/v3/objects/companies`` item."""
    cid = hubspot_company_id(c.key)
    return {
        "id": cid,
        "properties": {
            "createdate": iso_ms(created),
            "domain": c.domain,
            "hs_lastmodifieddate": iso_ms(updated),
            "hs_object_id": cid,
            "industry": c.industry,
            "name": c.name,
        },
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(updated),
        "archived": False,
    }


def contact(p: Person, created: int, updated: int) -> dict[str, Any]:
    """``GET /crm/v3/objects/contacts?associations=companies`` item."""
    cid = hubspot_contact_id(p.g)
    a = p.address if p.hubspot_address else None
    payload: dict[str, Any] = {
        "id": cid,
        "properties": {
            "address": a.address1 if a else None,
            "city": a.city if a else None,
            "company": p.company.name if p.company else None,
            "country": a.country if a else None,
            "createdate": iso_ms(created),
            "email": p.hubspot_email,
            "firstname": p.hubspot_first,
            "hs_additional_emails": p.hubspot_additional_emails,
            "hs_object_id": cid,
            "hubspot_owner_id": owner_id(p.owner) if p.owner is not None else None,
            "lastmodifieddate": iso_ms(updated),
            "lastname": p.hubspot_last,
            "lifecyclestage": p.lifecycle,
            "mobilephone": p.hubspot_mobile,
            "phone": p.hubspot_phone,
            "state": a.province if a else None,
            "zip": a.zip if a else None,
        },
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(updated),
        "archived": p.archived,
    }
    if p.archived:
        payload["archivedAt"] = iso_ms(updated)
    if p.company is not None:  # the primary company is listed twice: labelled and unlabelled
        company_id = hubspot_company_id(p.company.key)
        results = [
            {"id": company_id, "type": "contact_to_company"},
            {"id": company_id, "type": "contact_to_company_unlabeled"},
        ]
        payload["associations"] = {"companies": {"results": results}}
    return payload


class DealSpec(NamedTuple):
    n: int
    name: str
    cents: int
    stage: str
    created: int
    close: int
    updated: int
    owner: int | None


def deal_id(n: int) -> str:
    return str(21_000_000_000 + n * 13)


def deal(d: DealSpec, p: Person) -> dict[str, Any]:
    """``GET /crm/v3/objects/deals?associations=contacts`` item."""
    did = deal_id(d.n)
    closed = d.stage in ("closedwon", "closedlost")
    associations: dict[str, Any] = {
        "contacts": {"results": [{"id": hubspot_contact_id(p.g), "type": "deal_to_contact"}]}
    }
    if p.company is not None:
        company_association = {"id": hubspot_company_id(p.company.key), "type": "deal_to_company"}
        associations["companies"] = {"results": [company_association]}
    return {
        "id": did,
        "properties": {
            "amount": f"{d.cents // 100}.{d.cents % 100:02d}",
            "closedate": iso_ms(d.close),
            "createdate": iso_ms(d.created),
            "deal_currency_code": "USD",
            "dealname": d.name,
            "dealstage": d.stage,
            "hs_deal_stage_probability": _PROBABILITY[d.stage],
            "hs_is_closed": "true" if closed else "false",
            "hs_is_closed_won": "true" if d.stage == "closedwon" else "false",
            "hs_lastmodifieddate": iso_ms(d.updated),
            "hs_object_id": did,
            "hubspot_owner_id": owner_id(d.owner) if d.owner is not None else None,
            "pipeline": "default",
        },
        "createdAt": iso_ms(d.created),
        "updatedAt": iso_ms(d.updated),
        "archived": False,
        "associations": associations,
    }
