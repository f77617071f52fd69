"""An id counts for its own records, through chains of merges, vendor merges and deletions.

* Ann merged into Bo, Bo into Cy, Ann split off again: Bo's old id names Bo, not Ann (an
  alias remembers only the records that were its own, not those it had taken over).
* Shopify merges Maya's duplicate customer into her main one, then an operator splits a
  wrongly linked Zendesk user off her profile: Maya's id stays with her Shopify customer (the
  duplicate's id follows that customer; it did not take it over from Maya's profile).
* Maya's records wrongly merged into Xavier's older profile, her Shopify customer deleted, her
  HubSpot contact split off again: Shopify's ``customers/redact`` for the deleted customer
  erases Maya, not Xavier, and erasing Xavier leaves Maya's tombstone alone (a departed record
  counts for the id it counted for while a member, which follows the person's records).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from context_service.identity import decisions
from context_service.models import RecordKey
from context_service.store import Store, profiles
from context_service.store.records import get_record
from context_service.sync import IngestContext, RawPayload, apply_pending, ingest_batch, receive
from context_service.sync.decide import apply_decision
from context_service.trust.erasure import erase_profiles
from context_service.trust.suppression import Guard
from tests.conftest import Ingest
from tests.identity_helpers import pid, rid, write
from tests.integrations.shopify.fake import FakeShopify
from tests.payloads import hubspot_contact, shopify_customer, zendesk_user
from tests.review_fixtures import AUTH, app_client

# --- alias chains -------------------------------------------------------------------------------

CY = RecordKey("shopify", "customer", "1")
BO = RecordKey("hubspot", "contact", "2")
ANN1 = RecordKey("zendesk", "user", "3")
ANN2 = RecordKey("shopify", "customer", "4")
ANN_RECORDS = [
    {"source": "zendesk", "kind": "user", "external_id": "3"},
    {"source": "shopify", "kind": "customer", "external_id": "4"},
]


def _three_people(ingest: Ingest, store: Store) -> tuple[str, str, str]:
    """Cy (oldest), Bo and Ann (two records): their profile ids, oldest first."""
    ingest(shopify_customer(1, "cy@example.com", "Cy", "Moss"))
    ingest(hubspot_contact("2", "bo@example.com", "Bo", "Park"))
    ingest(
        zendesk_user(3, "Ann Lee", "ann@example.com"),
        shopify_customer(4, "ann@example.com", "Ann", "Lee"),
    )
    cy, bo, ann = pid(store, CY), pid(store, BO), pid(store, ANN1)
    assert ann == pid(store, ANN2)
    assert len({ann, bo, cy}) == 3
    return cy, bo, ann


def _merge(store: Store, ctx: IngestContext, ids: list[str]) -> str:
    result = apply_decision(
        store, ctx, lambda conn, now: decisions.merge_profiles(conn, ids, "api", now, "US")
    )
    return str(result.profile_id)


def _split(store: Store, ctx: IngestContext, profile_id: str, keys: list[RecordKey]) -> None:
    apply_decision(
        store,
        ctx,
        lambda conn, now: decisions.split_profile(conn, profile_id, keys, "api", now, "US"),
    )


def test_a_chain_of_merges_split_again_leaves_each_id_with_its_own_records(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    cy, bo, ann = _three_people(ingest, store)
    assert _merge(store, ctx, [ann, bo]) == bo
    assert _merge(store, ctx, [bo, cy]) == cy
    _split(store, ctx, cy, [ANN1, ANN2])
    assert pid(store, CY) == pid(store, BO) == cy
    assert profiles.canonical_id(store.conn, bo) == cy  # Bo's record stayed with Cy
    assert profiles.canonical_id(store.conn, ann) == pid(store, ANN1) != cy
    # Bo's id remembers Bo's record alone: Ann's are her own id's to remember.
    remembered = store.conn.execute(
        "SELECT record_id FROM profile_alias_members WHERE alias = ?", (bo,)
    ).fetchall()
    assert [row[0] for row in remembered] == [rid(store, BO)]


def test_a_chain_split_bo_off_the_end_takes_bo_id_with_him(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    cy, bo, ann = _three_people(ingest, store)
    _merge(store, ctx, [ann, bo])
    _merge(store, ctx, [bo, cy])
    _split(store, ctx, cy, [BO])
    assert profiles.canonical_id(store.conn, bo) == pid(store, BO) != cy
    assert profiles.canonical_id(store.conn, ann) == cy == pid(store, ANN1)


def test_bo_old_id_over_http_shows_bo_and_erases_bo(store: Store, ingest: Ingest) -> None:
    cy, bo, ann = _three_people(ingest, store)
    with app_client(store.path, store=store) as client:
        for body in ({"profile_ids": [ann, bo]}, {"profile_ids": [bo, cy]}):
            assert client.post("/v1/profiles/merge", json=body, headers=AUTH).status_code == 200
        split = client.post(f"/v1/profiles/{cy}/split", headers=AUTH, json={"records": ANN_RECORDS})
        assert split.status_code == 200, split.text
        got = client.get(
            "/v1/context", params={"profile_id": bo, "format": "json"}, headers=AUTH
        ).json()
        assert got["profile_id"] == cy
        assert got["identity"]["name"] != "Ann Lee"
        got_ann = client.get(
            "/v1/context", params={"profile_id": ann, "format": "json"}, headers=AUTH
        ).json()
        assert got_ann["identity"]["name"] == "Ann Lee"
        assert got_ann["profile_id"] != cy
        gone = client.delete(f"/v1/profiles/{bo}", headers=AUTH)
        assert gone.status_code == 200, gone.text
    assert get_record(store.conn, BO) is None
    assert get_record(store.conn, CY) is None  # Bo's id named Cy's profile, Bo with it
    assert get_record(store.conn, ANN1) is not None
    assert get_record(store.conn, ANN2) is not None


# --- a vendor merge, then a split -----------------------------------------------------------------

S1 = RecordKey("shopify", "customer", "1")
S2 = RecordKey("shopify", "customer", "2")
Z1 = RecordKey("zendesk", "user", "9")


@pytest.mark.parametrize("vendor_merge", [False, True])
def test_split_after_a_vendor_merge_leaves_maya_id_with_her_customer(
    store: Store, ctx: IngestContext, ingest: Ingest, vendor_merge: bool
) -> None:
    ingest(shopify_customer(1, "maya@example.com", "Maya", "Patel"))
    maya = pid(store, S1)
    ingest(zendesk_user(9, "Maya Patel", "maya@example.com"))
    assert pid(store, Z1) == maya
    ingest(shopify_customer(2, "maya.p@other.example", "Maya", "Patel"))
    dup = pid(store, S2)
    assert dup != maya
    if vendor_merge:  # Shopify customers/merge: 2 merged into 1
        gone = {"id": 2}
        merged = RawPayload(
            "shopify",
            "customer",
            gone,
            observed_at="2026-02-01T00:00:00Z",
            deleted=True,
            merged_into="1",
        )
        ingest_batch(store, [merged], ctx)
        assert profiles.canonical_id(store.conn, dup) == maya
    _split(store, ctx, maya, [Z1])
    assert profiles.canonical_id(store.conn, maya) == pid(store, S1) == maya
    assert pid(store, Z1) != maya
    if vendor_merge:  # the duplicate's id follows the customer it was merged into
        assert profiles.canonical_id(store.conn, dup) == maya


def test_a_vendor_merge_survivor_counts_for_its_profile_when_that_profile_merges_on(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    """Maya's profile, holding the survivor of a vendor merge, is merged into an older one
    and split off again: her id follows her customer (it remembers it as its own)."""
    ingest(zendesk_user(50, "Olga Berg", "olga@example.com"))
    older = pid(store, RecordKey("zendesk", "user", "50"))
    ingest(shopify_customer(1, "maya@example.com", "Maya", "Patel"))
    maya = pid(store, S1)
    ingest(shopify_customer(2, "maya.p@other.example", "Maya", "Patel"))
    dup = pid(store, S2)
    merged = RawPayload(
        "shopify",
        "customer",
        {"id": 2},
        observed_at="2026-02-01T00:00:00Z",
        deleted=True,
        merged_into="1",
    )
    ingest_batch(store, [merged], ctx)
    assert profiles.canonical_id(store.conn, dup) == maya
    assert _merge(store, ctx, [older, maya]) == older
    _split(store, ctx, older, [S1])
    assert profiles.canonical_id(store.conn, maya) == pid(store, S1) != older
    assert profiles.canonical_id(store.conn, dup) == pid(store, S1)


# --- an erasure request after a deletion and a split --------------------------------------------

URL = "https://context.example/v1/webhooks/shopify"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()
XAV = RecordKey("zendesk", "user", "55")
MAYA_SHOP = RecordKey("shopify", "customer", "7001")
MAYA_HUB = RecordKey("hubspot", "contact", "8")
REDACT = {
    "shop_id": 1,
    "shop_domain": "fake-shop.myshopify.com",
    "customer": {"id": 7001, "email": "maya@example.com", "phone": None},
    "orders_to_redact": [],
}


def _apply(store: Store, ctx: IngestContext, fake: FakeShopify, delivery: Any) -> None:
    headers, raw = delivery
    assert receive(store, fake.connector(), headers, raw, URL, NOW).status == "accepted"
    assert apply_pending(store, {"shopify": fake.connector()}, ctx) == 1


def _wrongly_merged_then_deleted(
    store: Store, ctx: IngestContext, ingest: Ingest, fake: FakeShopify, *, split: bool = True
) -> tuple[str, str]:
    """Xavier (older) and Maya merged by mistake; Shopify deletes Maya's customer; the operator
    splits Maya's HubSpot contact off again. Xavier's and Maya's old ids."""
    ingest(zendesk_user(55, "Xavier Quinn", "xq@example.com"))
    body = shopify_customer(
        7001, "maya@example.com", "Maya", "Patel", updated_at="2026-11-20T11:00:00Z"
    )[2]
    _apply(store, ctx, fake, fake.signed("customers/update", body))
    ingest(hubspot_contact("8", "maya@example.com", "Maya", "Patel"))
    xavier, maya = pid(store, XAV), pid(store, MAYA_SHOP)
    assert maya == pid(store, MAYA_HUB) != xavier
    assert _merge(store, ctx, [xavier, maya]) == xavier
    deleted = fake.signed("customers/delete", {"id": 7001}, triggered_at="2026-11-20T11:30:00Z")
    _apply(store, ctx, fake, deleted)
    assert get_record(store.conn, MAYA_SHOP) is not None  # a tombstone
    if split:
        _split(store, ctx, xavier, [MAYA_HUB])
        assert pid(store, XAV) == xavier != pid(store, MAYA_HUB)
        assert profiles.canonical_id(store.conn, maya) == pid(store, MAYA_HUB)
    return xavier, maya


