"""A source's first sync backfills every stream, so its run is recorded as ``full``, not as
``incremental``; a run that resumes from committed cursors is ``incremental``."""

from __future__ import annotations

from context_service.store import Store
from context_service.sync import IngestContext
from context_service.sync.runner import run_sync
from context_service.sync.status import sync_status
from tests.integrations.stripe.fake import FakeStripe


def test_the_first_sync_is_full_and_the_next_incremental(store: Store, ctx: IngestContext) -> None:
    fake = FakeStripe()
    fake.add_customers(2)
    first = run_sync(store, fake.connector(), ctx)
    assert (first.status, first.mode) == ("ok", "full")
    assert sync_status(store, [])["stripe"]["last_run"]["mode"] == "full"
    second = run_sync(store, fake.connector(), ctx)
    assert (second.status, second.mode) == ("ok", "incremental")
