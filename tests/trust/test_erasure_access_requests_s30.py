"""An erasure keeps no vendor id of the person in their recorded access requests (Shopify
``customers/data_request``): the customer's id, the orders asked about and the request's own id
become digests, as on the suppression list, beside the blanked email and phone. What shows the
request was received and dealt with stays: the shop, when it came, its status."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import msgspec

from context_service.models import AccessRequest, RecordKey
from context_service.store import Store, access_requests
from context_service.sync.erase import erase_records
from context_service.sync.status import open_access_requests
from context_service.trust.erasure import erase_profile, owned_records
from tests.trust.helpers import MAYA, MAYA_PHONE, copy_demo, profile_of_email

SHOP = "demo.myshopify.com"
RECEIVED = "2026-12-01T00:00:00Z"
REQUEST_ID = "73019944120"  # Shopify's id of her data request
OTHERS_REQUEST_ID = "73019944999"


def _hers(store: Store, profile_id: str) -> tuple[str, list[tuple[str, str]]]:
    """Maya's Shopify customer id and the vendor ids of her Shopify orders."""
    rows = store.conn.execute(
        "SELECT r.source, r.kind, r.external_id FROM records r "
        "JOIN profile_members m ON m.record_id = r.id WHERE m.profile_id = ?",
        (profile_id,),
    ).fetchall()
    keys = [RecordKey(*row) for row in rows]
    (customer,) = [k.external_id for k in keys if (k.source, k.kind) == ("shopify", "customer")]
    owned = owned_records(store.conn, keys)
    marks = ",".join("?" * len(owned))
    orders = store.conn.execute(
        f"SELECT kind, external_id FROM records WHERE source = 'shopify' AND id IN ({marks})",
        owned,
    ).fetchall()
    assert orders
    return customer, [(str(kind), str(ext)) for kind, ext in orders]


def _someone_else(store: Store, profile_id: str) -> tuple[str, str]:
    """Another Shopify customer's id and email."""
    row = store.conn.execute(
        "SELECT r.external_id, i.value FROM records r "
        "JOIN profile_members m ON m.record_id = r.id "
        "JOIN identifiers i ON i.record_id = r.id AND i.kind = 'email' "
        "WHERE r.source = 'shopify' AND r.kind = 'customer' AND m.profile_id != ? LIMIT 1",
        (profile_id,),
    ).fetchone()
    return str(row[0]), str(row[1])


def _holds(db: Path, needle: str) -> list[str]:
    """The files of the database (main, -wal) that hold ``needle`` as bytes."""
    files = [db, Path(f"{db}-wal")]
    pattern = re.escape(needle.encode())
    return [f.name for f in files if f.exists() and re.search(pattern, f.read_bytes())]


def _rows(db: Path) -> dict[str, tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT account, request_id, kind, external_id, email, phone, records, received_at, "
            "status FROM access_requests"
        ).fetchall()
    finally:
        conn.close()
    return {str(row[0]): row for row in rows}


def test_erasing_her_leaves_no_vendor_id_of_her_data_request(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    store = Store(db)
    profile_id = profile_of_email(store, MAYA)
    assert profile_id is not None
    customer, orders = _hers(store, profile_id)
    other, other_email = _someone_else(store, profile_id)
    hers = AccessRequest(
        kind="customer",
        external_id=customer,
        request_id=REQUEST_ID,
        account=SHOP,
        email=MAYA,
        phone=MAYA_PHONE,
        records=orders,
    )
    others = AccessRequest(
        kind="customer",
        external_id=other,
        request_id=OTHERS_REQUEST_ID,
        account="other.myshopify.com",
        email=other_email,
    )
    with store.transaction() as conn:
        for request in (hers, others):
            access_requests.add(conn, "shopify", request, RECEIVED, None)
    needles = [customer, REQUEST_ID, *(ext for _, ext in orders)]
    assert all(_holds(db, needle) for needle in needles)  # there before the erasure
    report = erase_profile(
        store,
        profile_id,
        requested_by="test",
        reason="GDPR request",
        now="2026-12-02T00:00:00Z",
        region="US",
    )
    listed = {r["account"]: r for r in open_access_requests(store.conn)}
    suppressed = {
        str(digest): str(erasure)
        for digest, erasure in store.conn.execute("SELECT digest, erasure_id FROM suppressions")
    }
    store.close()

    for needle in needles:
        assert _holds(db, needle) == [], needle
    rows = _rows(db)
    _, request_id, kind, external_id, email, phone, records, received, status = rows[SHOP]
    assert (kind, email, phone, received, status) == ("customer", None, None, RECEIVED, "open")
    assert isinstance(request_id, str)
    assert request_id.startswith("erased:")
    # The customer's id is replaced by her own suppression entry: it names her erasure.
    assert isinstance(external_id, str)
    assert external_id.startswith("erased:")
    assert suppressed[external_id.removeprefix("erased:")] == report.erasure_id
    asked = listed[SHOP]["records"]
    assert [k for k, _ in asked] == [k for k, _ in orders]
    assert all(suppressed[ext.removeprefix("erased:")] == report.erasure_id for _, ext in asked)
    assert isinstance(records, str)
    assert customer not in records
    # Still listed for the operator, as nothing stored about her.
    assert listed[SHOP]["profile_id"] is None
    # Someone else's request is untouched.
    assert rows["other.myshopify.com"][1:6] == (
        OTHERS_REQUEST_ID,
        "customer",
        other,
        other_email,
        None,
    )
    assert listed["other.myshopify.com"]["profile_id"] is not None


def test_a_redaction_digests_a_request_naming_the_customer_by_a_short_id(
    store: Store,
) -> None:
    """A customer never synced (nothing held, no email kept with the request): the vendor's
    redaction of her id still leaves no trace of it in her request, however short."""
    with store.transaction() as conn:
        request = AccessRequest(
            kind="customer",
            external_id="4321",
            request_id="77",
            account=SHOP,
            records=[("order", "12")],
        )
        access_requests.add(conn, "shopify", request, RECEIVED, None)
        erase_records(conn, [RecordKey("shopify", "customer", "4321")], "US", RECEIVED)
    (row,) = store.conn.execute(
        "SELECT request_id, external_id, records, status FROM access_requests"
    ).fetchall()
    request_id, external_id, records, status = row
    assert status == "open"
    assert request_id.startswith("erased:")
    assert external_id.startswith("erased:")
    ((kind, order),) = msgspec.json.decode(records)
    assert kind == "order"
    assert order.startswith("erased:")
