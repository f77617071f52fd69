"""Adversarial deliveries to ``POST /v1/webhooks/{source}`` for Shopify, Stripe, HubSpot, Zendesk.

Each vendor gets: authentic bodies that cannot be read (not JSON, wrong shape, empty, deeply
nested, huge), authentic bodies of the wrong shape inside, malformed signature headers,
timestamps in the future, far past or not a number, one delivery twice at once, two updates of
one object newest first, and a deletion delivered before the creation. What is asserted is the
documented outcome: the status code, whether an inbox row is kept, a record kept raw with its
reason when it cannot be mapped, never a 5xx, and a snapshot that never goes back to older data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.errors import ProfileNotFound
from context_service.models import RecordKey, VendorObject
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.store.records import get_record, rejected
from context_service.sync import IngestContext, apply_pending, receive
from context_service.wiring import ingest_context
from tests.conftest import make_settings
from tests.integrations.hubspot.fake import FakeHubSpot
from tests.integrations.shopify.fake import SECRET as SHOPIFY_SECRET
from tests.integrations.shopify.fake import FakeShopify
from tests.integrations.stripe.fake import FakeStripe
from tests.integrations.zendesk.fake import API_TOKEN as ZENDESK_TOKEN
from tests.integrations.zendesk.fake import WEBHOOK_SECRET as ZENDESK_SECRET
from tests.integrations.zendesk.fake import FakeZendesk
from tests.payloads import shopify_customer, stripe_customer, stripe_event, stripe_signed

BASE = "http://testserver.local"
VENDORS = ["shopify", "stripe", "hubspot", "zendesk"]
MAX_BODY = 1_048_576
DEEP = b"[" * 100_000 + b"]" * 100_000  # far past any JSON parser's recursion limit
OLD_EMAIL, NEW_EMAIL = "old.address@example.com", "new.address@example.com"

Headers = dict[str, str]


# --- Building signed deliveries -----------------------------------------------------------------


def _fake(source: str) -> Any:
    return {
        "shopify": FakeShopify,
        "stripe": FakeStripe,
        "hubspot": FakeHubSpot,
        "zendesk": FakeZendesk,
    }[source]()


def _hook(source: str, base: str = BASE) -> str:
    return f"{base}/v1/webhooks/{source}"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def _signed_raw(source: str, fake: Any, body: bytes, now: float) -> Headers:
    """Headers that sign ``body`` exactly as the vendor does, whatever the body is."""
    if source == "shopify":
        return {
            "X-Shopify-Topic": "customers/update",
            "X-Shopify-Hmac-Sha256": _b64(SHOPIFY_SECRET, body),
            "X-Shopify-Webhook-Id": f"wh-{hashlib.sha256(body).hexdigest()[:16]}",
            "X-Shopify-Triggered-At": _iso(now),
        }
    if source == "stripe":
        t = int(now)
        digest = hmac.new(fake.webhook_secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
        return {"Stripe-Signature": f"t={t},v1={digest.hexdigest()}"}
    if source == "hubspot":
        stamp = str(int(now * 1000))
        signed = b"POST" + _hook(source).encode() + body + stamp.encode()
        return {
            "X-HubSpot-Signature-v3": _b64(fake.client_secret, signed),
            "X-HubSpot-Request-Timestamp": stamp,
        }
    headers, _ = fake.signed(body, at=now)
    return dict(headers)


def _shopify_customer(fake: FakeShopify, email: str, updated: float, **kw: Any) -> Any:
    body = shopify_customer(7001, email, "Max", "Roe", updated_at=_iso(updated))[2]
    return fake.signed("customers/update", body, triggered_at=updated, **kw)


def _stripe_customer(fake: FakeStripe, event_id: str, email: str, created: int) -> Any:
    customer = stripe_customer("cus_7001", email, "Max Roe")[2]
    return stripe_signed(stripe_event(event_id, "customer.updated", customer, created), *_st(fake))


def _st(fake: FakeStripe) -> tuple[str, int]:
    return fake.webhook_secret, int(time.time())


def _hubspot_event(kind: str, object_id: str, occurred_ms: int, **extra: Any) -> dict[str, Any]:
    return {
        "eventId": occurred_ms % 1_000_000,
        "subscriptionId": 2_001,
        "portalId": 4_242_424,
        "appId": 1_001,
        "occurredAt": occurred_ms,
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": int(object_id),
        **extra,
    }


def _hubspot_signed(fake: FakeHubSpot, events: list[dict[str, Any]]) -> Any:
    return fake.signed(events, _hook("hubspot"), timestamp_ms=int(time.time() * 1000))


def _valid_delivery(source: str, fake: Any, now: float) -> tuple[Headers, bytes]:
    """One authentic, well-formed delivery about a customer the fake knows."""
    if source == "shopify":
        headers, body = _shopify_customer(fake, NEW_EMAIL, now - 5)
    elif source == "stripe":
        headers, body = _stripe_customer(fake, "evt_valid", NEW_EMAIL, int(now) - 5)
    elif source == "hubspot":
        contact = fake.add("contacts", int(now * 1000) - 5000, email=NEW_EMAIL, firstname="Max")
        event = _hubspot_event("contact.creation", contact["id"], int(now * 1000) - 5000)
        headers, body = _hubspot_signed(fake, [event])
    else:
        fake.put_user(384_001, NEW_EMAIL, int(now) - 5)
        headers, body = fake.signed(fake.event("user.created", 384_001, at=now - 5), at=now)
    return dict(headers), body


# --- The app and what it stored -----------------------------------------------------------------


def _client(store: Store, source: str, fake: Any, **settings: Any) -> TestClient[Any]:
    app = create_app(
        make_settings(store.path, **settings), store=store, connectors={source: fake.connector()}
    )
    return TestClient(app=app, base_url=BASE)


@pytest.fixture
def post(store: Store) -> Iterator[Callable[..., Any]]:
    """``post(source, fake, body, headers)``: one delivery through a fresh app on ``store``."""
    clients: dict[str, TestClient[Any]] = {}

    def run(source: str, fake: Any, body: bytes, headers: Headers | list[Any]) -> Any:
        if source not in clients:
            clients[source] = _client(store, source, fake).__enter__()
        return clients[source].post(f"/v1/webhooks/{source}", content=body, headers=headers)

    yield run
    for client in clients.values():
        client.__exit__(None, None, None)


def _inbox(store: Store) -> list[tuple[str, str]]:
    return store.conn.execute("SELECT topic, status FROM webhook_inbox ORDER BY id").fetchall()


def _errors(store: Store) -> list[str | None]:
    return [row[0] for row in store.conn.execute("SELECT error FROM webhook_inbox ORDER BY id")]


def _records(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM records").fetchone()[0])


def _emails_found(store: Store, *emails: str) -> dict[str, bool]:
    found = {}
    for email in emails:
        try:
            lookup.by_email(store.conn, email)
        except ProfileNotFound:
            found[email] = False
        else:
            found[email] = True
    return found


def _refused_and_nothing_kept(response: Any, store: Store, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _inbox(store) == []
    assert _records(store) == 0


# --- Authentic bodies that cannot be read ------------------------------------------------------


def _wrong_top_level(source: str) -> bytes:
    return b'{"eventId": 1}' if source == "hubspot" else b"[1, 2, 3]"


def _deep_inside(source: str, now: float) -> bytes:
    """A body of the vendor's own shape with one field nested 100,000 levels deep."""
    if source == "shopify":
        return b'{"id": 7001, "note": ' + DEEP + b"}"
    if source == "stripe":
        head = f'{{"id": "evt_deep", "object": "event", "type": "customer.updated", "created": {int(now)}, "data": {{"object": '
        return head.encode() + DEEP + b"}}"
    if source == "hubspot":
        head = f'[{{"eventId": 1, "subscriptionType": "contact.propertyChange", "occurredAt": {int(now * 1000)}, "objectId": 1, "extra": '
        return head.encode() + DEEP + b"}]"
    return b'{"type": "zen:event-type:user.updated", "id": "e-1", "detail": ' + DEEP + b"}"


