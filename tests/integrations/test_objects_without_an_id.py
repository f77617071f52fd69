"""One vendor object without an id on a sync page: kept raw and reported, the rest goes on.

Refusing the page (as the connectors used to) dropped its good objects, skipped every later
stream, and did so again on every run, since the cursor could not move past it: the source was
stuck. Ingest stores an object it cannot map raw, as rejected, keyed by a hash of its payload
(``sync.ingest._fallback_id``), and the run reports it; paging needs the id only where it goes
on from an object (Stripe's ``starting_after``, HubSpot's ``hs_object_id`` tie-break), and
there it goes on from the page's last object that has one, without losing or repeating a
record. Objects are stripped of their id in the vendor's answer, as a fake would never serve.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from context_service.store import Store
from context_service.sync import IngestContext, SyncOutcome, run_sync
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.shopify.fake import FakeShopify
from tests.integrations.stripe.fake import FakeStripe
from tests.integrations.zendesk.fake import FakeZendesk

Json = dict[str, Any]
Handler = Callable[[httpx.Request], httpx.Response]


def without_id(
    handler: Handler, path: Callable[[str], bool], victim: Callable[[Json], bool], *, null: bool
) -> httpx.Client:
    """A client on ``handler`` whose answers to ``path`` lose the id of each listed ``victim``
    (``null``: ``"id": null``; else no ``id`` at all)."""

    def strip(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        if not path(request.url.path) or not response.is_success:
            return response
        body = json.loads(response.content)
        for listed in body.values():
            for item in listed if isinstance(listed, list) else []:
                if isinstance(item, dict) and victim(item):
                    item.pop("id", None)
                    if null:
                        item["id"] = None
        return httpx.Response(response.status_code, json=body, headers=response.headers)

    return httpx.Client(transport=httpx.MockTransport(strip))


def keys(store: Store, kind: str) -> tuple[set[str], set[str]]:
    """The ids of the stored records of ``kind`` that mapped, and of those kept raw."""
    rows = store.conn.execute(
        "SELECT external_id, error IS NOT NULL FROM records WHERE kind = ?", (kind,)
    ).fetchall()
    return {key for key, raw in rows if not raw}, {key for key, raw in rows if raw}


def assert_kept_raw_once(outcome: SyncOutcome, store: Store, kind: str) -> None:
    assert outcome.status == "ok", outcome.error
    _, raw = keys(store, kind)
    assert len(raw) == 1
    assert next(iter(raw)).startswith("sha256:")
    assert outcome.report.rejected == 1  # reported once, though read again at a page boundary
    assert [r.external_id for r in outcome.report.rejections] == list(raw)


# --- Zendesk ---------------------------------------------------------------------------------


def test_a_zendesk_user_without_an_id_is_kept_raw_and_the_rest_syncs(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=2, users=6, tickets=4)
    victim = fake.users[384003]["email"]
    client = without_id(
        fake.handler,
        lambda p: "/incremental/users/" in p,
        lambda o: o.get("email") == victim,
        null=False,
    )
    first = run_sync(store, fake.connector(client=client, page_size=2), ctx)
    assert_kept_raw_once(first, store, "user")
    mapped, _ = keys(store, "user")
    assert mapped == {str(user) for user in fake.users if user != 384003}
    assert keys(store, "ticket")[0] == {str(ticket) for ticket in fake.tickets}  # later stream
    again = run_sync(store, fake.connector(client=client, page_size=2), ctx)
    assert again.status == "ok", again.error  # not stuck: the cursor moved past it
    assert len(keys(store, "user")[1]) == 1


def test_a_zendesk_organization_without_an_id_in_a_second_read_twice_is_taken_once(
    store: Store, ctx: IngestContext
) -> None:
    """The time-based export hands back its last second again; an object without an id there
    is new every time unless it is recognised, and the export would loop on that second."""
    fake = FakeZendesk()
    second = int(fake.clock) - 3600
    fake.put_organization(1, "Alpha", second - 1)
    fake.put_organization(2, "Beta", second)
    fake.put_organization(3, "Gamma", second)
    client = without_id(
        fake.handler,
        lambda p: "/incremental/organizations" in p,
        lambda o: o.get("name") == "Gamma",
        null=False,
    )
    outcome = run_sync(store, fake.connector(client=client, page_size=2), ctx)
    assert_kept_raw_once(outcome, store, "organization")
    assert keys(store, "organization")[0] == {"1", "2"}


def test_a_zendesk_member_without_an_id_is_kept_raw(store: Store, ctx: IngestContext) -> None:
    fake = FakeZendesk()
    fake.populate(organizations=1, users=3, tickets=0)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    org = next(iter(fake.organizations))
    fake.clock += 3600
    fake.update("organization", org, name="Renamed")
    fake.clock += 120
    victim = fake.users[384002]["email"]
    client = without_id(
        fake.handler,
        lambda p: p.endswith("/users.json") and "/organizations/" in p,
        lambda o: o.get("email") == victim,
        null=False,
    )
    outcome = run_sync(store, fake.connector(client=client), ctx)
    assert_kept_raw_once(outcome, store, "user")


# --- Stripe ----------------------------------------------------------------------------------


def _stripe_strip_one(fake: FakeStripe, position: int) -> tuple[httpx.Client, list[str]]:
    """A client whose customer listings lose the id of the customer at ``position`` of the
    first page (wherever it is listed later), and the victim's id once known."""
    victim: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        if request.url.path != "/v1/customers":
            return response
        body = json.loads(response.content)
        if not victim:
            victim.append(body["data"][position]["id"])
        for obj in body["data"]:
            if obj.get("id") == victim[0]:
                del obj["id"]
        return httpx.Response(response.status_code, json=body, headers=response.headers)

    return httpx.Client(transport=httpx.MockTransport(handler)), victim


