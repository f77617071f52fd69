"""A contact's company: the name of its primary associated company, kept current.

HubSpot fills a contact's free-text ``company`` property only when someone types it; the
company a contact belongs to is usually an association (HubSpot associates a contact with the
company of its email domain), and ``associatedcompanyid`` ("Primary Associated Company ID")
names the primary one. So every contact the connector emits carries that company beside it
(``_company``: its id and name, read with ``POST /crm/v3/objects/companies/batch/read``, one
request per 100 companies), and the mapper uses the name when the free-text property is empty.

A renamed company changes none of its contacts in HubSpot, so after each page of the
``companies`` stream the contacts whose primary company is on it are emitted again with it
(``contacts_of``: ``associatedcompanyid IN (...)`` through search, keyset-paged by
``hs_object_id``). They keep their own modification time, and a sync's copy of a record's very
time replaces the stored one, so the new name is stored; a later date would outrank a
``contact.deletion`` that came between the two. A webhook about a company does not do this
(the applier would ask HubSpot again for each such contact, as for any copy tying with the
stored one): its contacts follow at the next sync. A companies listing from the top (a full
or first sync) skips it too: the contacts stream that follows reads every contact anyway.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from context_service.errors import FatalError
from integrations._pagination import LoopGuard
from integrations.hubspot._search import ObjectSpec, highest_id, object_id
from integrations.hubspot.mapping import COMPANY_KEY

__all__ = [
    "BATCH_LIMIT",
    "PRIMARY_COMPANY_PROPERTY",
    "Reader",
    "company_entry",
    "contacts_of",
    "primary_company_id",
    "read_companies",
    "with_primary_companies",
]

Json = dict[str, Any]
PRIMARY_COMPANY_PROPERTY = "associatedcompanyid"
BATCH_LIMIT = 100  # inputs per batch read (and values per ``IN`` filter)
_COMPANY_PROPERTIES = ["name"]


class Reader(Protocol):
    """What these reads need from the connector."""

    page_size: int

    def post_json(self, path: str, body: Json) -> Any:
        """A paced POST, decoded."""
        ...

    def search(self, spec: ObjectSpec, body: Json) -> list[Json]:
        """One search request's results."""
        ...


def primary_company_id(contact: Json) -> str | None:
    """The id of the contact's primary associated company, if it names one."""
    properties = contact.get("properties")
    value = properties.get(PRIMARY_COMPANY_PROPERTY) if isinstance(properties, dict) else None
    text = str(value).strip() if isinstance(value, str | int) else ""
    return text if text.isascii() and text.isdigit() else None


def company_entry(company: Json) -> Json:
    """What a contact carries of its primary company: its id and name."""
    properties = company.get("properties")
    name = properties.get("name") if isinstance(properties, dict) else None
    return {
        "id": str(company["id"]),
        "name": name.strip() or None if isinstance(name, str) else None,
    }


def with_primary_companies(contacts: list[Json], companies: Mapping[str, Json]) -> list[Json]:
    """The contacts, each with its primary company's entry when ``companies`` (id -> company
    object) holds it; one whose company is not there (deleted meanwhile) carries none."""
    completed = []
    for contact in contacts:
        company = companies.get(primary_company_id(contact) or "")
        entry = {COMPANY_KEY: company_entry(company)} if company is not None else {}
        completed.append({**contact, **entry})
    return completed


def read_companies(reader: Reader, ids: list[str]) -> dict[str, Json]:
    """The live companies among ``ids``, by id (one batch read per ``BATCH_LIMIT``; HubSpot
    answers 207 and lists an unknown id among its errors)."""
    found: dict[str, Json] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), BATCH_LIMIT):
        inputs = [{"id": value} for value in unique[start : start + BATCH_LIMIT]]
        body = {"properties": _COMPANY_PROPERTIES, "inputs": inputs}
        answer = reader.post_json("/crm/v3/objects/companies/batch/read", body)
        found |= {str(company["id"]): company for company in _results(answer)}
    return found


def contacts_of(
    reader: Reader, spec: ObjectSpec, company_ids: list[str], properties: list[str]
) -> Iterator[list[Json]]:
    """Pages of the contacts whose primary company is one of ``company_ids``, in id order."""
    unique = list(dict.fromkeys(company_ids))
    for start in range(0, len(unique), BATCH_LIMIT):
        yield from _contacts_page_by_page(
            reader, spec, unique[start : start + BATCH_LIMIT], properties
        )


def _contacts_page_by_page(
    reader: Reader, spec: ObjectSpec, company_ids: list[str], properties: list[str]
) -> Iterator[list[Json]]:
    """Keyset paging (``hs_object_id GT`` the last id): never ``after``, so never the 10,000
    results a search can page through."""
    guard = LoopGuard(f"contacts of {len(company_ids)} companies")
    after_id = 0
    while True:
        guard.check(str(after_id))
        filters = [
            {"propertyName": PRIMARY_COMPANY_PROPERTY, "operator": "IN", "values": company_ids},
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(after_id)},
        ]
        body = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": properties,
            "limit": reader.page_size,
        }
        results = reader.search(spec, body)
        # Contacts emitted again beside their company: one without an id is left out here
        # (the contacts stream keeps it raw when it changes), and paging goes on by the ids.
        keyed = [contact for contact in results if object_id(contact) is not None]
        if keyed:
            yield keyed
        if len(results) < reader.page_size:
            return
        after_id = highest_id(results, f"contacts of {len(company_ids)} companies")


def _results(answer: Any) -> list[Json]:
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise FatalError("hubspot companies batch read: the answer has no list of results")
    return [r for r in results if isinstance(r, dict) and isinstance(r.get("id"), str | int)]
