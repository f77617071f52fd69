"""A colleague deactivated before the first sync is not shown as anyone's account owner.

Contacts keep naming an owner after HubSpot deactivates the user (``hubspot_owner_id`` is not
cleared), and the owners stream lists that owner only with ``archived=true``. A deletion stored
only for an owner already held would leave no record for one that left before the service first
synced, and the snapshot would show "HubSpot owner <id>" for every contact they still own.
"""

from __future__ import annotations

from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync import IngestContext, run_sync
from tests.integrations.hubspot.contract_case import populate
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.snapshots import snapshot_of

SAM = "41629779"  # the owner every populated contact names: Sam Rivera
HOUR_MS = 3_600_000


def owner_of(store: Store, ctx: IngestContext, contact_id: str) -> str | None:
    return snapshot_of(store.conn, RecordKey("hubspot", "contact", contact_id), ctx.links).crm.owner


def test_an_owner_deactivated_before_the_first_sync_is_not_named(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=2)
    fake.archive_owner(SAM, int(fake.now() * 1000) - HOUR_MS)  # left before we first synced
    outcome = run_sync(store, fake.connector(), ctx)
    assert outcome.status == "ok", outcome.error
    assert owner_of(store, ctx, people[0]) is None


def test_an_owner_reactivated_later_is_named_again(store: Store, ctx: IngestContext) -> None:
    fake = FakeHubSpot()
    people = populate(fake, contacts=1)
    fake.archive_owner(SAM, int(fake.now() * 1000) - HOUR_MS)
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    del fake.archived_owners[SAM]
    fake.add_owner(SAM, int(fake.now() * 1000), "sam@ourshop.example", "Sam", "Rivera")
    fake.clock += 60
    assert run_sync(store, fake.connector(), ctx).status == "ok"
    assert owner_of(store, ctx, people[0]) == "Sam Rivera"