UNREADABLE: dict[str, Callable[[str, float], bytes]] = {
    "not-json": lambda source, now: b"<xml>not json</xml>",
    "empty": lambda source, now: b"",
    "null": lambda source, now: b"null",
    "invalid-utf8": lambda source, now: b'{"id": "\xff\xfe"}',
    "wrong-top-level": lambda source, now: _wrong_top_level(source),
    "deeply-nested": lambda source, now: DEEP,
    "deeply-nested-field": _deep_inside,
}


@pytest.mark.parametrize("case", list(UNREADABLE))
@pytest.mark.parametrize("source", VENDORS)
def test_an_authentic_body_that_cannot_be_read_is_kept_raw_once_and_refused(
    store: Store, post: Callable[..., Any], source: str, case: str
) -> None:
    """422 with a problem body, the raw body kept as one ``rejected`` row with its reason, even
    when the vendor retries it; nothing mapped; never a 500 (deep nesting used to be one)."""
    fake = _fake(source)
    now = time.time()
    body = UNREADABLE[case](source, now)
    response = post(source, fake, body, _signed_raw(source, fake, body, now))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _inbox(store) == [("unparseable", "rejected")]
    assert _errors(store)[0]
    kept = store.conn.execute("SELECT body FROM webhook_inbox").fetchone()[0]
    assert bytes(kept) == body
    retry = post(source, fake, body, _signed_raw(source, fake, body, now + 1))
    assert retry.status_code == 422
    assert _inbox(store) == [("unparseable", "rejected")]
    assert _records(store) == 0


# --- Authentic bodies of the wrong shape inside -------------------------------------------------


def _shopify_body(**fields: Any) -> dict[str, Any]:
    body = shopify_customer(7001, NEW_EMAIL, "Max", "Roe", updated_at=_iso(time.time()))[2]
    body.update(fields)
    return body


def _stripe_body(now: float, obj: Any = None, **fields: Any) -> dict[str, Any]:
    customer = stripe_customer("cus_7001", NEW_EMAIL, "Max Roe")[2] if obj is None else obj
    event = stripe_event("evt_shape", "customer.updated", customer, int(now) - 5)
    event.update(fields)
    return event


def _hubspot_body(now: float, **fields: Any) -> list[Any]:
    event = _hubspot_event("contact.deletion", "801", int(now * 1000) - 5000)
    event.update(fields)
    return [event]


def _zendesk_body(now: float, **fields: Any) -> dict[str, Any]:
    event = FakeZendesk().event("user.updated", 384_001, at=now - 5)
    event.update(fields)
    return event


