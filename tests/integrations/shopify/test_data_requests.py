"""Shopify ``customers/data_request``: parsed, recorded for the operator, listed with the profile
to export (``status``, ``GET /v1/sync``, ``context-service data-requests``), then answered."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from context_service.cli import main
from context_service.models import AccessRequest, RecordKey
from context_service.store import Store, profiles
from context_service.sync import IngestContext, apply_pending, receive, run_sync
from context_service.sync.status import sync_status
from integrations.shopify import ShopifyConnector
from tests.integrations.shopify.fake import FakeShopify
from tests.integrations.shopify.test_webhooks import NOW, URL


@pytest.fixture
def cli(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """``context-service`` commands run against the test's store."""
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)


def data_request_body(customer_id: int = 191167, request_id: int = 9999) -> dict[str, Any]:
    return {
        "shop_id": 954889,
        "shop_domain": "fake-shop.myshopify.com",
        "orders_requested": [299938, 280263, 220458],
        "customer": {"id": customer_id, "email": "john@example.com", "phone": "555-625-1199"},
        "data_request": {"id": request_id},
    }


def test_a_data_request_carries_who_asked_for_what(
    fake: FakeShopify, connector: ShopifyConnector
) -> None:
    delivery = connector.parse_webhook(*fake.signed("customers/data_request", data_request_body()))
    assert delivery.access_requests == [
        AccessRequest(
            kind="customer",
            external_id="191167",
            request_id="9999",
            account="fake-shop.myshopify.com",
            email="john@example.com",
            phone="555-625-1199",
            records=[("order", "299938"), ("order", "280263"), ("order", "220458")],
        )
    ]
    assert (delivery.objects, delivery.refetch, delivery.erase) == ([], [], [])


def deliver(
    fake: FakeShopify,
    store: Store,
    connector: ShopifyConnector,
    ctx: IngestContext,
    topic: str,
    body: dict[str, Any],
) -> None:
    headers, raw = fake.signed(topic, body)
    assert receive(store, connector, headers, raw, URL, NOW).status == "accepted"
    assert apply_pending(store, {"shopify": connector}, ctx) == 1


def open_requests(store: Store) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sync_status(store, ["shopify"])["shopify"]["access_requests"]
    return found


def test_a_data_request_is_recorded_for_the_operator_with_the_profile_to_export(
    fake: FakeShopify, store: Store, ctx: IngestContext
) -> None:
    (cid,) = fake.add_customers(1)
    fake.add_orders(1)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    key = RecordKey("shopify", "customer", str(cid))
    profile_id = profiles.profiles_of_keys(store.conn, [key])[key]
    body = data_request_body(customer_id=cid)
    deliver(fake, store, connector, ctx, "customers/data_request", body)
    # Shopify may send the same request again in a new delivery: it is one request.
    deliver(fake, store, connector, ctx, "customers/data_request", body)
    (request,) = open_requests(store)
    assert request["source"] == "shopify"
    assert request["account"] == "fake-shop.myshopify.com"
    assert (request["kind"], request["external_id"]) == ("customer", str(cid))
    assert request["email"] == "john@example.com"
    assert [tuple(r) for r in request["records"]] == [
        ("order", "299938"),
        ("order", "280263"),
        ("order", "220458"),
    ]
    assert request["request_id"] == "9999"
    assert request["received_at"]
    assert request["status"] == "open"
    assert request["profile_id"] == profile_id


def test_a_data_request_about_someone_not_held_is_still_recorded(
    fake: FakeShopify, store: Store, ctx: IngestContext
) -> None:
    connector = fake.connector()
    deliver(fake, store, connector, ctx, "customers/data_request", data_request_body())
    (request,) = open_requests(store)
    assert request["external_id"] == "191167"
    assert request["profile_id"] is None


