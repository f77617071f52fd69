"""``sync hubspot --full`` retires the contacts, companies and deals HubSpot no longer has.

A record HubSpot deleted for good (a GDPR delete, ``POST /crm/v3/objects/contacts/gdpr-delete``,
never goes to the recycle bin; others are purged from it after 90 days) is listed by neither the
search nor the archived listing, and answers 404 ``OBJECT_NOT_FOUND``. When the one webhook that
announced it was not subscribed or was lost past HubSpot's retries, only the runner's
reconciliation finds it: after a listing from the top, each stored record it did not bring is
looked up by id (as for Stripe and Shopify).
"""

from __future__ import annotations

import time

import httpx

from context_service.store import Store
from context_service.sync import IngestContext, run_sync
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot

HOUR = 3600.0
TYPES = {"contact": "contacts", "company": "companies", "deal": "deals"}


def next_second() -> None:
    """Records are stamped to the second: start the next run in a later one."""
    time.sleep(1.01 - time.time() % 1)


def deleted(store: Store, kind: str, external_id: str) -> int:
    row = store.conn.execute(
        "SELECT deleted FROM records WHERE source = 'hubspot' AND kind = ? AND external_id = ?",
        (kind, external_id),
    ).fetchone()
    return int(row[0])


def purge(fake: FakeHubSpot, kind: str, external_id: str) -> None:
    """Deleted for good in HubSpot: not live, not archived, 404 ``OBJECT_NOT_FOUND``."""
    del fake.objects[TYPES[kind]][external_id]
    fake._sorted.clear()
    fake._values.clear()


def synced(store: Store, ctx: IngestContext) -> tuple[FakeHubSpot, list[str]]:
    fake = FakeHubSpot()
    people = populate(fake, contacts=3)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    fake.clock += 2 * HOUR
    next_second()
    return fake, people


def test_a_full_sync_retires_what_hubspot_deleted_for_good(
    store: Store, ctx: IngestContext
) -> None:
    fake, people = synced(store, ctx)
    company = next(iter(fake.objects["companies"]))
    deal = next(iter(fake.objects["deals"]))
    for kind, external_id in [("contact", people[0]), ("company", company), ("deal", deal)]:
        purge(fake, kind, external_id)
    outcome = run_sync(store, fake.connector(), ctx, full=True)
    assert outcome.status == "ok", outcome.error
    assert deleted(store, "contact", people[0]) == 1, "the purged contact is still live"
    assert deleted(store, "company", company) == 1
    assert deleted(store, "deal", deal) == 1
    assert deleted(store, "contact", people[1]) == 0
    assert any("contacts: 1 no longer in hubspot" in note for note in outcome.notes)


def test_an_incremental_sync_looks_nothing_up(store: Store, ctx: IngestContext) -> None:
    fake, people = synced(store, ctx)
    purge(fake, "contact", people[0])
    before = len(fake.requests)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert deleted(store, "contact", people[0]) == 0  # left to the next full sync or webhook
    lookups = [r for r in fake.requests[before:] if r.url.path.endswith(f"/{people[0]}")]
    assert lookups == []


def test_a_record_changed_too_recently_to_be_listed_is_read_not_retired(
    store: Store, ctx: IngestContext
) -> None:
    """The search window ends 30 s before the run (HubSpot's index lags): a contact changed in
    those seconds is missing from the listing but live, so its lookup stores it."""
    fake, people = synced(store, ctx)
    fake.touch("contacts", people[0], int(fake.now() * 1000) - 5_000, firstname="Recent")
    assert run_sync(store, fake.connector(), ctx, full=True).status == "ok"
    assert deleted(store, "contact", people[0]) == 0
    payload = store.conn.execute(
        "SELECT payload FROM records WHERE kind = 'contact' AND external_id = ?", (people[0],)
    ).fetchone()[0]
    assert "Recent" in payload


def test_a_lookup_answered_by_a_proxy_404_retires_nothing(store: Store, ctx: IngestContext) -> None:
    """The run stops with the reason, and the next one finishes the retirement."""
    fake, people = synced(store, ctx)
    purge(fake, "contact", people[0])

    def proxy(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/crm/v3/objects/contacts/{people[0]}":
            return httpx.Response(404, html="<html>404 Not Found</html>")
        return fake.handler(request)

    client = httpx.Client(transport=httpx.MockTransport(proxy))
    failed = run_sync(store, fake.connector(client), ctx, full=True)
    assert failed.status == "failed"
    assert "OBJECT_NOT_FOUND" in (failed.error or "")
    assert deleted(store, "contact", people[0]) == 0
    resumed = run_sync(store, fake.connector(), ctx)
    assert resumed.status == "ok", resumed.error
    assert deleted(store, "contact", people[0]) == 1
