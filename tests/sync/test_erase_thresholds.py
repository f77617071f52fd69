"""A deletion re-clusters the profile's other members under the configured thresholds, the
same ones ingestion and ``resolve --all`` use: deleting an unrelated member never splits what
the configured link threshold keeps together."""

from __future__ import annotations

from pathlib import Path

import msgspec

from context_service.identity.pairs import Thresholds
from context_service.identity.rebuild import rebuild
from context_service.models import RecordKey
from context_service.snapshot.links import DashboardLinks
from context_service.store import Store
from context_service.store.records import get_record
from context_service.sync import IngestContext, RawPayload, apply_mapped, ingest_batch
from context_service.sync.erase import remove_records, remove_source
from context_service.wiring import default_mappers
from tests.identity_helpers import pid, write
from tests.payloads import hubspot_contact, shopify_customer, zendesk_user

# CONTEXT_SERVICE_IDENTITY_LINK_THRESHOLD=0.95: below the default 0.99
CONFIGURED = Thresholds(link=0.95, review=0.5)
SHOP, DESK = RecordKey("shopify", "customer", "1"), RecordKey("zendesk", "user", "9")
CONTACT = RecordKey("hubspot", "contact", "5")


def _load(tmp_path: Path) -> Store:
    """Maya's shop account, her first-name-only help desk user on her phone (p = 0.977: a link
    at 0.95, not at 0.99) and a HubSpot contact with her email."""
    store = Store(tmp_path / "t.db")
    ctx = IngestContext(mappers=default_mappers(), links=DashboardLinks(), thresholds=CONFIGURED)
    items = [
        shopify_customer(1, "maya.patel@example.com", "Maya", "Patel", "+1 415-555-0134"),
        zendesk_user(9, "Maya", phone="(415) 555-0134"),
        hubspot_contact("5", "maya.patel@example.com", "Maya", "Patel"),
    ]
    ingest_batch(store, [RawPayload(*item) for item in items], ctx)
    assert pid(store, SHOP) == pid(store, DESK)
    return store


def test_removing_a_member_keeps_what_the_configured_threshold_links(tmp_path: Path) -> None:
    store = _load(tmp_path)
    write(store, remove_records, {CONTACT: None}, "US", "2026-02-01T00:00:00Z", CONFIGURED)
    assert pid(store, SHOP) == pid(store, DESK)
    write(store, rebuild, "US", "2026-02-02T00:00:00Z", CONFIGURED)
    assert pid(store, SHOP) == pid(store, DESK)


def test_removing_a_source_keeps_what_the_configured_threshold_links(tmp_path: Path) -> None:
    store = _load(tmp_path)
    write(store, remove_source, "hubspot", "US", "2026-02-01T00:00:00Z", CONFIGURED)
    assert pid(store, SHOP) == pid(store, DESK)


def test_a_deletion_applied_alone_keeps_what_the_configured_threshold_links(
    tmp_path: Path,
) -> None:
    store = _load(tmp_path)
    stored = get_record(store.conn, CONTACT)
    assert stored is not None
    assert stored.mapped is not None
    deleted = msgspec.structs.replace(stored.mapped, deleted=True, person=None)
    write(
        store, apply_mapped, stored.id, deleted, "US", "2026-02-01T00:00:00Z", thresholds=CONFIGURED
    )
    assert pid(store, SHOP) == pid(store, DESK)