def test_status_prints_an_open_data_request(
    fake: FakeShopify,
    store: Store,
    ctx: IngestContext,
    cli: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deliver(fake, store, fake.connector(), ctx, "customers/data_request", data_request_body())
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "data request 9999 from fake-shop.myshopify.com" in out
    assert "customer 191167 (john@example.com)" in out
    assert "order 299938" in out


def test_erasing_the_customer_blanks_the_contact_details_of_their_data_request(
    fake: FakeShopify, store: Store, ctx: IngestContext
) -> None:
    (cid,) = fake.add_customers(1)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    email = fake.customers[cid]["email"]
    body = {**data_request_body(customer_id=cid), "customer": {"id": cid, "email": email}}
    deliver(fake, store, connector, ctx, "customers/data_request", body)
    redact = {"shop_domain": "fake-shop.myshopify.com", "customer": {"id": cid, "email": email}}
    deliver(fake, store, connector, ctx, "customers/redact", {**redact, "orders_to_redact": []})
    (request,) = open_requests(store)
    # Her vendor ids are digests now (tests/trust/test_erasure_access_requests_s30.py).
    assert request["request_id"].startswith("erased:")
    assert request["external_id"].startswith("erased:")
    assert request["email"] is None
    assert request["profile_id"] is None


def test_an_answered_request_leaves_the_list_and_status(
    fake: FakeShopify,
    store: Store,
    ctx: IngestContext,
    cli: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connector = fake.connector()
    deliver(fake, store, connector, ctx, "customers/data_request", data_request_body())
    deliver(fake, store, connector, ctx, "customers/data_request", data_request_body(5, 777))
    first, second = open_requests(store)

    assert main(["data-requests"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == [f"#{first['id']}", f"#{second['id']}"]
    assert "data request 9999 from fake-shop.myshopify.com" in listed[0]
    assert "nothing stored about them" in listed[0]

    assert main(["data-requests", "--answered", str(first["id"])]) == 0
    assert f"#{first['id']} marked answered" in capsys.readouterr().out
    assert [r["id"] for r in open_requests(store)] == [second["id"]]
    row = store.conn.execute(
        "SELECT status, closed_at FROM access_requests WHERE id = ?", (first["id"],)
    ).fetchone()
    assert row[0] == "answered"
    assert row[1]

    # Answering it again, or a number that is no open request, says so and fails.
    assert main(["data-requests", "--answered", str(first["id"])]) == 1
    assert f"no open data request #{first['id']}" in capsys.readouterr().err
    assert main(["status"]) == 0
    assert "data request 9999" not in capsys.readouterr().out


def test_nothing_open_says_so(cli: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data-requests"]) == 0
    assert capsys.readouterr().out == "no open data requests\n"


@pytest.fixture
def answer(tmp_path: Path) -> Path:
    """Where ``data-requests --export`` writes in these tests."""
    return tmp_path / "answer.json"


def export(number: int, out: Path) -> int:
    """``context-service data-requests --export NUMBER --out OUT``: its exit status."""
    return main(["data-requests", "--export", str(number), "--out", str(out)])


def test_export_writes_the_persons_data_to_a_private_file_and_audits_it(
    fake: FakeShopify, store: Store, ctx: IngestContext, cli: None, answer: Path
) -> None:
    (cid,) = fake.add_customers(1)
    (oid,) = fake.add_orders(1)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    deliver(fake, store, connector, ctx, "customers/data_request", data_request_body(cid))
    (request,) = open_requests(store)
    out = answer

    assert export(request["id"], out) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # personal data: its owner only
    document = json.loads(out.read_text())
    assert document["data_request"]["request_id"] == "9999"
    held = document["held"]
    assert held["profile_id"] == request["profile_id"]
    keys = {(r["source"], r["kind"], r["external_id"]) for r in held["records"]}
    assert ("shopify", "customer", str(cid)) in keys
    assert ("shopify", "order", str(oid)) in keys  # the orders the customer placed go along
    reads = store.conn.execute(
        "SELECT key_name, channel FROM read_audit WHERE profile_id = ?", (held["profile_id"],)
    ).fetchall()
    assert ("cli", "subject-export") in reads
    assert [r["id"] for r in open_requests(store)] == [request["id"]]  # answered separately


def test_export_of_someone_not_held_or_of_no_request_writes_nothing(
    fake: FakeShopify,
    connector: ShopifyConnector,
    store: Store,
    ctx: IngestContext,
    cli: None,
    answer: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deliver(fake, store, connector, ctx, "customers/data_request", data_request_body())
    (request,) = open_requests(store)
    assert export(request["id"], answer) == 0
    assert "nothing stored about them" in capsys.readouterr().out
    assert export(request["id"] + 1, answer) == 1
    assert f"no open data request #{request['id'] + 1}" in capsys.readouterr().err
    assert not answer.exists()


def test_a_data_request_after_the_erasure_stores_no_contact_details(
    fake: FakeShopify, store: Store, ctx: IngestContext
) -> None:
    """The person was erased first: her request is answered "nothing stored about them", and
    keeping the email and phone it came with would store her contact details again."""
    (cid,) = fake.add_customers(1)
    connector = fake.connector()
    run_sync(store, connector, ctx)
    email = fake.customers[cid]["email"]
    redact = {"shop_domain": "fake-shop.myshopify.com", "customer": {"id": cid, "email": email}}
    deliver(fake, store, connector, ctx, "customers/redact", {**redact, "orders_to_redact": []})
    body = {
        **data_request_body(customer_id=cid, request_id=4242),
        "customer": {"id": cid, "email": email, "phone": "+14155550134"},
    }
    deliver(fake, store, connector, ctx, "customers/data_request", body)
    (request,) = open_requests(store)
    # Recorded and open, to be answered "nothing stored about them"; the vendor's ids of her
    # and of the request are the digests an erasure leaves (as an erasure after it leaves them).
    assert request["request_id"].startswith("erased:")
    assert request["external_id"].startswith("erased:")
    assert (request["email"], request["phone"]) == (None, None)
    assert request["profile_id"] is None
    stored = store.conn.execute("SELECT email, phone FROM access_requests").fetchall()
    assert stored == [(None, None)]