Shape = Callable[[float], Any]
# (source, case) -> (body, outcome): "refused" = 422 and a rejected inbox row; "kept raw" = 200,
# applied, and the object stored raw with the reason it cannot be mapped; "nothing" = 200,
# applied, nothing stored.
SHAPES: dict[tuple[str, str], tuple[Shape, str]] = {
    ("shopify", "id-null"): (lambda now: _shopify_body(id=None), "refused"),
    ("shopify", "id-missing"): (lambda now: {"email": NEW_EMAIL}, "refused"),
    ("shopify", "id-a-list"): (lambda now: _shopify_body(id=[7001]), "refused"),
    ("shopify", "id-a-bool"): (lambda now: _shopify_body(id=True), "refused"),
    ("shopify", "email-a-number"): (lambda now: _shopify_body(email=5), "kept raw"),
    ("shopify", "addresses-an-object"): (lambda now: _shopify_body(addresses={}), "kept raw"),
    ("shopify", "updated-at-garbage"): (lambda now: _shopify_body(updated_at="soon"), "kept raw"),
    ("stripe", "object-id-a-number"): (
        lambda now: _stripe_body(now, {"object": "customer", "id": 7001, "email": NEW_EMAIL}),
        "kept raw",
    ),
    ("stripe", "object-id-missing"): (
        lambda now: _stripe_body(now, {"object": "customer", "email": NEW_EMAIL}),
        "kept raw",
    ),
    ("stripe", "email-a-list"): (
        lambda now: _stripe_body(now, {**stripe_customer("cus_7001", None, None)[2], "email": []}),
        "kept raw",
    ),
    ("stripe", "object-null"): (lambda now: _stripe_body(now, data={"object": None}), "refused"),
    ("stripe", "created-huge"): (lambda now: _stripe_body(now, created=10**30), "refused"),
    ("stripe", "created-a-string"): (lambda now: _stripe_body(now, created="now"), "refused"),
    ("stripe", "event-id-null"): (lambda now: _stripe_body(now, id=None), "refused"),
    ("hubspot", "object-id-null"): (lambda now: _hubspot_body(now, objectId=None), "refused"),
    # Only an id to erase, which nothing here has: applied, and nothing to store.
    ("hubspot", "object-id-huge"): (lambda now: _hubspot_body(now, objectId=10**30), "nothing"),
    ("hubspot", "occurred-at-huge"): (
        lambda now: _hubspot_body(now, occurredAt=10**18),
        "refused",
    ),
    ("hubspot", "event-id-null"): (lambda now: _hubspot_body(now, eventId=None), "refused"),
    ("hubspot", "a-null-event"): (lambda now: [None], "refused"),
    ("hubspot", "merged-ids-with-null"): (
        lambda now: _hubspot_body(
            now, subscriptionType="contact.merge", primaryObjectId=1, mergedObjectIds=[None]
        ),
        "refused",
    ),
    ("zendesk", "detail-id-not-numeric"): (
        lambda now: _zendesk_body(now, detail={"id": "abc"}),
        "refused",
    ),
    ("zendesk", "id-missing"): (
        lambda now: {k: v for k, v in _zendesk_body(now).items() if k != "id"},
        "refused",
    ),
    ("zendesk", "time-garbage"): (lambda now: _zendesk_body(now, time="yesterday"), "refused"),
    ("zendesk", "trigger-ticket-id-null"): (lambda now: {"ticket_id": None}, "refused"),
    ("zendesk", "trigger-ticket-id-template"): (
        lambda now: {"ticket_id": "{{ticket.id}}"},
        "refused",
    ),
}


@pytest.mark.parametrize(("source", "case"), list(SHAPES))
def test_an_authentic_body_of_the_wrong_shape_is_refused_or_kept_raw_with_its_reason(
    store: Store, post: Callable[..., Any], source: str, case: str
) -> None:
    fake = _fake(source)
    now = time.time()
    shape, outcome = SHAPES[(source, case)]
    body = json.dumps(shape(now)).encode()
    response = post(source, fake, body, _signed_raw(source, fake, body, now))
    if outcome == "refused":
        assert response.status_code == 422, response.text
        assert _inbox(store) == [("unparseable", "rejected")]
        assert _errors(store)[0]
        assert _records(store) == 0
        return
    assert response.status_code == 200, response.text
    assert [status for _, status in _inbox(store)] == ["applied"]
    if outcome == "nothing":
        assert _records(store) == 0
        return
    kept = list(rejected(store.conn, source))
    assert len(kept) == 1
    assert kept[0].error
    assert kept[0].mapped is None
    assert json.loads(kept[0].payload)  # the vendor's object as received


# --- Malformed signature headers ---------------------------------------------------------------


SIGNATURE_HEADERS = {
    "shopify": "X-Shopify-Hmac-Sha256",
    "stripe": "Stripe-Signature",
    "hubspot": "X-HubSpot-Signature-v3",
    "zendesk": "X-Zendesk-Webhook-Signature",
}
STRIPE_SIGNATURE_CASES = [
    "not-hex",
    "truncated",
    "too-long",
    "upper-case-hex",
    "base64-not-hex",
    "only-v0",
    "no-timestamp",
    "semicolons",
    "several-values-all-wrong",
    "empty",
    "non-ascii",
]
BASE64_SIGNATURE_CASES = [
    "not-base64",
    "truncated",
    "too-long",
    "hex-not-base64",
    "wrong-digest",
    "several-values",
    "empty",
    "non-ascii",
]
SIGNATURE_CASES = [
    (source, case)
    for source in VENDORS
    for case in (STRIPE_SIGNATURE_CASES if source == "stripe" else BASE64_SIGNATURE_CASES)
]


