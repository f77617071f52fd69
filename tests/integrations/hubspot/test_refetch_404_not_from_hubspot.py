"""Only HubSpot's own "object not found" deletes a stored record; any other 404 keeps it.

HubSpot answers a request for an object it does not have with 404 and a JSON body whose
``category`` is ``OBJECT_NOT_FOUND`` (developers.hubspot.com/docs/api-reference/error-handling).
A 404 page from an egress proxy, an API gateway's routing error or a wrong
``CONTEXT_SERVICE_HUBSPOT_BASE_URL`` says nothing about the object; taken for one, it would
delete every stored record a webhook names. Such a 404 leaves the delivery pending (tried again
later) and the data as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from context_service.errors import RetriableError
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from integrations.hubspot import HubSpotConnector
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import PORTAL_ID, FakeHubSpot

URL = "https://context.example.com/v1/webhooks/hubspot"

Answer = Callable[[httpx.Request], httpx.Response]


def proxy_page(request: httpx.Request) -> httpx.Response:
    return httpx.Response(404, html="<html><body><h1>404 Not Found</h1>nginx</body></html>")


def empty_body(request: httpx.Request) -> httpx.Response:
    return httpx.Response(404)


def other_category(request: httpx.Request) -> httpx.Response:
    body = {"status": "error", "message": "Resource not found", "category": "RESOURCE_NOT_FOUND"}
    return httpx.Response(404, json=body)


def behind(fake: FakeHubSpot, answer: Answer) -> HubSpotConnector:
    """A connector whose every request about a contact is answered by ``answer``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/crm/v3/objects/contacts/"):
            return answer(request)
        return fake.handler(request)

    transport = httpx.MockTransport(handler)
    return fake.connector(httpx.Client(transport=transport), portal_id=str(PORTAL_ID))


def contact_deleted(store: Store, contact_id: str) -> int:
    row = store.conn.execute(
        "SELECT deleted FROM records WHERE source = 'hubspot' AND kind = 'contact' "
        "AND external_id = ?",
        (contact_id,),
    ).fetchone()
    return int(row[0])


def property_change(fake: FakeHubSpot, contact_id: str) -> list[dict[str, object]]:
    return [
        {
            "eventId": 1,
            "subscriptionId": 2,
            "portalId": PORTAL_ID,
            "appId": 3,
            "occurredAt": int(fake.now() * 1000) - 1000,
            "subscriptionType": "contact.propertyChange",
            "attemptNumber": 0,
            "objectId": int(contact_id),
            "propertyName": "firstname",
            "propertyValue": "Persona",
        }
    ]


@pytest.mark.parametrize("answer", [proxy_page, empty_body, other_category])
def test_a_404_that_is_not_hubspots_object_not_found_deletes_nothing(
    store: Store, ctx: IngestContext, answer: Answer
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    misrouted = behind(fake, answer)
    headers, raw = fake.signed(property_change(fake, people[0]), URL)
    assert receive(store, misrouted, headers, raw, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"hubspot": misrouted}, ctx) == 0
    assert contact_deleted(store, people[0]) == 0
    status, error = store.conn.execute("SELECT status, error FROM webhook_inbox").fetchone()
    assert status == "pending"  # tried again later, once the route answers again
    assert "not HubSpot's OBJECT_NOT_FOUND" in error


def test_fetch_one_raises_instead_of_answering_gone() -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=1)
    with pytest.raises(RetriableError, match="CONTEXT_SERVICE_HUBSPOT_BASE_URL"):
        behind(fake, proxy_page).fetch_one("contact", people[0])


def test_hubspots_own_object_not_found_still_deletes_the_stored_contact(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    del fake.objects["contacts"][people[0]]  # gone for good: 404 OBJECT_NOT_FOUND, also archived
    connector = fake.connector()
    headers, raw = fake.signed(property_change(fake, people[0]), URL)
    receive(store, connector, headers, raw, URL, fake.now())
    assert apply_pending(store, {"hubspot": connector}, ctx) == 1
    assert contact_deleted(store, people[0]) == 1
