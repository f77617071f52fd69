"""A redaction that comes after the vendor deleted the record (Shopify sends
``customers/redact`` days after ``customers/delete``): the deleted record holds no email any
more, so the email the request names picks the person's records of the profile it left. A
stranger's planted customer, deleted and then redacted, takes none of Maya's records; Maya's
own, the same way, takes all of hers. A request that names no email erases the profile the
record left whole, as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from context_service.models import RecordKey
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.sync.erase import erase_records, remove_records
from tests.payloads import shopify_customer
from tests.trust.helpers import copy_demo, profile_of_email

MAYA = "maya.patel@example.com"
EVE = "eve@evil.example"
EVE_KEY = RecordKey("shopify", "customer", "8880001")
DELETED = "2026-05-30T00:00:00Z"
NOW = "2026-06-01T00:00:00Z"


@pytest.fixture
def maya_store(demo_db: Path, tmp_path: Path) -> Any:
    store = Store(copy_demo(demo_db, tmp_path))
    yield store
    store.close()


def _held(store: Store, key: RecordKey) -> bool:
    row = store.conn.execute(
        "SELECT 1 FROM records WHERE source = ? AND kind = ? AND external_id = ? AND deleted = 0",
        (key.source, key.kind, key.external_id),
    ).fetchone()
    return row is not None


def _mayas(store: Store) -> list[RecordKey]:
    rows = store.conn.execute(
        "SELECT r.source, r.kind, r.external_id FROM records r JOIN identifiers i "
        "ON i.record_id = r.id WHERE i.kind = 'email' AND i.value = ?",
        (MAYA,),
    )
    return [RecordKey(*row) for row in rows]


def _delete_then_redact(
    store: Store, ctx: IngestContext, key: RecordKey, emails: list[str]
) -> None:
    with store.transaction() as conn:
        remove_records(conn, {key: DELETED}, "US", NOW, ctx.thresholds)
    with store.transaction() as conn:
        erase_records(conn, [key], "US", NOW, ctx.thresholds, links=ctx.links, emails=emails)


def test_a_planted_customer_deleted_then_redacted_takes_none_of_mayas_records(
    maya_store: Store, ctx: IngestContext
) -> None:
    maya = profile_of_email(maya_store, MAYA)
    payload = shopify_customer(8880001, EVE, "Maya", "Patel", "+1 415 555 0134")
    ingest_batch(maya_store, [RawPayload(*payload)], ctx)
    assert profile_of_email(maya_store, EVE) == maya
    mayas = _mayas(maya_store)
    _delete_then_redact(maya_store, ctx, EVE_KEY, [EVE])
    assert all(_held(maya_store, key) for key in mayas)
    assert lookup.by_email(maya_store.conn, MAYA).profile_id == maya


def test_mayas_own_customer_deleted_then_redacted_takes_every_record_of_hers(
    maya_store: Store, ctx: IngestContext
) -> None:
    mayas = _mayas(maya_store)
    shopify = next(key for key in mayas if key.source == "shopify" and key.kind == "customer")
    _delete_then_redact(maya_store, ctx, shopify, ["Maya.Patel@Example.com"])
    assert not any(_held(maya_store, key) for key in mayas)
    assert profile_of_email(maya_store, MAYA) is None


def test_a_request_naming_no_email_erases_the_profile_left_whole(
    maya_store: Store, ctx: IngestContext
) -> None:
    mayas = _mayas(maya_store)
    shopify = next(key for key in mayas if key.source == "shopify" and key.kind == "customer")
    _delete_then_redact(maya_store, ctx, shopify, [])
    assert not any(_held(maya_store, key) for key in mayas)
