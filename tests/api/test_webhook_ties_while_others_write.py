"""A delivery's records stored by another writer between its tie check and its write (two
workers, a webhook pass and a sync): only a copy of the same second as the delivery's own calls
for settling again, and a deletion notice's record counts as one of its records.

Payload shapes: HubSpot CRM v3 contacts and webhook events as ``FakeHubSpot`` serves them (see
the HubSpot section of ``shared/refdata/NOTES.md``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext
from context_service.sync.ingest import from_vendor
from context_service.sync.ties import settle_ties
from tests.another_writer import AfterFirstCall, ingest_elsewhere
from tests.api.webhook_deliveries import as_post_args, hubspot_event, hubspot_signed, inbox_rows
from tests.integrations.hubspot.fake import FakeHubSpot

Post = Callable[..., Any]


def _contact_gets(fake: FakeHubSpot) -> int:
    return sum(r.url.path.startswith("/crm/v3/objects/contacts/") for r in fake.requests)


def _store_current_copy(store: Store, fake: FakeHubSpot, ctx: IngestContext, cid: str) -> None:
    """What another applier does meanwhile, on its own connection: store HubSpot's copy."""
    obj = fake.connector().fetch_one("contact", cid)
    assert obj is not None
    ingest_elsewhere(store, [from_vendor("hubspot", obj)], ctx)


def test_a_newer_copy_stored_meanwhile_needs_no_second_settle(
    store: Store, post: Post, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer copy wins over the delivery's by date as it would have: settling the delivery
    again would only ask HubSpot for every contact a second time."""
    fake = FakeHubSpot()
    fake.clock = time.time()
    base = (int(time.time()) - 100) * 1000
    ids = [
        fake.add("contacts", base, email=f"c{n}@example.com", firstname="Max")["id"]
        for n in range(3)
    ]
    settles = 0

    def settle_then_a_newer_copy_lands(*args: Any, **kwargs: Any) -> Any:
        nonlocal settles
        settled = settle_ties(*args, **kwargs)
        settles += 1
        fake.touch("contacts", ids[0], base + 10_000 * settles, firstname=f"New{settles}")
        _store_current_copy(store, fake, ctx, ids[0])
        return settled

    monkeypatch.setattr("context_service.sync.webhooks.settle_ties", settle_then_a_newer_copy_lands)
    events = [
        hubspot_event(
            "contact.propertyChange",
            cid,
            base + 1,
            propertyName="firstname",
            propertyValue="Max",
            eventId=n + 1,
        )
        for n, cid in enumerate(ids)
    ]
    before = _contact_gets(fake)
    assert post("hubspot", fake, *as_post_args(hubspot_signed(fake, events))).status_code == 200
    assert settles == 1
    assert _contact_gets(fake) - before == 3 + 1  # the delivery's refetches, the other writer's
    assert [status for _, status in inbox_rows(store)] == ["applied"]
    for cid in ids[1:]:
        assert get_record(store.conn, RecordKey("hubspot", "contact", cid)) is not None
    first = get_record(store.conn, RecordKey("hubspot", "contact", ids[0]))
    assert first is not None
    assert first.mapped is not None
    assert first.mapped.person is not None
    assert first.mapped.person.first_name == "New1"


def test_a_restore_stored_after_a_deletions_tie_check_is_not_removed(
    store: Store, post: Post, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HubSpot archived the contact at S.100 and restored it at S.900. The deletion notice was
    checked against the older stored copy (no tie); then another applier stored the restored
    copy (dated S, the second kept); the deletion must not remove it: HubSpot is asked."""
    fake = FakeHubSpot()
    fake.clock = time.time()
    second = (int(time.time()) - 20) * 1000
    cid = fake.add("contacts", second - 10_000, email="max@example.com", firstname="Max")["id"]
    created = hubspot_event("contact.creation", cid, second - 10_000, eventId=1)
    assert post("hubspot", fake, *as_post_args(hubspot_signed(fake, [created]))).status_code == 200
    fake.archive("contacts", cid, second + 100)
    fake.restore("contacts", cid, second + 900)
    from context_service.sync import webhooks

    def check_then_the_restore_lands() -> None:
        _store_current_copy(store, fake, ctx, cid)

    wrapped = AfterFirstCall(webhooks._settle_removal_ties, check_then_the_restore_lands)

    monkeypatch.setattr("context_service.sync.webhooks._settle_removal_ties", wrapped)
    deletion = hubspot_event("contact.deletion", cid, second + 100, eventId=2)
    assert post("hubspot", fake, *as_post_args(hubspot_signed(fake, [deletion]))).status_code == 200
    assert wrapped.happened
    record = get_record(store.conn, RecordKey("hubspot", "contact", cid))
    assert record is not None
    assert not record.deleted