def _tamper(source: str, headers: Headers, case: str) -> list[tuple[str, str | bytes]]:
    """``headers`` with the signature header made malformed in the way ``case`` names."""
    name = SIGNATURE_HEADERS[source]
    good = headers[name]
    values: dict[str, str | bytes]
    if source == "stripe":
        stamp, digest = good.split(",")
        digest = digest.removeprefix("v1=")
        values = {
            "not-hex": f"{stamp},v1={'z' * 64}",
            "truncated": f"{stamp},v1={digest[:32]}",
            "too-long": f"{stamp},v1={digest}00",
            "upper-case-hex": f"{stamp},v1={digest.upper()}",
            "base64-not-hex": f"{stamp},v1={base64.b64encode(bytes.fromhex(digest)).decode()}",
            "only-v0": f"{stamp},v0={digest}",
            "no-timestamp": f"v1={digest}",
            "semicolons": f"{stamp};v1={digest}",
            "several-values-all-wrong": f"{stamp},v1={'0' * 64},v1={'1' * 64}",
            "empty": "",
            "non-ascii": f"{stamp},v1=".encode() + b"\xe9" * 64,
        }
    else:
        raw = base64.b64decode(good)
        values = {
            "not-base64": "%%%not-base64%%%",
            "truncated": good[:20],
            "too-long": base64.b64encode(raw + b"\0").decode(),
            "hex-not-base64": raw.hex(),
            "wrong-digest": base64.b64encode(bytes(32)).decode(),
            "several-values": f"{base64.b64encode(bytes(32)).decode()},{good}",
            "empty": "",
            "non-ascii": b"\xe9" * 44,
        }
    kept: list[tuple[str, str | bytes]] = [(k, v) for k, v in headers.items() if k != name]
    return [*kept, (name, values[case])]


@pytest.mark.parametrize(("source", "case"), SIGNATURE_CASES)
def test_a_malformed_signature_header_is_401_and_stores_nothing(
    store: Store, post: Callable[..., Any], source: str, case: str
) -> None:
    fake = _fake(source)
    headers, body = _valid_delivery(source, fake, time.time())
    response = post(source, fake, body, _tamper(source, headers, case))
    _refused_and_nothing_kept(response, store)


@pytest.mark.parametrize("source", VENDORS)
def test_padding_around_a_valid_signature_is_not_a_reason_to_refuse(
    store: Store, post: Callable[..., Any], source: str
) -> None:
    fake = _fake(source)
    headers, body = _valid_delivery(source, fake, time.time())
    name = SIGNATURE_HEADERS[source]
    padded = {**headers, name: f"  {headers[name]}  "}
    if source == "stripe":
        padded[name] = headers[name].replace(",", " , ")
    response = post(source, fake, body, padded)
    assert response.status_code == 200, response.text
    assert [status for _, status in _inbox(store)] == ["applied"]


