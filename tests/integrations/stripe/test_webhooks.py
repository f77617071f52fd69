"""Stripe webhooks: ``Stripe-Signature`` verification (published vector) and event parsing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from context_service.errors import MappingError, WebhookRejected
from context_service.store import Store
from context_service.sync import IngestContext, apply_pending, receive
from integrations._connector import Delivery, VendorObject
from integrations.stripe import StripeConnector, map_record
from integrations.stripe.webhooks import EVENT_TYPES, parse_signature_header
from tests.integrations.refdata import refdata
from tests.integrations.stripe.fake import FakeStripe

URL = "https://context.example.com/v1/webhooks/stripe"


def vector() -> dict[str, Any]:
    data: dict[str, Any] = refdata("webhook_signature_vectors.json")["stripe"]
    return data


def vector_connector(secret: str | None) -> StripeConnector:
    return FakeStripe().connector(webhook_secret=secret)


def test_the_published_vector_verifies() -> None:
    v = vector()
    connector = vector_connector(v["signing_secret"])
    headers = {v["header"]: v["expected_header_value"]}
    body = v["raw_body"].encode()
    connector.verify_webhook(headers, body, URL, now=v["timestamp"])
    # Header names in any case; a timestamp in the future is not refused (as in stripe-python).
    connector.verify_webhook({"stripe-signature": v["expected_header_value"]}, body, URL, 0)
    connector.verify_webhook(headers, body, URL, now=v["timestamp"] + 300)


def _rejected(connector: StripeConnector, headers: dict[str, str], body: bytes, now: float) -> str:
    with pytest.raises(WebhookRejected) as caught:
        connector.verify_webhook(headers, body, URL, now)
    return str(caught.value)


def test_tampered_body_and_wrong_secret_are_rejected() -> None:
    v = vector()
    headers = {v["header"]: v["expected_header_value"]}
    body = v["raw_body"].encode()
    tampered = body.replace(b"cus_123", b"cus_124")
    assert "does not match" in _rejected(
        vector_connector(v["signing_secret"]), headers, tampered, v["timestamp"]
    )
    assert "does not match" in _rejected(
        vector_connector("whsec_other"), headers, body, v["timestamp"]
    )


def test_several_v1_signatures_one_of_them_right_is_accepted() -> None:
    v = vector()
    t, [good] = parse_signature_header(v["expected_header_value"])
    value = f"t={t},v1={'0' * 64},v0={good},v1={good},v1=deadbeef"
    vector_connector(v["signing_secret"]).verify_webhook(
        {"Stripe-Signature": value}, v["raw_body"].encode(), URL, now=t
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("t={t},v0={sig}", "no v1 signature"),
        ("v1={sig}", "no valid timestamp"),
        ("t=soon,v1={sig}", "no valid timestamp"),
        ("t={t},v1={sig}x", "does not match"),
        ("", "missing Stripe-Signature"),
    ],
    ids=["only-v0", "no-timestamp", "bad-timestamp", "wrong-v1", "empty"],
)
def test_malformed_signature_headers_are_rejected(value: str, reason: str) -> None:
    v = vector()
    t, [sig] = parse_signature_header(v["expected_header_value"])
    headers = {"Stripe-Signature": value.format(t=t, sig=sig)}
    connector = vector_connector(v["signing_secret"])
    assert reason in _rejected(connector, headers, v["raw_body"].encode(), t)


def test_a_stale_timestamp_is_rejected() -> None:
    v = vector()
    headers = {v["header"]: v["expected_header_value"]}
    connector = vector_connector(v["signing_secret"])
    message = _rejected(connector, headers, v["raw_body"].encode(), v["timestamp"] + 301)
    assert "301 s old" in message


def test_a_missing_header_or_unset_secret_is_rejected() -> None:
    v = vector()
    body = v["raw_body"].encode()
    good = {v["header"]: v["expected_header_value"]}
    assert "missing" in _rejected(vector_connector(v["signing_secret"]), {}, body, v["timestamp"])
    for secret in (None, ""):
        message = _rejected(vector_connector(secret), good, body, v["timestamp"])
        assert "no webhook secret" in message


def test_signed_deliveries_from_the_fake_verify() -> None:
    fake = FakeStripe()
    fake.add_customers(1)
    event = fake.emit_event("customer.updated", fake.objects["customer"][0])
    headers, body = fake.signed(event)
    connector = fake.connector()
    connector.verify_webhook(headers, body, URL, fake.now())
    headers, body = fake.signed(event, secret="whsec_wrong")
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(headers, body, URL, fake.now())


# --- Parsing -------------------------------------------------------------------------------------


def _sample_objects() -> dict[str, dict[str, Any]]:
    fake = FakeStripe()
    fake.add_customers(5)  # the 5th has a dispute
    return {kind: items[0] for kind, items in fake.objects.items()}


def _kind_of(event_type: str) -> str:
    if event_type.startswith("customer.subscription."):
        return "subscription"
    if event_type.startswith("charge.dispute."):
        return "dispute"
    return event_type.split(".", maxsplit=1)[0]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_event_type_parses_to_its_object(event_type: str) -> None:
    fake = FakeStripe()
    kind = _kind_of(event_type)
    obj = _sample_objects()[kind]
    event = fake.emit_event(event_type, obj, created=1_767_225_700)
    headers, body = fake.signed(event)
    delivery = fake.connector().parse_webhook(headers, body)
    deleted = event_type in ("customer.deleted", "invoice.deleted")
    assert delivery == Delivery(
        dedup_ids=[event["id"]],
        topic=event_type,
        objects=[VendorObject(kind, obj, observed_at="2026-01-01T00:01:40Z", deleted=deleted)],
        occurred_at="2026-01-01T00:01:40Z",
    )
    mapped = map_record(kind, delivery.objects[0].payload)
    assert mapped.key.external_id == obj["id"]


def test_the_published_vector_body_parses() -> None:
    v = vector()
    delivery = vector_connector(None).parse_webhook({}, v["raw_body"].encode())
    assert delivery.dedup_ids == ["evt_test_123"]
    assert delivery.topic == "customer.updated"
    assert [(o.kind, o.payload["id"]) for o in delivery.objects] == [("customer", "cus_123")]


def test_unknown_object_types_carry_no_objects() -> None:
    event = refdata("stripe", "event.json")  # plan.created
    delivery = vector_connector(None).parse_webhook({}, json.dumps(event).encode())
    assert (delivery.topic, delivery.objects) == ("plan.created", [])
    assert delivery.dedup_ids == [event["id"]]


THIN_EVENT = {
    "id": "evt_test_65R9Ijk8",
    "object": "v2.core.event",
    "type": "v1.billing.meter.error_report_triggered",
    "created": "2024-09-17T06:20:52.246Z",
    "related_object": {"id": "mtr_test_123", "type": "billing.meter", "url": "/v1/billing/meters"},
}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"[1, 2]",
        b'"event"',
        json.dumps({"id": "evt_1", "type": "customer.updated", "created": 1}).encode(),
        json.dumps(
            {"id": "evt_1", "type": "x", "created": "soon", "data": {"object": {}}}
        ).encode(),
        json.dumps({"id": "evt_1", "type": "x", "created": 1, "data": {"object": []}}).encode(),
        json.dumps({"id": 1, "type": "x", "created": 1, "data": {"object": {}}}).encode(),
        json.dumps(
            {"object": "customer", "id": "cus_1", "type": "x", "created": 1, "data": {"object": {}}}
        ).encode(),
        json.dumps(THIN_EVENT).encode(),
    ],
    ids=[
        "not-json",
        "empty",
        "array",
        "string",
        "no-data",
        "created-not-int",
        "object-not-a-dict",
        "id-not-a-string",
        "not-an-event",
        "thin-v2-event",
    ],
)
def test_malformed_bodies_are_mapping_errors(body: bytes) -> None:
    with pytest.raises(MappingError):
        vector_connector(None).parse_webhook({}, body)


def test_thin_events_say_why() -> None:
    with pytest.raises(MappingError, match="thin event"):
        vector_connector(None).parse_webhook({}, json.dumps(THIN_EVENT).encode())


def _upcoming_invoice_event() -> dict[str, Any]:
    """``invoice.upcoming``: the invoice Stripe will create, previewed days ahead. It has no id
    (an upcoming invoice is not created yet); the rest is the published invoice example."""
    preview = {k: v for k, v in refdata("stripe", "invoice.json").items() if k != "id"}
    return {
        "id": "evt_upcoming_1",
        "object": "event",
        "type": "invoice.upcoming",
        "created": 1_767_225_700,
        "data": {"object": preview},
    }


def test_upcoming_invoice_events_are_skipped_with_a_reason() -> None:
    event = _upcoming_invoice_event()
    delivery = vector_connector(None).parse_webhook({}, json.dumps(event).encode())
    assert (delivery.topic, delivery.objects) == ("invoice.upcoming", [])
    assert delivery.dedup_ids == ["evt_upcoming_1"]
    [problem] = delivery.problems
    assert "evt_upcoming_1" in problem
    assert "upcoming invoice" in problem
    assert "skipped" in problem
    # With a preview id (``upcoming_...``) it is still no invoice to store.
    event["data"]["object"]["id"] = "upcoming_in_1MtHbELkdIwHu7ix"
    assert vector_connector(None).parse_webhook({}, json.dumps(event).encode()).objects == []


def test_an_upcoming_invoice_delivery_is_applied_without_a_rejected_record(
    store: Store, ctx: IngestContext
) -> None:
    fake = FakeStripe()
    headers, body = fake.signed(_upcoming_invoice_event())
    connector = fake.connector()
    assert receive(store, connector, headers, body, URL, fake.now()).status == "accepted"
    assert apply_pending(store, {"stripe": connector}, ctx) == 1
    assert store.conn.execute("SELECT count(*) FROM records").fetchone()[0] == 0
    [(status, note)] = store.conn.execute("SELECT status, error FROM webhook_inbox").fetchall()
    assert status == "applied"
    assert "upcoming invoice" in note
