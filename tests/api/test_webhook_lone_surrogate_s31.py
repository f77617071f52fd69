"""A correctly signed delivery whose JSON escapes a lone surrogate (``"\\ud800@x.com"``) is
"correctly signed but unreadable": 422 and kept raw as one ``rejected`` delivery, for every
vendor. It used to be accepted (200), then failed when applied (SQLite cannot store the text),
and ``webhooks retry --all-failed`` failed on it forever; one already stored so is rejected
when applied now, not failed again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from context_service.store import Store
from context_service.store import inbox as inbox_store
from context_service.sync import IngestContext, apply_pending, utc_now
from context_service.sync.delivery_headers import unpaired_surrogate
from tests.api.webhook_deliveries import (
    VENDORS,
    hubspot_event,
    inbox_errors,
    inbox_rows,
    iso_at,
    record_count,
    signed_raw,
    vendor_fake,
)
from tests.integrations.shopify.fake import FakeShopify
from tests.payloads import shopify_customer, stripe_customer, stripe_event

LONE = "\ud800"


def _body(source: str, now: float, fake: Any) -> bytes:
    """A delivery of the vendor's own shape whose email escapes a lone surrogate."""
    email = LONE + "@x.com"
    if source == "shopify":
        shape: Any = shopify_customer(7001, email, "Max", "Roe", updated_at=iso_at(now - 5))[2]
    elif source == "stripe":
        customer = stripe_customer("cus_7001", email, "Max Roe")[2]
        shape = stripe_event("evt_lone", "customer.updated", customer, int(now) - 5)
    elif source == "hubspot":  # a batch: the readable event goes with it (see the report)
        good = hubspot_event("contact.creation", "801", int(now * 1000) - 5000)
        bad = hubspot_event(
            "contact.propertyChange",
            "802",
            int(now * 1000) - 4000,
            propertyName="email",
            propertyValue=email,
        )
        shape = [good, bad]
    else:
        shape = fake.event("user.updated", 384_001, at=now - 5, email=email)
    body = json.dumps(shape).encode()  # ensure_ascii: the surrogate travels as \ud800
    assert b"\\ud800" in body
    return body


@pytest.mark.parametrize("source", VENDORS)
def test_a_signed_body_with_a_lone_surrogate_is_422_and_kept_raw_once(
    store: Store, post: Callable[..., Any], source: str
) -> None:
    fake = vendor_fake(source)
    now = time.time()
    body = _body(source, now, fake)
    response = post(source, fake, body, signed_raw(source, fake, body, now))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "surrogate" in response.json()["detail"]
    assert inbox_rows(store) == [("unparseable", "rejected")]
    assert "surrogate" in (inbox_errors(store)[0] or "")
    kept = store.conn.execute("SELECT body FROM webhook_inbox").fetchone()[0]
    assert bytes(kept) == body
    retry = post(source, fake, body, signed_raw(source, fake, body, now + 1))
    assert retry.status_code == 422
    assert inbox_rows(store) == [("unparseable", "rejected")]
    assert record_count(store) == 0


def test_a_stored_delivery_with_a_lone_surrogate_is_rejected_when_applied_not_failed(
    store: Store, ctx: IngestContext
) -> None:
    """A delivery accepted before this check (a store of an older version) is settled
    ``rejected`` by the next pass, so ``webhooks retry --all-failed`` no longer meets it."""
    fake = FakeShopify()
    now = time.time()
    body = _body("shopify", now, fake)
    headers = {k.lower(): v for k, v in signed_raw("shopify", fake, body, now).items()}
    with store.transaction() as conn:
        inbox_id = inbox_store.add_delivery(
            conn, "shopify", "customers/update", body, headers, ["wh-lone"], utc_now()
        )
    assert apply_pending(store, {"shopify": fake.connector()}, ctx) == 0
    status, error = store.conn.execute(
        "SELECT status, error FROM webhook_inbox WHERE id = ?", (inbox_id,)
    ).fetchone()
    assert status == "rejected"
    assert "surrogate" in error
    assert inbox_store.failed_ids(store.conn, "shopify") == []
    assert record_count(store) == 0


@pytest.mark.parametrize(
    ("body", "lone"),
    [
        (b'{"a":"\\ud800@x.com"}', True),
        (b'{"a":"\\uDC00"}', True),  # a low half alone
        (b'{"\\ud800":1}', True),  # in a key
        (b'{"a":"\\ud800\\u0041"}', True),  # a high half before something else
        (b'{"a":"\\ud800\\ud800\\udc00"}', True),  # two highs, one low
        (b'{"a":"\\ud83d\\ude00"}', False),  # a pair: one character
        (b'{"a":"\\\\ud800"}', False),  # an escaped backslash, then the letters ud800
        (b'{"a":"\\\\\\ud800"}', True),  # an escaped backslash, then a lone surrogate
        (b'{"a":"\\u00e9\\n"}', False),
        (b"", False),
    ],
)
def test_unpaired_surrogate_reads_json_escapes_exactly(body: bytes, lone: bool) -> None:
    assert (unpaired_surrogate(body) is not None) is lone
