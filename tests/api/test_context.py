"""GET /v1/context against the demo store: the acceptance points of the foundation issue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _context(client: TestClient[Any], **params: str) -> Any:
    response = client.get("/v1/context", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def test_maya_by_email_in_any_case_has_all_four_sources(client: TestClient[Any]) -> None:
    snap = _context(client, email="MAYA.PATEL@example.com")
    assert snap["identity"]["name"] == "Maya Patel"
    assert {m["source"] for m in snap["members"]} == {"shopify", "stripe", "hubspot", "zendesk"}
    assert {f["source"] for f in snap["freshness"]} == {"shopify", "stripe", "hubspot", "zendesk"}
    codes = {s["code"] for s in snap["signals"]}
    assert {"subscription_past_due", "invoice_payment_failed", "open_tickets"} <= codes
    assert "order_unfulfilled" in codes
    assert snap["support"]["open_count"] == 1
    assert "charged twice" in snap["support"]["tickets"][0]["title"].lower()
    assert snap["billing"]["subscriptions"][0]["plan"] == "Pro"
    assert snap["billing"]["subscriptions"][0]["status"] == "past_due"
    assert snap["crm"]["lifecycle_stage"] == "customer"
    assert any(d["status"] == "open" for d in snap["crm"]["deals"])
    assert snap["commerce"]["order_count"] == 3


def test_maya_members_carry_vendor_ids_and_dashboard_links(client: TestClient[Any]) -> None:
    snap = _context(client, email="maya.patel@example.com")
    kinds = {(m["source"], m["kind"]) for m in snap["members"]}
    assert {
        ("shopify", "customer"),
        ("shopify", "order"),
        ("stripe", "customer"),
        ("stripe", "subscription"),
        ("stripe", "invoice"),
        ("hubspot", "contact"),
        ("zendesk", "user"),
        ("zendesk", "ticket"),
    } <= kinds
    stripe_ids = [m["external_id"] for m in snap["members"] if m["source"] == "stripe"]
    assert any(i.startswith("cus_") for i in stripe_ids)
    assert any(i.startswith("sub_") for i in stripe_ids)
    shopify = next(
        m for m in snap["members"] if m["kind"] == "customer" and m["source"] == "shopify"
    )
    assert shopify["url"].endswith(f"/customers/{shopify['external_id']}")


def test_phone_finds_the_same_profile(client: TestClient[Any]) -> None:
    by_email = _context(client, email="maya.patel@example.com")
    by_phone = _context(client, phone="+14155550134")
    assert by_phone["profile_id"] == by_email["profile_id"]
    assert _context(client, phone="(415) 555-0134")["profile_id"] == by_email["profile_id"]


def test_profile_id_and_vendor_id_find_the_same_profile(client: TestClient[Any]) -> None:
    snap = _context(client, email="maya.patel@example.com")
    assert _context(client, profile_id=snap["profile_id"])["profile_id"] == snap["profile_id"]
    ticket = next(m for m in snap["members"] if m["kind"] == "ticket")
    found = _context(client, source="zendesk", external_id=ticket["external_id"])
    assert found["profile_id"] == snap["profile_id"]


def test_ana_and_bruno_are_two_profiles_and_their_mailbox_is_ambiguous(
    client: TestClient[Any],
) -> None:
    response = client.get("/v1/context", params={"email": "info@silvacosta.example"}, headers=AUTH)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    names = {c["name"] for c in body["candidates"]}
    assert names == {"Ana Silva", "Bruno Costa"}
    assert len({c["profile_id"] for c in body["candidates"]}) == 2


def test_tomas_has_refund_and_solved_ticket(client: TestClient[Any]) -> None:
    snap = _context(client, email="tomas.garcia@example.com")
    assert {m["source"] for m in snap["members"]} == {"shopify", "zendesk"}
    assert "refund_issued" in {s["code"] for s in snap["signals"]}
    assert snap["support"]["open_count"] == 0
    assert snap["support"]["tickets"][0]["status"] == "solved"


def test_lee_is_only_in_stripe_with_an_active_subscription(client: TestClient[Any]) -> None:
    snap = _context(client, email="lee.wong@example.com")
    assert {m["source"] for m in snap["members"]} == {"stripe"}
    assert snap["billing"]["subscriptions"][0]["status"] == "active"
    assert not [s for s in snap["signals"] if s["severity"] == "critical"]


def test_text_format_is_plain_text_with_quoted_customer_text(client: TestClient[Any]) -> None:
    response = client.get(
        "/v1/context", params={"email": "maya.patel@example.com", "format": "text"}, headers=AUTH
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "Maya Patel" in response.text
    assert "customer-written" in response.text
    assert "past_due" in response.text


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"email": "nobody.here@example.com"}, 404),
        ({"phone": "+1 999 555 0000"}, 404),
        ({"profile_id": "prof_00000000000000000000000000"}, 404),
        ({"email": "not-an-email"}, 400),
        ({"phone": "call me maybe"}, 400),
        ({"profile_id": "maya"}, 400),
        ({}, 400),
        ({"email": "maya.patel@example.com", "phone": "+14155550134"}, 400),
        ({"source": "shopify"}, 400),
        ({"email": "maya.patel@example.com", "format": "xml"}, 400),
        ({"email": "a" * 400 + "@example.com"}, 400),
    ],
)
def test_bad_requests_get_problem_details(
    client: TestClient[Any], params: dict[str, str], status: int
) -> None:
    response = client.get("/v1/context", params=params, headers=AUTH)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert body["detail"]
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": f"Basic {TEST_KEY}"},
        {"Authorization": "Bearer "},
    ],
)
def test_missing_or_wrong_key_is_401(client: TestClient[Any], headers: dict[str, str]) -> None:
    response = client.get(
        "/v1/context", params={"email": "maya.patel@example.com"}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"
    assert "Maya" not in response.text


def test_health_is_open_and_metrics_are_not(client: TestClient[Any]) -> None:
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/metrics").status_code == 401
    metrics = client.get("/metrics", headers=AUTH)
    assert "context_service_profiles" in metrics.text


def test_openapi_schema_lists_the_context_endpoint(client: TestClient[Any]) -> None:
    assert client.get("/schema/openapi.json").status_code == 401
    schema = client.get("/schema/openapi.json", headers=AUTH).json()
    assert "/v1/context" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/v1/context"]["get"]["parameters"]}
    assert {"email", "phone", "profile_id", "source", "external_id", "format"} <= params


def test_unknown_route_is_problem_404(client: TestClient[Any]) -> None:
    response = client.get("/v1/nope", headers=AUTH)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