def test_a_redaction_after_deletion_and_split_erases_maya_not_xavier(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    fake = FakeShopify()
    _wrongly_merged_then_deleted(store, ctx, ingest, fake)
    _apply(store, ctx, fake, fake.signed("customers/redact", REDACT))
    assert get_record(store.conn, XAV) is not None
    assert get_record(store.conn, MAYA_HUB) is None
    assert get_record(store.conn, MAYA_SHOP) is None


def test_a_redaction_after_deletion_without_a_split_erases_mayas_records_of_the_profile(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    """The service holds Xavier and Maya as one person until someone splits them, but the
    request names Maya's email (session 31): it erases the records of the profile holding it,
    not Xavier's, whose record holds another email (a merge may be a mistake, as here)."""
    fake = FakeShopify()
    _wrongly_merged_then_deleted(store, ctx, ingest, fake, split=False)
    _apply(store, ctx, fake, fake.signed("customers/redact", REDACT))
    assert get_record(store.conn, XAV) is not None
    for key in (MAYA_HUB, MAYA_SHOP):
        assert get_record(store.conn, key) is None


def _delete_hubspot_contact(store: Store, ctx: IngestContext) -> None:
    notice = RawPayload(
        "hubspot", "contact", {"id": "8"}, observed_at="2026-11-20T11:45:00Z", deleted=True
    )
    ingest_batch(store, [notice], ctx)
    assert profiles.profile_of_key(store.conn, MAYA_HUB) is None


def test_with_all_maya_records_deleted_before_any_split_xavier_is_not_erased(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    """Maya's id names no one once her records are gone, and nothing split her from Xavier's
    profile: the erasure request for her record reaches the profile she was in, where no
    record holds the email it names (session 31), so Xavier stays."""
    fake = FakeShopify()
    xavier, maya = _wrongly_merged_then_deleted(store, ctx, ingest, fake, split=False)
    _delete_hubspot_contact(store, ctx)
    assert profiles.canonical_id(store.conn, maya) is None
    _apply(store, ctx, fake, fake.signed("customers/redact", REDACT))
    assert pid(store, XAV) == xavier
    assert get_record(store.conn, MAYA_SHOP) is None


def test_with_all_maya_records_deleted_after_the_split_xavier_is_not_erased(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    fake = FakeShopify()
    xavier, _maya = _wrongly_merged_then_deleted(store, ctx, ingest, fake)
    _delete_hubspot_contact(store, ctx)
    _apply(store, ctx, fake, fake.signed("customers/redact", REDACT))
    assert pid(store, XAV) == xavier
    assert get_record(store.conn, MAYA_SHOP) is None
    when = "2026-11-21T00:00:00Z"
    write(store, erase_profiles, [xavier], requested_by="api", reason="x", now=when, region="US")
    assert get_record(store.conn, MAYA_HUB) is not None  # Maya's tombstone, not Xavier's


def _suppressed(store: Store, key: RecordKey) -> bool:
    guard = Guard.load(store.conn, "US")
    return guard is not None and guard.names_erased(key, [], [])


def test_erasing_xavier_after_the_split_leaves_maya_tombstone_and_erasing_maya_takes_it(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    fake = FakeShopify()
    xavier, maya = _wrongly_merged_then_deleted(store, ctx, ingest, fake)
    when = "2026-11-21T00:00:00Z"
    write(store, erase_profiles, [xavier], requested_by="api", reason="x", now=when, region="US")
    assert get_record(store.conn, XAV) is None
    assert get_record(store.conn, MAYA_SHOP) is not None
    assert not _suppressed(store, MAYA_SHOP)
    write(store, erase_profiles, [maya], requested_by="api", reason="m", now=when, region="US")
    assert get_record(store.conn, MAYA_SHOP) is None
    assert get_record(store.conn, MAYA_HUB) is None
    assert _suppressed(store, MAYA_SHOP)


def test_a_deleted_record_counts_for_the_id_that_took_it_over(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    fake = FakeShopify()
    _xavier, maya = _wrongly_merged_then_deleted(store, ctx, ingest, fake, split=False)
    assert profiles.left_profiles(store.conn, [rid(store, MAYA_SHOP)]) == {
        rid(store, MAYA_SHOP): maya
    }


# --- stores written before the fix (migration 0031) -----------------------------------------------


def _reopen_before_0031(store: Store, legacy: list[tuple[str, tuple[Any, ...]]]) -> Store:
    """Turn the store back into one written before migration 0031 (no ``taken_over`` columns),
    run ``legacy`` statements on it, and open it again (0031 runs)."""
    path = Path(store.path)
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        for table in ("profile_alias_members", "dormant_alias_members"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN taken_over")
        conn.execute("DELETE FROM _migrations WHERE name = '0031_alias_members_own_records'")
        for sql, params in legacy:
            conn.execute(sql, params)
    finally:
        conn.close()
    return Store(path)


def test_migration_0031_repairs_chain_memories_and_ids_already_misplaced(
    store: Store, ctx: IngestContext, ingest: Ingest, tmp_path: Path
) -> None:
    cy, bo, ann = _three_people(ingest, store)
    _merge(store, ctx, [ann, bo])
    _merge(store, ctx, [bo, cy])
    _split(store, ctx, cy, [ANN1, ANN2])
    ann_now = pid(store, ANN1)
    # As written before: Bo's id remembered Ann's records too, and the split sent it to Ann.
    legacy: list[tuple[str, tuple[Any, ...]]] = [
        (
            "INSERT OR IGNORE INTO profile_alias_members (alias, record_id) VALUES (?, ?)",
            (bo, rid(store, key)),
        )
        for key in (ANN1, ANN2)
    ]
    legacy.append(("UPDATE profile_aliases SET profile_id = ? WHERE alias = ?", (ann_now, bo)))
    reopened = _reopen_before_0031(store, legacy)
    try:
        conn = reopened.conn
        remembered = conn.execute(
            "SELECT record_id FROM profile_alias_members WHERE alias = ?", (bo,)
        ).fetchall()
        assert [row[0] for row in remembered] == [rid(reopened, BO)]
        assert profiles.canonical_id(conn, bo) == cy
        assert profiles.canonical_id(conn, ann) == ann_now
    finally:
        reopened.close()


def test_migration_0031_marks_a_vendor_merge_survivor_as_followed_not_taken_over(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "maya@example.com", "Maya", "Patel"))
    maya = pid(store, S1)
    ingest(zendesk_user(9, "Maya Patel", "maya@example.com"))
    ingest(shopify_customer(2, "maya.p@other.example", "Maya", "Patel"))
    dup = pid(store, S2)
    merged = RawPayload(
        "shopify",
        "customer",
        {"id": 2},
        observed_at="2026-02-01T00:00:00Z",
        deleted=True,
        merged_into="1",
    )
    ingest_batch(store, [merged], ctx)
    reopened = _reopen_before_0031(store, [])
    try:
        row = reopened.conn.execute(
            "SELECT taken_over FROM profile_alias_members WHERE alias = ?", (dup,)
        ).fetchone()
        assert row == (0,)
        apply_decision(
            reopened,
            ctx,
            lambda conn, now: decisions.split_profile(conn, maya, [Z1], "api", now, "US"),
        )
        assert profiles.canonical_id(reopened.conn, maya) == pid(reopened, S1)
    finally:
        reopened.close()


def test_migration_0031_points_a_departed_record_at_the_id_that_took_it_over(
    store: Store, ctx: IngestContext, ingest: Ingest
) -> None:
    fake = FakeShopify()
    xavier, maya = _wrongly_merged_then_deleted(store, ctx, ingest, fake, split=False)
    shop = rid(store, MAYA_SHOP)
    legacy = [("UPDATE departed_members SET profile_id = ? WHERE record_id = ?", (xavier, shop))]
    reopened = _reopen_before_0031(store, legacy)
    try:
        assert profiles.left_profiles(reopened.conn, [shop]) == {shop: maya}
    finally:
        reopened.close()
