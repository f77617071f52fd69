"""Adversarial deliveries to ``POST /v1/webhooks/{source}`` for Shopify, Stripe, HubSpot, Zendesk:
what cannot be read or verified.

Each vendor gets: authentic bodies that cannot be read (not JSON, wrong shape, empty, deeply
nested, huge), authentic bodies of the wrong shape inside, malformed signature headers, and
timestamps in the future, far past or not a number. What is asserted is the documented outcome:
the status code, whether an inbox row is kept, a record kept raw with its reason when it cannot
be mapped, never a 5xx, and no secret in a log. Ordering and concurrency are in
``test_webhooks_ordering``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from context_service.store import Store
from context_service.store.records import rejected
from tests.api.webhook_deliveries import (
    DEEP,
    MAX_BODY,
    NEW_EMAIL,
    VENDORS,
    Headers,
    assert_refused_and_nothing_kept,
    b64_hmac,
    emails_found,
    hook_url,
    hubspot_event,
    hubspot_signed,
    inbox_errors,
    inbox_rows,
    iso_at,
    record_count,
    signed_raw,
    stripe_signing,
    valid_delivery,
    vendor_fake,
)
from tests.integrations.shopify.fake import SECRET as SHOPIFY_SECRET
from tests.integrations.stripe.fake import FakeStripe
from tests.integrations.zendesk.fake import API_TOKEN as ZENDESK_TOKEN
from tests.integrations.zendesk.fake import WEBHOOK_SECRET as ZENDESK_SECRET
from tests.integrations.zendesk.fake import FakeZendesk
from tests.payloads import shopify_customer, stripe_customer, stripe_event, stripe_signed

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
    fake = vendor_fake(source)
    now = time.time()
    body = UNREADABLE[case](source, now)
    response = post(source, fake, body, signed_raw(source, fake, body, now))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert inbox_rows(store) == [("unparseable", "rejected")]
    assert inbox_errors(store)[0]
    kept = store.conn.execute("SELECT body FROM webhook_inbox").fetchone()[0]
    assert bytes(kept) == body
    retry = post(source, fake, body, signed_raw(source, fake, body, now + 1))
    assert retry.status_code == 422
    assert inbox_rows(store) == [("unparseable", "rejected")]
    assert record_count(store) == 0


# --- Authentic bodies of the wrong shape inside -------------------------------------------------


def _shopify_body(**fields: Any) -> dict[str, Any]:
    body = shopify_customer(7001, NEW_EMAIL, "Max", "Roe", updated_at=iso_at(time.time()))[2]
    body.update(fields)
    return body


def _stripe_body(now: float, obj: Any = None, **fields: Any) -> dict[str, Any]:
    customer = stripe_customer("cus_7001", NEW_EMAIL, "Max Roe")[2] if obj is None else obj
    event = stripe_event("evt_shape", "customer.updated", customer, int(now) - 5)
    event.update(fields)
    return event


def _hubspot_body(now: float, **fields: Any) -> list[Any]:
    event = hubspot_event("contact.deletion", "801", int(now * 1000) - 5000)
    event.update(fields)
    return [event]


def _zendesk_body(now: float, **fields: Any) -> dict[str, Any]:
    event = FakeZendesk().event("user.updated", 384_001, at=now - 5)
    event.update(fields)
    return event


Shape = Callable[[float], Any]
# (source, case) -> (body, outcome): "refused" = 422 and a rejected inbox row; "kept raw" = 200,
# applied, and the object stored raw with the reason it cannot be mapped; "nothing" = 200,
# applied, nothing stored; "tombstone" = 200, applied, a bare deletion notice stored.
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
    # Only an id to delete, which nothing here has: applied, and only the deletion's dated
    # tombstone stored (a copy of the contact still on its way is older, so stale).
    ("hubspot", "object-id-huge"): (lambda now: _hubspot_body(now, objectId=10**30), "tombstone"),
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
    fake = vendor_fake(source)
    now = time.time()
    shape, outcome = SHAPES[(source, case)]
    body = json.dumps(shape(now)).encode()
    response = post(source, fake, body, signed_raw(source, fake, body, now))
    if outcome == "refused":
        assert response.status_code == 422, response.text
        assert inbox_rows(store) == [("unparseable", "rejected")]
        assert inbox_errors(store)[0]
        assert record_count(store) == 0
        return
    assert response.status_code == 200, response.text
    assert [status for _, status in inbox_rows(store)] == ["applied"]
    if outcome == "nothing":
        assert record_count(store) == 0
        return
    if outcome == "tombstone":
        (tombstone,) = store.conn.execute("SELECT deleted, payload FROM records").fetchall()
        assert tombstone == (1, json.dumps({"id": str(10**30)}, separators=(",", ":")))
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
    fake = vendor_fake(source)
    headers, body = valid_delivery(source, fake, time.time())
    response = post(source, fake, body, _tamper(source, headers, case))
    assert_refused_and_nothing_kept(response, store)


@pytest.mark.parametrize("source", VENDORS)
def test_padding_around_a_valid_signature_is_not_a_reason_to_refuse(
    store: Store, post: Callable[..., Any], source: str
) -> None:
    fake = vendor_fake(source)
    headers, body = valid_delivery(source, fake, time.time())
    name = SIGNATURE_HEADERS[source]
    padded = {**headers, name: f"  {headers[name]}  "}
    if source == "stripe":
        padded[name] = headers[name].replace(",", " , ")
    response = post(source, fake, body, padded)
    assert response.status_code == 200, response.text
    assert [status for _, status in inbox_rows(store)] == ["applied"]


def test_stripe_accepts_any_v1_during_a_secret_rotation(
    store: Store, post: Callable[..., Any]
) -> None:
    fake = FakeStripe()
    headers, body = valid_delivery("stripe", fake, time.time())
    stamp, digest = headers["Stripe-Signature"].split(",")
    headers["Stripe-Signature"] = f"{stamp},v1={'0' * 64},{digest},v0={'f' * 64}"
    assert post("stripe", fake, body, headers).status_code == 200
    assert [status for _, status in inbox_rows(store)] == ["applied"]


# --- Timestamps ---------------------------------------------------------------------------------


def _with_timestamp(source: str, fake: Any, now: float, value: str) -> tuple[Headers, bytes]:
    """A delivery whose signed (or, for Shopify, sent) timestamp is ``value``, validly signed."""
    headers, body = valid_delivery(source, fake, now)
    if source == "shopify":
        headers["X-Shopify-Triggered-At"] = value  # not covered by Shopify's HMAC
    elif source == "stripe":
        secret = fake.webhook_secret.encode()
        digest = hmac.new(secret, f"{value}.".encode() + body, hashlib.sha256).hexdigest()
        headers["Stripe-Signature"] = f"t={value},v1={digest}"
    elif source == "hubspot":
        signed = b"POST" + hook_url(source).encode() + body + value.encode()
        headers["X-HubSpot-Signature-v3"] = b64_hmac(fake.client_secret, signed)
        headers["X-HubSpot-Request-Timestamp"] = value
    else:
        headers["X-Zendesk-Webhook-Signature"] = b64_hmac(ZENDESK_SECRET, value.encode() + body)
        headers["X-Zendesk-Webhook-Signature-Timestamp"] = value
    return headers, body


def _stamp(source: str, seconds: float) -> str:
    """``seconds`` written the way the vendor writes its timestamp header."""
    if source == "stripe":
        return str(int(seconds))
    if source == "hubspot":
        return str(int(seconds * 1000))
    return iso_at(seconds)


DAY = 86_400.0
# (case, offset from now or a literal value) -> {vendor: expected status}
TIMESTAMPS: dict[str, tuple[float | str, dict[str, int]]] = {
    # Stripe, like its SDK, refuses only old timestamps; the others refuse both ways.
    "a-day-in-the-future": (DAY, {"shopify": 401, "stripe": 200, "hubspot": 401, "zendesk": 401}),
    "an-hour-in-the-future": (
        3600.0,
        {"shopify": 401, "stripe": 200, "hubspot": 401, "zendesk": 401},
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
    fake = vendor_fake(source)
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
        assert_refused_and_nothing_kept(response, store)
    else:
        assert response.status_code == 200, response.text
        assert [status for _, status in inbox_rows(store)] == ["applied"]


# --- Oversized and large bodies -----------------------------------------------------------------


def _large_delivery(source: str, fake: Any, now: float, size: int) -> tuple[Headers, bytes]:
    filler = "x" * size
    if source == "shopify":
        body = shopify_customer(7001, NEW_EMAIL, "Max", "Roe", updated_at=iso_at(now))[2]
        shopify: tuple[Headers, bytes] = fake.signed(
            "customers/update", {**body, "note": filler}, triggered_at=now
        )
        return shopify
    if source == "stripe":
        customer = {**stripe_customer("cus_7001", NEW_EMAIL, "Max Roe")[2], "description": filler}
        return stripe_signed(
            stripe_event("evt_big", "customer.updated", customer, int(now)), *stripe_signing(fake)
        )
    if source == "hubspot":
        contact = fake.add("contacts", int(now * 1000) - 5000, email=NEW_EMAIL, firstname="Max")
        event = hubspot_event(
            "contact.propertyChange",
            contact["id"],
            int(now * 1000) - 5000,
            propertyName="notes",
            propertyValue=filler,
        )
        return hubspot_signed(fake, [event])
    fake.put_user(384_001, NEW_EMAIL, int(now) - 5)
    event = fake.event("user.updated", 384_001, at=now - 5, note=filler)
    zendesk: tuple[Headers, bytes] = fake.signed(event, at=now)
    return zendesk


@pytest.mark.parametrize("source", VENDORS)
def test_a_large_body_is_applied_and_one_over_a_mib_is_413_and_stores_nothing(
    store: Store, post: Callable[..., Any], source: str
) -> None:
    fake = vendor_fake(source)
    now = time.time()
    headers, body = _large_delivery(source, fake, now, MAX_BODY + 1000)
    assert len(body) > MAX_BODY
    assert_refused_and_nothing_kept(post(source, fake, body, headers), store, status=413)

    headers, body = _large_delivery(source, fake, now, 900_000)
    assert 900_000 < len(body) <= MAX_BODY
    response = post(source, fake, body, headers)
    assert response.status_code == 200, response.text
    assert [status for _, status in inbox_rows(store)] == ["applied"]
    assert emails_found(store, NEW_EMAIL) == {NEW_EMAIL: True}


# --- Secrets never in logs ----------------------------------------------------------------------


@pytest.mark.parametrize("source", VENDORS)
def test_no_secret_reaches_the_logs_or_the_inbox(
    store: Store, post: Callable[..., Any], source: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = vendor_fake(source)
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
    headers, body = valid_delivery(source, fake, now)
    assert post(source, fake, body + b" ", headers).status_code == 401
    assert post(source, fake, b"{", signed_raw(source, fake, b"{", now)).status_code == 422
    assert post(source, fake, DEEP, signed_raw(source, fake, DEEP, now)).status_code == 422
    assert (
        post(source, fake, body, {**headers, "Authorization": "Bearer s3cr3t"}).status_code == 200
    )
    stored = json.dumps(store.conn.execute("SELECT headers, error FROM webhook_inbox").fetchall())
    for secret in [*secrets, "s3cr3t"]:
        assert secret not in caplog.text
        assert secret not in stored
