"""A vendor's redaction request (Shopify ``customers/redact``) erases the whole person: every
source's records of her profile, her snapshot and identifiers, from the file, WAL and free
pages, and later syncs of her records are suppressed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

from litestar.testing import TestClient

from context_service.api import create_app
from context_service.demo import generate_demo
from context_service.store import Store
from context_service.sync import RawPayload, ingest_all
from context_service.wiring import ingest_context
from tests.conftest import DEMO_CUSTOMERS, TEST_KEY, make_settings
from tests.trust.helpers import MAYA, MAYA_PHONE, copy_demo
from tests.trust.test_erasure import _traces

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SECRET = "shpss_redaction_test_secret"


def _maya(db: Path) -> tuple[str, str, set[str]]:
    """Her profile id, her Shopify customer id and the sources her profile holds."""
    store = Store(db)
    try:
        rows = store.conn.execute(
            "SELECT m.profile_id, r.source, r.kind, r.external_id FROM identifiers i "
            "JOIN profile_members m ON m.record_id = i.record_id "
            "JOIN profile_members p ON p.profile_id = m.profile_id "
            "JOIN records r ON r.id = p.record_id WHERE i.kind = 'email' AND i.value = ?",
            (MAYA,),
        ).fetchall()
    finally:
        store.close()
    profile_id = rows[0][0]
    shopify = next(
        ext for _, source, kind, ext in rows if (source, kind) == ("shopify", "customer")
    )
    return profile_id, shopify, {source for _, source, _, _ in rows}


def _signed_redact(customer_id: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps(
        {
            "shop_id": 954889,
            "shop_domain": "context-demo.myshopify.com",
            "customer": {"id": int(customer_id), "email": MAYA, "phone": MAYA_PHONE},
            "orders_to_redact": [],
        }
    ).encode()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "customers/redact",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Webhook-Id": "redact-maya-1",
    }
    return headers, body


def test_shopify_redaction_erases_maya_from_every_source(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    profile_id, shopify_id, sources = _maya(db)
    assert {"shopify", "stripe", "hubspot"} <= sources  # one person known in several systems
    settings = make_settings(db, shopify_webhook_secret=SECRET)
    with TestClient(app=create_app(settings)) as client:
        headers, body = _signed_redact(shopify_id)
        answer = client.post("/v1/webhooks/shopify", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        for params in ({"email": MAYA}, {"phone": MAYA_PHONE}, {"profile_id": profile_id}):
            gone = client.get("/v1/context", params=params, headers=AUTH)
            assert gone.status_code == 404, params
    store = Store(db)
    try:
        left = store.conn.execute(
            "SELECT count(*) FROM records WHERE payload LIKE ? OR payload LIKE ?",
            ("%maya.patel%", "%Maya.Patel%"),
        ).fetchone()[0]
        assert left == 0  # her Stripe, HubSpot and Zendesk records too, not only Shopify's
        assert store.conn.execute("SELECT count(*) FROM suppressions").fetchone()[0] >= 3
    finally:
        store.close()
    assert _traces(db) == {}
    store = Store(db)
    try:
        demo = (RawPayload(p.source, p.kind, p.payload) for p in generate_demo(DEMO_CUSTOMERS))
        report = ingest_all(store, demo, ingest_context(settings))
    finally:
        store.close()
    assert report.suppressed >= len(sources)  # a later sync does not bring her back