def test_a_stripe_customer_without_an_id_ending_a_page_is_kept_raw_and_paging_goes_on(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeStripe()
    customers = fake.add_customers(8)
    client, victim = _stripe_strip_one(fake, position=2)  # the last of a page of 3
    outcome = run_sync(store, fake.connector(client=client, page_size=3), ctx)
    assert_kept_raw_once(outcome, store, "customer")
    assert keys(store, "customer")[0] == set(customers) - set(victim)  # none lost
    listed = [r.url.params for r in fake.requests if r.url.path == "/v1/customers"]
    first_page_ids = sorted(customers, reverse=True)[:3]  # Stripe lists newest first
    assert listed[1]["starting_after"] == first_page_ids[1]  # on from the last with an id
    assert any(r.url.path == "/v1/invoices" for r in fake.requests)  # later streams ran
    assert run_sync(store, fake.connector(client=client, page_size=3), ctx).status == "ok"


def test_a_stripe_customer_without_an_id_inside_a_page_is_kept_raw(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeStripe()
    customers = fake.add_customers(5)
    client, victim = _stripe_strip_one(fake, position=1)
    outcome = run_sync(store, fake.connector(client=client, page_size=3), ctx)
    assert_kept_raw_once(outcome, store, "customer")
    assert keys(store, "customer")[0] == set(customers) - set(victim)


# --- HubSpot ---------------------------------------------------------------------------------


def _contacts(fake: FakeHubSpot, stamps: list[int]) -> list[str]:
    return [
        fake.add("contacts", stamp, email=f"c{i}@example.com", firstname=f"C{i}")["id"]
        for i, stamp in enumerate(stamps)
    ]


def _search_client(fake: FakeHubSpot, victim_email: str) -> httpx.Client:
    return without_id(
        fake.handler,
        lambda p: p.endswith("/contacts/search"),
        lambda o: (o.get("properties") or {}).get("email") == victim_email,
        null=True,
    )


def test_a_hubspot_contact_without_an_id_is_kept_raw_and_the_rest_syncs(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    base = int(fake.clock * 1000) - 3_600_000
    ids = _contacts(fake, [base + i * 1000 for i in range(5)])
    client = _search_client(fake, "c1@example.com")
    outcome = run_sync(store, fake.connector(client=client, page_size=2), ctx)
    assert_kept_raw_once(outcome, store, "contact")
    assert keys(store, "contact")[0] == set(ids) - {ids[1]}
    assert run_sync(store, fake.connector(client=client, page_size=2), ctx).status == "ok"


def test_a_hubspot_contact_without_an_id_ending_a_tie_break_page_loses_and_repeats_nothing(
    store: Store, ctx: IngestContext
) -> None:
    """Seven contacts share one millisecond, pages hold three: the tie-break pages by
    ``hs_object_id``. The third contact in id order ends the first such page without an id, so
    the next page goes on from the second one's id: it brings the third again (not emitted
    twice), and then every contact after it."""
    fake = FakeHubSpot()
    stamp = int(fake.clock * 1000) - 3_600_000
    ids = _contacts(fake, [stamp] * 7)
    in_order = sorted(ids, key=int)
    victim = fake.objects["contacts"][in_order[2]]["properties"]["email"]
    client = _search_client(fake, victim)
    outcome = run_sync(store, fake.connector(client=client, page_size=3), ctx)
    assert_kept_raw_once(outcome, store, "contact")
    assert keys(store, "contact")[0] == set(ids) - {in_order[2]}
    after_ids = [
        f["value"]
        for r in fake.requests
        if r.url.path.endswith("/contacts/search")
        for f in json.loads(r.content)["filterGroups"][0]["filters"]
        if f["propertyName"] == "hs_object_id"
    ]
    assert in_order[1] in after_ids  # went on from the last id before it


def test_hubspot_owners_and_archived_records_without_an_id_do_not_stop_the_source(
    store: Store, ctx: IngestContext
) -> None:
    """A live owner without an id is kept raw; an archived owner or contact without one names
    nothing to delete, so it is left out, and the run's note says so."""
    fake = FakeHubSpot()
    now = int(fake.clock * 1000)
    fake.add_owner("9001", now - 7_200_000, "ann@example.com", "Ann", "A")
    fake.add_owner("9002", now - 7_200_000, "bob@example.com", "Bob", "B")
    fake.add_owner("9003", now - 7_200_000, "cid@example.com", "Cid", "C")
    fake.archive_owner("9003", now - 3_600_000)
    ids = _contacts(fake, [now - 3_600_000 + i for i in range(3)])
    fake.archive("contacts", ids[0], now - 1_800_000)
    gone = {"bob@example.com", "cid@example.com"}

    def victim(obj: Json) -> bool:
        return obj.get("email") in gone or (obj.get("archived") is True and "email" not in obj)

    client = without_id(
        fake.handler,
        lambda p: p == "/crm/v3/owners" or p == "/crm/v3/objects/contacts",
        victim,
        null=False,
    )
    outcome = run_sync(store, fake.connector(client=client), ctx)
    assert_kept_raw_once(outcome, store, "owner")  # Bob, live; Cid's deactivation left out
    assert keys(store, "owner")[0] == {"9001"}
    assert keys(store, "contact")[0] == set(ids[1:])
    assert any("without an id" in note for note in outcome.notes)


# --- Shopify ---------------------------------------------------------------------------------


def test_a_shopify_customer_node_with_a_null_id_is_kept_raw_and_the_rest_syncs(
    store: Store, ctx: IngestContext
) -> None:
    """Shopify pages by its opaque ``endCursor``, so a node whose ``id`` is null (not withheld:
    that one is skipped and noted) needs no special paging: it is kept raw like any other."""
    fake = FakeShopify()
    customers = fake.add_customers(5)
    fake.add_orders(3)
    victim = fake.customers[customers[1]]["email"]

    def handler(request: httpx.Request) -> httpx.Response:
        response = fake.handler(request)
        body = json.loads(response.content)
        nodes = ((body.get("data") or {}).get("customers") or {}).get("nodes") or []
        for node in nodes:
            if isinstance(node, dict) and node.get("email") == victim:
                node["id"] = None
        return httpx.Response(response.status_code, json=body, headers=response.headers)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    outcome = run_sync(store, fake.connector(client=client, page_size=2), ctx)
    assert_kept_raw_once(outcome, store, "customer")
    assert keys(store, "customer")[0] == {str(c) for c in customers if c != customers[1]}
    assert keys(store, "order")[0]  # the stream after it ran
