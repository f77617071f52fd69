"""POST /v1/webhooks/stripe through the app: verify first, store once, apply idempotently."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import msgspec
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.models import Snapshot
from context_service.snapshot import lookup
from context_service.store import Store
from tests.conftest import Ingest, make_settings
from tests.llm.helpers import completion, mock_client
from tests.payloads import (
    stripe_customer,
    stripe_event,
    stripe_invoice,
    stripe_signed,
    stripe_subscription,
)

SECRET = "whsec_test_0123456789"
EMAIL = "max@example.com"


@pytest.fixture
def client(store: Store, ingest: Ingest) -> Iterator[TestClient[Any]]:
    sub = stripe_subscription("sub_1", "cus_1", "past_due")
    sub[2]["latest_invoice"] = "in_9"
    ingest(
        stripe_customer("cus_1", EMAIL, "Max Roe"),
        sub,
        stripe_invoice("in_9", "cus_1", "open", attempts=1, remaining=4900),
    )
    settings = make_settings(store.path, stripe_webhook_secret=SECRET)
    with TestClient(app=create_app(settings, store=store)) as test_client:
        yield test_client


def _paid_invoice(created: int, event_id: str = "evt_paid") -> dict[str, Any]:
    invoice = stripe_invoice("in_9", "cus_1", "paid", attempts=2, remaining=0)[2]
    return stripe_event(event_id, "invoice.payment_succeeded", invoice, created)


def _post(
    client: TestClient[Any], event: dict[str, Any], t: int | None = None, secret: str = SECRET
) -> Any:
    headers, body = stripe_signed(event, secret, int(time.time()) if t is None else t)
    return client.post("/v1/webhooks/stripe", content=body, headers=headers)


def _snap(store: Store) -> Snapshot:
    return msgspec.json.decode(lookup.by_email(store.conn, EMAIL).json, type=Snapshot)


def _codes(store: Store) -> set[str]:
    return {s.code for s in _snap(store).signals}


def _inbox(store: Store) -> list[tuple[str, str]]:
    return store.conn.execute("SELECT topic, status FROM webhook_inbox ORDER BY id").fetchall()


def test_signed_payment_succeeded_clears_past_due(client: TestClient[Any], store: Store) -> None:
    assert "subscription_past_due" in _codes(store)
    response = _post(client, _paid_invoice(int(time.time())))
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "topic": "invoice.payment_succeeded"}
    assert _inbox(store) == [("invoice.payment_succeeded", "applied")]
    codes = _codes(store)
    assert "subscription_past_due" not in codes
    assert "invoice_payment_failed" not in codes


def test_replayed_delivery_is_applied_once(client: TestClient[Any], store: Store) -> None:
    event = _paid_invoice(int(time.time()))
    assert _post(client, event).json()["status"] == "accepted"
    version = _snap(store).version
    again = _post(client, event)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert len(_inbox(store)) == 1
    assert _snap(store).version == version


def test_credential_headers_are_not_kept_with_the_delivery(
    client: TestClient[Any], store: Store
) -> None:
    """A proxy's or an operator-named API-key header (Zendesk's webhook authentication lets
    the operator name it) never reaches the inbox row; the headers a later pass reads do."""
    headers, body = stripe_signed(_paid_invoice(int(time.time())), SECRET, int(time.time()))
    credentials = {
        "X-Api-Key": "csk_leaky_key",
        "X-Auth-Token": "tok_leaky",
        "X-Webhook-Secret": "whs_leaky",
        "Cookie": "session=leaky",
    }
    response = client.post(
        "/v1/webhooks/stripe", content=body, headers={**headers, **credentials, "X-Trace": "t1"}
    )
    assert response.status_code == 200, response.text
    (kept,) = store.conn.execute("SELECT headers FROM webhook_inbox").fetchone()
    assert "leaky" not in kept
    assert "stripe-signature" in kept
    assert "x-trace" in kept


def test_older_event_never_overwrites_newer(client: TestClient[Any], store: Store) -> None:
    now = int(time.time())
    _post(client, _paid_invoice(now - 10, "evt_new"))
    stale = stripe_invoice("in_9", "cus_1", "open", attempts=1, remaining=4900)[2]
    _post(client, stripe_event("evt_old", "invoice.payment_failed", stale, now - 100))
    assert _inbox(store)[-1] == ("invoice.payment_failed", "applied")
    invoice = _snap(store).billing.invoices[0]
    assert invoice.status == "paid"


@pytest.mark.parametrize(
    "tamper",
    ["bad_secret", "bad_body", "no_header", "stale", "garbage_header", "only_v0"],
)
def test_bad_signatures_are_401_and_store_nothing(
    client: TestClient[Any], store: Store, tamper: str
) -> None:
    event = _paid_invoice(int(time.time()))
    headers, body = stripe_signed(event, SECRET, int(time.time()))
    if tamper == "bad_secret":
        headers, body = stripe_signed(event, "whsec_wrong", int(time.time()))
    elif tamper == "bad_body":
        body = body.replace(b'"paid"', b'"void"')
    elif tamper == "no_header":
        headers.pop("Stripe-Signature")
    elif tamper == "stale":
        headers, body = stripe_signed(event, SECRET, int(time.time()) - 301)
    elif tamper == "garbage_header":
        headers["Stripe-Signature"] = "nonsense"
    elif tamper == "only_v0":
        headers["Stripe-Signature"] = headers["Stripe-Signature"].replace("v1=", "v0=")
    response = client.post("/v1/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _inbox(store) == []
    assert "subscription_past_due" in _codes(store)


def test_authentic_but_malformed_body_is_kept_raw_and_refused(
    client: TestClient[Any], store: Store
) -> None:
    t = int(time.time())
    import hashlib
    import hmac

    body = b'{"id": "evt_x", "type": "invoice.paid", "data": '
    digest = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    response = client.post(
        "/v1/webhooks/stripe", content=body, headers={"Stripe-Signature": f"t={t},v1={digest}"}
    )
    assert response.status_code == 422
    assert _inbox(store) == [("unparseable", "rejected")]


def test_unknown_source_is_404_and_oversized_body_is_413(client: TestClient[Any]) -> None:
    unknown = client.post("/v1/webhooks/acme", content=b"{}")
    assert unknown.status_code == 404
    assert unknown.json()["title"] == "Source not configured"  # not "Customer not found"
    long = client.post("/v1/webhooks/" + "a" * 20_000, content=b"{}")
    assert long.status_code == 404
    assert len(long.json()["detail"]) < 200  # the path is not echoed in full
    big = b"{" + b" " * 2_000_000 + b"}"
    assert client.post("/v1/webhooks/stripe", content=big).status_code == 413


def test_sync_status_lists_webhook_counts(client: TestClient[Any], store: Store) -> None:
    _post(client, _paid_invoice(int(time.time())))
    status = client.get("/v1/sync", headers={"Authorization": "Bearer test-key-0123456789"})
    assert status.status_code == 200
    assert status.json()["sources"]["stripe"]["webhooks"] == {"applied": 1}
    assert client.get("/v1/sync").status_code == 401


def test_an_applied_webhook_wakes_the_llm_summary_refresher(store: Store, ingest: Ingest) -> None:
    """With an LLM configured, the app runs the summary refresher and wakes it after a
    delivery changes profiles; without one there is none."""
    ingest(stripe_customer("cus_1", EMAIL, "Max Roe"))
    settings = make_settings(store.path, stripe_webhook_secret=SECRET)
    with TestClient(app=create_app(settings, store=store)) as plain:
        assert plain.app.state.summary_refresher is None
    llm = mock_client(lambda request: httpx2.Response(200, json=completion("fine")))
    with TestClient(app=create_app(settings, store=store, llm_client=llm)) as client:
        refresher = client.app.state.summary_refresher
        assert refresher is not None
        assert refresher._thread is not None
        assert refresher._thread.is_alive()
        woken: list[bool] = []
        refresher.wake = lambda: woken.append(True)
        invoice = stripe_invoice("in_1", "cus_1", "paid", attempts=1, remaining=0)[2]
        assert _post(client, stripe_event("evt_1", "invoice.paid", invoice, int(time.time())))
        assert woken == [True]
    assert refresher._thread is None  # stopped with the app


def test_applying_deliveries_deletes_applied_ones_past_the_retention(
    client: TestClient[Any], store: Store
) -> None:
    with store.transaction() as conn:  # applied years ago; the default retention is 30 days
        conn.execute(
            "INSERT INTO webhook_inbox (source, topic, received_at, body, headers, status) "
            "VALUES ('stripe', 'customer.updated', '2020-01-01T00:00:00Z', x'7b7d', '{}', "
            "'applied')"
        )
    assert _post(client, _paid_invoice(int(time.time()))).status_code == 200
    assert _inbox(store) == [("invoice.payment_succeeded", "applied")]
