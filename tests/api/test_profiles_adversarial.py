"""Audit and control over HTTP, the way a demanding support lead or a careless integration
would use it: contradicting decisions, stale items, odd ids. Every answer is a problem detail,
never a 500."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.profiles import profile_of_key
from tests.conftest import TEST_KEY, Ingest
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
PROBLEM = "application/problem+json"


def _family(ingest: Ingest) -> None:
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(hubspot_contact("2", "desai.family@example.com", "Robert", "Petrov"))
    ingest(stripe_customer("cus_3", "desai.family@example.com", None))


def _item(client: TestClient[Any], first: str, second: str) -> int:
    page = client.get("/v1/review", headers=AUTH).json()
    return next(
        int(item["id"])
        for item in page["items"]
        if (item["a"]["external_id"], item["b"]["external_id"]) == (first, second)
    )


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_two_accepts_that_contradict_answer_409_and_keep_the_first(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _family(ingest)
    as_chris, as_robert = _item(client, "1", "cus_3"), _item(client, "2", "cus_3")
    accepted = client.post(f"/v1/review/{as_chris}", json={"decision": "accept"}, headers=AUTH)
    assert accepted.status_code == 200, accepted.text

    body = _problem(
        client.post(f"/v1/review/{as_robert}", json={"decision": "accept"}, headers=AUTH), 409
    )

    wanted = "cannot put hubspot:contact:2 (Robert Petrov) with stripe:customer:cus_3"
    assert wanted in body["detail"]
    assert [r["external_id"] for r in body["records"]] == ["2", "cus_3"]
    assert _item(client, "2", "cus_3") == as_robert  # still open, still decidable
    nameless = profile_of_key(store.conn, RecordKey("stripe", "customer", "cus_3"))
    assert nameless == profile_of_key(store.conn, RecordKey("shopify", "customer", "1"))