def test_stripe_accepts_any_v1_during_a_secret_rotation(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeStripe()
    headers, body = _valid_delivery("stripe", fake, time.time())
    stamp, digest = headers["Stripe-Signature"].split(",")
    headers["Stripe-Signature"] = f"{stamp},v1={'0' * 64},{digest},v0={'f' * 64}"
    assert post("stripe", fake, body, headers).status_code == 200
    assert [status for _, status in _inbox(store)] == ["applied"]


# --- Timestamps ---------------------------------------------------------------------------------


def _with_timestamp(source: str, fake: Any, now: float, value: str) -> tuple[Headers, bytes]:
    """A delivery whose signed (or, for Shopify, sent) timestamp is ``value``, validly signed."""
    headers, body = _valid_delivery(source, fake, now)
    if source == "shopify":
        headers["X-Shopify-Triggered-At"] = value  # not covered by Shopify's HMAC
    elif source == "stripe":
        secret = fake.webhook_secret.encode()
        digest = hmac.new(secret, f"{value}.".encode() + body, hashlib.sha256).hexdigest()
        headers["Stripe-Signature"] = f"t={value},v1={digest}"
    elif source == "hubspot":
        signed = b"POST" + _hook(source).encode() + body + value.encode()
        headers["X-HubSpot-Signature-v3"] = _b64(fake.client_secret, signed)
        headers["X-HubSpot-Request-Timestamp"] = value
    else:
        headers["X-Zendesk-Webhook-Signature"] = _b64(ZENDESK_SECRET, value.encode() + body)
        headers["X-Zendesk-Webhook-Signature-Timestamp"] = value
    return headers, body


def _stamp(source: str, seconds: float) -> str:
    """``seconds`` written the way the vendor writes its timestamp header."""
    if source == "stripe":
        return str(int(seconds))
    if source == "hubspot":
        return str(int(seconds * 1000))
    return _iso(seconds)


DAY = 86_400.0
# (case, offset from now or a literal value) -> {vendor: expected status}
TIMESTAMPS: dict[str, tuple[float | str, dict[str, int]]] = {
    # Stripe, like its SDK, refuses only old timestamps; the others refuse both ways.
    "a-day-in-the-future": (DAY, {"shopify": 401, "stripe": 200, "hubspot": 401, "zendesk": 401}),
    "an-hour-in-the-future": (
        3600.0,
        {"shopify": 200, "stripe": 200, "hubspot": 401, "zendesk": 401},
    ),
    "ten-minutes-ago": (-600.0, {"shopify": 200, "stripe": 401, "hubspot": 401, "zendesk": 401}),
    "a-year-ago": (-365 * DAY, dict.fromkeys(VENDORS, 401)),
    "the-epoch": ("epoch", dict.fromkeys(VENDORS, 401)),
    "not-a-number": ("yesterday", dict.fromkeys(VENDORS, 401)),
    "negative": ("-1", dict.fromkeys(VENDORS, 401)),
    "a-float": ("float", dict.fromkeys(VENDORS, 401)),
    "5000-digits": ("9" * 5000, dict.fromkeys(VENDORS, 401)),
    "superscript-digit": ("\u00b2", dict.fromkeys(VENDORS, 401)),
}


@pytest.mark.parametrize("case", list(TIMESTAMPS))
@pytest.mark.parametrize("source", VENDORS)
def test_timestamps_in_the_future_the_far_past_or_not_numbers(
    store: Store, post: Callable[..., Any], source: str, case: str
) -> None:
    """Refused ones are 401 and store nothing (a 5000-digit timestamp used to be a 500)."""
    fake = _fake(source)
    now = time.time()
    offset, expected = TIMESTAMPS[case]
    if offset == "epoch":
        value = _stamp(source, 0)
    elif offset == "float":
        value = f"{now:.3f}"  # unix seconds with a fraction: no vendor writes that
    elif isinstance(offset, str):
        value = offset
    else:
        value = _stamp(source, now + offset)
    headers, body = _with_timestamp(source, fake, now, value)
    encoded = [(k, v.encode("latin-1")) for k, v in headers.items()]
    response = post(source, fake, body, encoded)
    if expected[source] == 401:
        _refused_and_nothing_kept(response, store)
    else:
        assert response.status_code == 200, response.text
        assert [status for _, status in _inbox(store)] == ["applied"]


# --- Oversized and large bodies -----------------------------------------------------------------


def _large_delivery(source: str, fake: Any, now: float, size: int) -> tuple[Headers, bytes]:
    filler = "x" * size
    if source == "shopify":
        body = shopify_customer(7001, NEW_EMAIL, "Max", "Roe", updated_at=_iso(now))[2]
        return fake.signed("customers/update", {**body, "note": filler}, triggered_at=now)
    if source == "stripe":
        customer = {**stripe_customer("cus_7001", NEW_EMAIL, "Max Roe")[2], "description": filler}
        return stripe_signed(
            stripe_event("evt_big", "customer.updated", customer, int(now)), *_st(fake)
        )
    if source == "hubspot":
        contact = fake.add("contacts", int(now * 1000) - 5000, email=NEW_EMAIL, firstname="Max")
        event = _hubspot_event(
            "contact.propertyChange",
            contact["id"],
            int(now * 1000) - 5000,
            propertyName="notes",
            propertyValue=filler,
        )
        return _hubspot_signed(fake, [event])
    fake.put_user(384_001, NEW_EMAIL, int(now) - 5)
    event = fake.event("user.updated", 384_001, at=now - 5, note=filler)
    return fake.signed(event, at=now)


@pytest.mark.parametrize("source", VENDORS)
def test_a_large_body_is_applied_and_one_over_a_mib_is_413_and_stores_nothing(
    store: Store, post: Callable[..., Any], source: str
) -> None:
    fake = _fake(source)
    now = time.time()
    headers, body = _large_delivery(source, fake, now, MAX_BODY + 1000)
    assert len(body) > MAX_BODY
    _refused_and_nothing_kept(post(source, fake, body, headers), store, status=413)

    headers, body = _large_delivery(source, fake, now, 900_000)
    assert 900_000 < len(body) <= MAX_BODY
    response = post(source, fake, body, headers)
    assert response.status_code == 200, response.text
    assert [status for _, status in _inbox(store)] == ["applied"]
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


# --- The same delivery twice at once ------------------------------------------------------------


def _app_ctx(store: Store) -> IngestContext:
    return ingest_context(make_settings(store.path))


@pytest.mark.parametrize("source", VENDORS)
def test_the_same_delivery_twice_at_once_is_stored_and_applied_once(
    store: Store, source: str
) -> None:
    fake = _fake(source)
    connector = fake.connector()
    now = time.time()
    headers, body = _valid_delivery(source, fake, now)
    gate = threading.Barrier(2)
    receipts: list[str] = []
    applied: list[int] = []

    def deliver() -> None:
        gate.wait()
        receipts.append(receive(store, connector, headers, body, _hook(source), now).status)
        gate.wait()
        applied.append(apply_pending(store, {source: connector}, _app_ctx(store)))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(receipts) == ["accepted", "duplicate"]
    assert [status for _, status in _inbox(store)] == ["applied"]
    assert sum(applied) == 1
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


class _Interleaved:
    """A connector whose first refetch lets a second applier run to its end meanwhile, as a
    second request's background task (or a second worker) would; then, optionally, fails."""

    def __init__(self, inner: Any, store: Store, *, then_fail: bool = False) -> None:
        self._inner = inner
        self._store = store
        self._then_fail = then_fail
        self.source = inner.source
        self.second: list[int] = []
        self._started = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def fetch_one(self, kind: str, external_id: str) -> VendorObject | None:
        if not self._started:
            self._started = True
            other = threading.Thread(target=self._apply)
            other.start()
            other.join()
            if self._then_fail:
                raise RuntimeError("the vendor went away")
        found: VendorObject | None = self._inner.fetch_one(kind, external_id)
        return found

    def _apply(self) -> None:
        self.second.append(apply_pending(self._store, {self.source: self}, _app_ctx(self._store)))


def _zendesk_received(store: Store, fake: FakeZendesk, connector: Any) -> None:
    now = time.time()
    fake.put_user(384_001, NEW_EMAIL, int(now) - 5)
    headers, body = fake.signed(fake.event("user.created", 384_001, at=now - 5), at=now)
    assert receive(store, connector, headers, body, _hook("zendesk"), now).status == "accepted"


def test_a_delivery_a_concurrent_applier_applied_is_not_applied_again(store: Store) -> None:
    fake = FakeZendesk()
    connector = _Interleaved(fake.connector(), store)
    _zendesk_received(store, fake, connector)
    first = apply_pending(store, {"zendesk": connector}, _app_ctx(store))
    assert connector.second == [1]
    assert first == 0
    assert _inbox(store) == [("zen:event-type:user.created", "applied")]


def test_a_late_failure_never_turns_an_applied_delivery_into_a_failed_one(store: Store) -> None:
    fake = FakeZendesk()
    connector = _Interleaved(fake.connector(), store, then_fail=True)
    _zendesk_received(store, fake, connector)
    assert apply_pending(store, {"zendesk": connector}, _app_ctx(store)) == 0
    assert connector.second == [1]
    assert _inbox(store) == [("zen:event-type:user.created", "applied")]
    assert _errors(store) == [None]


class _Breaks:
    """A Stripe connector whose deliveries about ``cus_poison`` break ingestion itself."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.source = inner.source

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def parse_webhook(self, headers: Headers, body: bytes) -> Any:
        delivery = self._inner.parse_webhook(headers, body)
        if b"cus_poison" in body:
            delivery.objects = [VendorObject("customer", {"id": "cus_poison", "x": object()})]
        return delivery


def test_a_delivery_that_breaks_ingestion_is_failed_and_the_next_ones_still_apply(
    store: Store,
) -> None:
    fake = FakeStripe()
    connector = _Breaks(fake.connector())
    now = int(time.time())
    poison = stripe_customer("cus_poison", "poison@example.com", "P")[2]
    for event in (
        stripe_event("evt_poison", "customer.updated", poison, now - 10),
        stripe_event(
            "evt_fine", "customer.updated", stripe_customer("cus_1", NEW_EMAIL, "M")[2], now
        ),
    ):
        headers, body = stripe_signed(event, fake.webhook_secret, now)
        assert receive(store, connector, headers, body, _hook("stripe"), now).status == "accepted"
    assert apply_pending(store, {"stripe": connector}, _app_ctx(store)) == 1
    assert [status for _, status in _inbox(store)] == ["failed", "applied"]
    assert "TypeError" in (_errors(store)[0] or "")
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


# --- Two updates of one object, newest first ----------------------------------------------------


def test_shopify_newest_first_keeps_the_newest(store: Store, post: Callable[..., Any]) -> None:
    fake = FakeShopify()
    now = time.time()
    assert (
        post("shopify", fake, *_reversed(_shopify_customer(fake, NEW_EMAIL, now - 10))).status_code
        == 200
    )
    assert (
        post("shopify", fake, *_reversed(_shopify_customer(fake, OLD_EMAIL, now - 100))).status_code
        == 200
    )
    assert _inbox(store) == [("customers/update", "applied")] * 2
    assert _emails_found(store, NEW_EMAIL, OLD_EMAIL) == {NEW_EMAIL: True, OLD_EMAIL: False}


def _reversed(delivery: tuple[Headers, bytes]) -> tuple[bytes, Headers]:
    headers, body = delivery
    return body, headers


def test_stripe_newest_first_keeps_the_newest(store: Store, post: Callable[..., Any]) -> None:
    fake = FakeStripe()
    now = int(time.time())
    for event_id, email, created in (
        ("evt_2", NEW_EMAIL, now - 10),
        ("evt_1", OLD_EMAIL, now - 100),
    ):
        headers, body = _stripe_customer(fake, event_id, email, created)
        assert post("stripe", fake, body, headers).status_code == 200
    assert _inbox(store) == [("customer.updated", "applied")] * 2
    assert _emails_found(store, NEW_EMAIL, OLD_EMAIL) == {NEW_EMAIL: True, OLD_EMAIL: False}


def test_hubspot_newest_first_keeps_the_newest(store: Store, post: Callable[..., Any]) -> None:
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 10_000, email=NEW_EMAIL, firstname="Max")
    for occurred, value in ((now_ms - 10_000, NEW_EMAIL), (now_ms - 100_000, OLD_EMAIL)):
        event = _hubspot_event(
            "contact.propertyChange",
            contact["id"],
            occurred,
            propertyName="email",
            propertyValue=value,
        )
        headers, body = _hubspot_signed(fake, [event])
        assert post("hubspot", fake, body, headers).status_code == 200
    assert [status for _, status in _inbox(store)] == ["applied", "applied"]
    assert _emails_found(store, NEW_EMAIL, OLD_EMAIL) == {NEW_EMAIL: True, OLD_EMAIL: False}


def test_zendesk_newest_first_keeps_the_newest(store: Store, post: Callable[..., Any]) -> None:
    fake = FakeZendesk()
    now = time.time()
    fake.put_user(384_001, NEW_EMAIL, int(now) - 10)
    for at in (now - 10, now - 100):
        headers, body = fake.signed(fake.event("user.identity_changed", 384_001, at=at), at=now)
        assert post("zendesk", fake, body, headers).status_code == 200
    assert [status for _, status in _inbox(store)] == ["applied", "applied"]
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


def test_stripe_an_older_unmappable_event_never_replaces_newer_data(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeStripe()
    now = int(time.time())
    headers, body = _stripe_customer(fake, "evt_new", NEW_EMAIL, now - 10)
    assert post("stripe", fake, body, headers).status_code == 200
    broken = {**stripe_customer("cus_7001", OLD_EMAIL, "Old")[2], "metadata": "not an object"}
    event = stripe_event("evt_old", "customer.updated", broken, now - 100)
    assert post("stripe", fake, *_reversed(stripe_signed(event, *_st(fake)))).status_code == 200
    headers, body = _stripe_customer(fake, "evt_mid", OLD_EMAIL, now - 50)
    assert post("stripe", fake, body, headers).status_code == 200
    record = get_record(store.conn, RecordKey("stripe", "customer", "cus_7001"))
    assert record is not None
    assert record.error is None
    assert _emails_found(store, NEW_EMAIL, OLD_EMAIL) == {NEW_EMAIL: True, OLD_EMAIL: False}


# --- A deletion delivered before the creation ---------------------------------------------------


def _deleted(store: Store, source: str, kind: str, external_id: str) -> bool:
    record = get_record(store.conn, RecordKey(source, kind, external_id))
    return record is None or record.deleted


@pytest.mark.parametrize("triggered", [True, False], ids=["triggered-at", "no-triggered-at"])
def test_shopify_a_deletion_before_the_creation_stays_deleted(
    store: Store, post: Callable[..., Any], triggered: bool
) -> None:
    """Without ``X-Shopify-Triggered-At`` the deletion notice carries no time at all; it counts
    as observed when received, so the older creation cannot bring the customer back."""
    fake = FakeShopify()
    now = time.time()
    deletion = fake.signed(
        "customers/delete", {"id": 7001}, triggered_at=now - 10 if triggered else None
    )
    assert post("shopify", fake, *_reversed(deletion)).status_code == 200
    body = shopify_customer(7001, NEW_EMAIL, "Max", "Roe", updated_at=_iso(now - 100))[2]
    creation = fake.signed("customers/create", body, triggered_at=now - 100)
    assert post("shopify", fake, *_reversed(creation)).status_code == 200
    assert [status for _, status in _inbox(store)] == ["applied", "applied"]
    assert _deleted(store, "shopify", "customer", "7001")
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}


def test_stripe_a_deletion_before_the_creation_stays_deleted(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeStripe()
    now = int(time.time())
    customer = stripe_customer("cus_7001", NEW_EMAIL, "Max Roe")[2]
    for event_id, kind, created in (
        ("evt_del", "customer.deleted", now - 10),
        ("evt_new", "customer.created", now - 100),
    ):
        event = stripe_event(event_id, kind, customer, created)
        assert post("stripe", fake, *_reversed(stripe_signed(event, *_st(fake)))).status_code == 200
    assert [status for _, status in _inbox(store)] == ["applied", "applied"]
    assert _deleted(store, "stripe", "customer", "cus_7001")
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}


def test_hubspot_a_deletion_before_the_creation_stays_deleted(
    store: Store, post: Callable[..., Any]
) -> None:
    """A company (tombstoned) still answered by HubSpot with its older state, and a contact
    (erased) HubSpot no longer has: neither comes back."""
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    company = fake.add("companies", now_ms - 100_000, name="Globex", domain="globex.example")
    contact_id = "990001"  # deleted in HubSpot: fetching it answers 404
    events = [
        _hubspot_event("company.deletion", company["id"], now_ms - 10_000),
        _hubspot_event("contact.deletion", contact_id, now_ms - 10_000),
    ]
    assert post("hubspot", fake, *_reversed(_hubspot_signed(fake, events))).status_code == 200
    events = [
        _hubspot_event("company.creation", company["id"], now_ms - 100_000),
        _hubspot_event("contact.creation", contact_id, now_ms - 100_000),
    ]
    assert post("hubspot", fake, *_reversed(_hubspot_signed(fake, events))).status_code == 200
    assert [status for _, status in _inbox(store)] == ["applied", "applied"]
    assert _deleted(store, "hubspot", "company", company["id"])
    assert _deleted(store, "hubspot", "contact", contact_id)


def test_zendesk_a_deletion_before_the_creation_stays_deleted(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeZendesk()
    now = time.time()
    fake.put_user(384_001, NEW_EMAIL, int(now) - 100)  # what a refetch answers: older
    for name, at in (("user.deleted", now - 10), ("user.created", now - 100)):
        headers, body = fake.signed(fake.event(name, 384_001, at=at), at=now)
        assert post("zendesk", fake, body, headers).status_code == 200
    assert [status for _, status in _inbox(store)] == ["applied", "applied"]
    assert _deleted(store, "zendesk", "user", "384001")
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}


def test_hubspot_an_older_deletion_after_a_restore_never_erases_the_contact(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 10_000, email=NEW_EMAIL, firstname="Max")
    for kind, occurred in (
        ("contact.restore", now_ms - 10_000),
        ("contact.deletion", now_ms - 100_000),  # happened before the restore, delivered after
        ("contact.propertyChange", now_ms - 5_000),
    ):
        event = _hubspot_event(kind, contact["id"], occurred)
        assert post("hubspot", fake, *_reversed(_hubspot_signed(fake, [event]))).status_code == 200
    assert [status for _, status in _inbox(store)] == ["applied"] * 3
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


def test_hubspot_one_unreadable_event_does_not_cost_the_rest_of_the_batch(
    store: Store, post: Callable[..., Any]
) -> None:
    """HubSpot retries a refused batch whole, and it would fail the same way each time: the
    readable events apply, and what was skipped is recorded on the delivery."""
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 5000, email=NEW_EMAIL, firstname="Max")
    good = _hubspot_event("contact.creation", contact["id"], now_ms - 5000)
    no_id = {**_hubspot_event("contact.creation", "1", now_ms - 4000), "objectId": None}
    bad_time = {**_hubspot_event("contact.creation", "2", now_ms - 3000), "occurredAt": "soon"}
    headers, body = _hubspot_signed(fake, [no_id, good, bad_time])
    assert post("hubspot", fake, body, headers).status_code == 200
    assert _inbox(store) == [("contact.creation", "applied")]
    [error] = _errors(store)
    assert error is not None
    assert "event 2 skipped" in error
    assert "no objectId" in error
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


def test_hubspot_a_batch_with_no_readable_event_is_refused_and_kept_raw(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    no_id = {**_hubspot_event("contact.creation", "1", now_ms - 4000), "objectId": None}
    headers, body = _hubspot_signed(fake, [no_id, {"eventId": "x"}])
    assert post("hubspot", fake, body, headers).status_code == 422
    assert [status for _, status in _inbox(store)] == ["rejected"]
    assert _records(store) == 0


def test_hubspot_a_deleted_contact_that_hubspot_restores_comes_back(
    store: Store, post: Callable[..., Any]
) -> None:
    """A plain deletion removes the contact's data but suppresses nothing: HubSpot can undo it
    for 90 days, and the restore brings the contact back."""
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 100_000, email=NEW_EMAIL, firstname="Max")
    created = _hubspot_event("contact.creation", contact["id"], now_ms - 100_000)
    assert post("hubspot", fake, *_reversed(_hubspot_signed(fake, [created]))).status_code == 200
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}
    deleted = _hubspot_event("contact.deletion", contact["id"], now_ms - 50_000)
    assert post("hubspot", fake, *_reversed(_hubspot_signed(fake, [deleted]))).status_code == 200
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: False}
    assert get_record(store.conn, RecordKey("hubspot", "contact", contact["id"])) is None
    fake.add("contacts", now_ms - 10_000, contact["id"], email=NEW_EMAIL, firstname="Max")
    restored = _hubspot_event("contact.restore", contact["id"], now_ms - 10_000)
    assert post("hubspot", fake, *_reversed(_hubspot_signed(fake, [restored]))).status_code == 200
    assert [status for _, status in _inbox(store)] == ["applied"] * 3
    assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


# --- HubSpot behind a proxy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("public_url", "signed_for", "expected"),
    [
        ("https://ctx.example.com/", "https://ctx.example.com", 200),
        ("https://ctx.example.com", "http://ctx.example.com", 200),  # the URL it arrived at
        (None, "https://ctx.example.com", 401),
        ("https://ctx.example.com", "https://elsewhere.example.com", 401),
    ],
)
def test_hubspot_v3_checks_the_url_hubspot_called_behind_a_tls_proxy(
    store: Store, public_url: str | None, signed_for: str, expected: int
) -> None:
    """The proxy forwards plain HTTP with the host kept; HubSpot signed the https URL it
    called, which is ``CONTEXT_SERVICE_PUBLIC_URL`` plus the route and the query."""
    fake = FakeHubSpot()
    now_ms = int(time.time() * 1000)
    contact = fake.add("contacts", now_ms - 5000, email=NEW_EMAIL, firstname="Max")
    event = _hubspot_event("contact.creation", contact["id"], now_ms - 5000)
    path = "/v1/webhooks/hubspot?portal=4242424&x=a:b"
    headers, body = fake.signed([event], signed_for + path, timestamp_ms=now_ms)
    app = create_app(
        make_settings(store.path, public_url=public_url),
        store=store,
        connectors={"hubspot": fake.connector()},
    )
    with TestClient(app=app, base_url="http://ctx.example.com") as client:
        response = client.post(path, content=body, headers=headers)
    assert response.status_code == expected, response.text
    if expected == 401:
        assert _inbox(store) == []
    else:
        assert _emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


# --- Secrets never in logs ----------------------------------------------------------------------


@pytest.mark.parametrize("source", VENDORS)
def test_no_secret_reaches_the_logs_or_the_inbox(
    store: Store, post: Callable[..., Any], source: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = _fake(source)
    secrets = [
        getattr(fake, name, "")
        for name in ("webhook_secret", "client_secret", "token", "api_key")
        if getattr(fake, name, "")
    ]
    secrets += {
        "shopify": [SHOPIFY_SECRET],
        "zendesk": [ZENDESK_SECRET, ZENDESK_TOKEN],
    }.get(source, [])
    now = time.time()
    caplog.set_level(logging.DEBUG)
    headers, body = _valid_delivery(source, fake, now)
    assert post(source, fake, body + b" ", headers).status_code == 401
    assert post(source, fake, b"{", _signed_raw(source, fake, b"{", now)).status_code == 422
    assert post(source, fake, DEEP, _signed_raw(source, fake, DEEP, now)).status_code == 422
    assert (
        post(source, fake, body, {**headers, "Authorization": "Bearer s3cr3t"}).status_code == 200
    )
    stored = json.dumps(store.conn.execute("SELECT headers, error FROM webhook_inbox").fetchall())
    for secret in [*secrets, "s3cr3t"]:
        assert secret not in caplog.text
        assert secret not in stored
