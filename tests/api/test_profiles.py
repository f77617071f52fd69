"""Audit and control over HTTP: audit, merge, split and the review queue, on a real store."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import RequestFactory, TestClient

from context_service.api.profiles import CALLER_STATE_KEY, caller
from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync.rebuild import resolve_all
from context_service.wiring import ingest_context
from tests.conftest import TEST_KEY, Ingest, make_settings
from tests.identity_helpers import pid as _pid
from tests.payloads import hubspot_contact, shopify_customer, stripe_customer, zendesk_user

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SHOP1 = RecordKey("shopify", "customer", "1")
HUB2 = RecordKey("hubspot", "contact", "2")
PROBLEM = "application/problem+json"


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


def _resolve_all(store: Store) -> None:
    resolve_all(store, ingest_context(make_settings(store.path)))


def _two_people(ingest: Ingest) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "a.stone@work.example", "Bea", "Stone"))


def _same_person(ingest: Ingest) -> None:
    ingest(shopify_customer(1, "lee@example.com", "Lee", "Wong"))
    ingest(hubspot_contact("2", "lee@example.com", "Lee", "Wong"))


def _family(ingest: Ingest) -> None:
    ingest(shopify_customer(1, "desai.family@example.com", "Christopher", "Desai"))
    ingest(hubspot_contact("2", "desai.family@example.com", "Robert", "Petrov"))
    ingest(stripe_customer("cus_3", "desai.family@example.com", None))


def _item_between_1_and_2(client: TestClient[Any]) -> dict[str, Any]:
    page = _ok(client.get("/v1/review", headers=AUTH))
    return next(
        item
        for item in page["items"]
        if (item["a"]["external_id"], item["b"]["external_id"]) == ("1", "2")
    )


# --- merge -----------------------------------------------------------------------------------


def test_merge_answers_the_survivor_and_the_old_id_serves_its_context(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _two_people(ingest)
    older, newer = _pid(store, SHOP1), _pid(store, HUB2)

    body = _ok(
        client.post(
            "/v1/profiles/merge", json={"profile_ids": [newer, older], "note": "same"}, headers=AUTH
        )
    )

    assert body["profile_id"] == older
    assert body["merged"] == [newer]
    response = client.get("/v1/context", params={"profile_id": newer}, headers=AUTH)
    snap = _ok(response)
    assert response.headers["X-Profile-Id"] == older
    assert snap["profile_id"] == older
    assert {m["source"] for m in snap["members"]} >= {"shopify", "hubspot"}
    audit = _ok(client.get(f"/v1/profiles/{newer}/audit", headers=AUTH))
    assert audit["profile_id"] == older
    assert audit["aliases"] == [newer]
    (link,) = [link for link in audit["links"] if link["rule"] == "manual"]
    assert (link["decided_by"], link["note"]) == ("api", "same")
    _resolve_all(store)
    assert _pid(store, SHOP1) == _pid(store, HUB2) == older


def test_merge_refuses_one_profile_unknown_ids_and_unknown_fields(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _two_people(ingest)
    one = _pid(store, SHOP1)
    _problem(client.post("/v1/profiles/merge", json={"profile_ids": [one]}, headers=AUTH), 400)
    body = _problem(
        client.post("/v1/profiles/merge", json={"profile_ids": [one, one]}, headers=AUTH), 400
    )
    assert "two different" in body["detail"]
    unknown = "prof_00000000000000000000000000"
    _problem(
        client.post("/v1/profiles/merge", json={"profile_ids": [one, unknown]}, headers=AUTH), 404
    )
    other = _pid(store, HUB2)
    _problem(
        client.post(
            "/v1/profiles/merge", json={"profile_ids": [one, other], "force": True}, headers=AUTH
        ),
        400,
    )
    _problem(client.post("/v1/profiles/merge", content=b"{not json", headers=AUTH), 400)
    assert _pid(store, SHOP1) != _pid(store, HUB2)


# --- split -----------------------------------------------------------------------------------


def test_split_survives_resolve_all_and_a_record_resembling_both(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _same_person(ingest)
    original = _pid(store, SHOP1)
    record = {"source": "hubspot", "kind": "contact", "external_id": "2"}

    body = _ok(
        client.post(f"/v1/profiles/{original}/split", json={"records": [record]}, headers=AUTH)
    )

    assert body["remaining"] == [original]
    (moved,) = body["split_off"]
    assert moved != original
    snap = _ok(client.get("/v1/context", params={"profile_id": moved}, headers=AUTH))
    assert [m["source"] for m in snap["members"]] == ["hubspot"]
    _resolve_all(store)
    assert _pid(store, HUB2) == moved
    assert _pid(store, SHOP1) == original
    ingest(zendesk_user(3, "Lee Wong", email="lee@example.com"))
    assert _pid(store, SHOP1) != _pid(store, HUB2)
    audit = _ok(client.get(f"/v1/profiles/{original}/audit", headers=AUTH))
    assert [(d["decision"], d["decided_by"]) for d in audit["decisions"]] == [("apart", "api")]


def test_split_refuses_bad_requests(client: TestClient[Any], store: Store, ingest: Ingest) -> None:
    _same_person(ingest)
    ingest(zendesk_user(7, "Somebody Else", email="else@example.com"))
    pid = _pid(store, SHOP1)
    url = f"/v1/profiles/{pid}/split"
    outsider = {"source": "zendesk", "kind": "user", "external_id": "7"}
    body = _problem(client.post(url, json={"records": [outsider]}, headers=AUTH), 409)
    assert body["record"] == outsider
    everyone = [
        {"source": "shopify", "kind": "customer", "external_id": "1"},
        {"source": "hubspot", "kind": "contact", "external_id": "2"},
    ]
    _problem(client.post(url, json={"records": everyone}, headers=AUTH), 422)
    _problem(client.post(url, json={"records": []}, headers=AUTH), 400)
    extra = {**everyone[1], "name": "Lee"}
    _problem(client.post(url, json={"records": [extra]}, headers=AUTH), 400)
    _problem(
        client.post(
            "/v1/profiles/prof_00000000000000000000000000/split",
            json={"records": [everyone[1]]},
            headers=AUTH,
        ),
        404,
    )
    assert _pid(store, SHOP1) == _pid(store, HUB2) == pid


# --- review ----------------------------------------------------------------------------------


def test_review_queue_lists_pairs_with_evidence_and_pages(
    client: TestClient[Any], ingest: Ingest
) -> None:
    _family(ingest)
    page = _ok(client.get("/v1/review", params={"limit": 1}, headers=AUTH))
    assert (page["status"], page["limit"], page["offset"]) == ("open", 1, 0)
    assert page["total"] >= 1
    assert len(page["items"]) == 1
    item = _item_between_1_and_2(client)
    assert item["a"]["source"] == "shopify"
    assert item["a"]["name"] == "Christopher Desai"
    assert item["b"]["name"] == "Robert Petrov"
    assert item["reason"]
    assert 0 <= item["probability"] <= 1
    assert "email" in item["evidence"]
    _problem(client.get("/v1/review", params={"status": "maybe"}, headers=AUTH), 400)
    _problem(client.get("/v1/review", params={"limit": 0}, headers=AUTH), 400)


def test_accepting_joins_the_pair_and_resolve_all_respects_it(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _family(ingest)
    item = _item_between_1_and_2(client)

    body = _ok(client.post(f"/v1/review/{item['id']}", json={"decision": "accept"}, headers=AUTH))

    assert body["item"]["status"] == "accepted"
    assert body["item"]["decided_by"] == "api"
    assert body["profile_ids"] == [_pid(store, SHOP1)] == [_pid(store, HUB2)]
    snap = _ok(
        client.get("/v1/context", params={"profile_id": body["profile_ids"][0]}, headers=AUTH)
    )
    assert {"shopify", "hubspot"} <= {m["source"] for m in snap["members"]}
    _resolve_all(store)
    assert _pid(store, SHOP1) == _pid(store, HUB2)
    accepted = _ok(client.get("/v1/review", params={"status": "accepted"}, headers=AUTH))
    assert [i["id"] for i in accepted["items"]] == [item["id"]]
    again = client.post(f"/v1/review/{item['id']}", json={"decision": "reject"}, headers=AUTH)
    _problem(again, 409)


def test_rejecting_keeps_the_pair_apart_through_resolve_all(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _family(ingest)
    item = _item_between_1_and_2(client)
    body = _ok(
        client.post(
            f"/v1/review/{item['id']}", json={"decision": "reject", "note": "no"}, headers=AUTH
        )
    )
    assert body["item"]["status"] == "rejected"
    _resolve_all(store)
    assert _pid(store, SHOP1) != _pid(store, HUB2)
    page = _ok(client.get("/v1/review", headers=AUTH))
    pairs = [(i["a"]["external_id"], i["b"]["external_id"]) for i in page["items"]]
    assert ("1", "2") not in pairs


def test_review_decisions_refuse_bad_requests(client: TestClient[Any], ingest: Ingest) -> None:
    _family(ingest)
    item = _item_between_1_and_2(client)
    url = f"/v1/review/{item['id']}"
    _problem(client.post(url, json={"decision": "maybe"}, headers=AUTH), 400)
    _problem(client.post(url, json={"decision": "accept", "by": "me"}, headers=AUTH), 400)
    _problem(client.post("/v1/review/999999", json={"decision": "accept"}, headers=AUTH), 404)
    _problem(client.post("/v1/review/abc", json={"decision": "accept"}, headers=AUTH), 400)
    assert _item_between_1_and_2(client)["status"] == "open"


# --- audit and auth --------------------------------------------------------------------------


def test_audit_shows_rule_probability_and_evidence(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    _same_person(ingest)
    audit = _ok(client.get(f"/v1/profiles/{_pid(store, SHOP1)}/audit", headers=AUTH))
    assert {(m["record"]["source"], m["record"]["external_id"]) for m in audit["members"]} == {
        ("shopify", "1"),
        ("hubspot", "2"),
    }
    (link,) = audit["links"]
    assert link["rule"] == "email"
    assert link["probability"] >= 0.99
    assert link["evidence"]["email"] == {
        "level": "exact",
        "weight": link["evidence"]["email"]["weight"],
    }
    assert link["decided_by"] == "auto"
    assert link["decided_at"]
    assert {link["record"]["source"], link["other"]["source"]} == {"shopify", "hubspot"}
    _problem(client.get("/v1/profiles/prof_00000000000000000000000000/audit", headers=AUTH), 404)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/v1/profiles/prof_x/audit"),
        ("POST", "/v1/profiles/merge"),
        ("POST", "/v1/profiles/prof_x/split"),
        ("GET", "/v1/review"),
        ("POST", "/v1/review/1"),
    ],
)
def test_every_endpoint_needs_the_api_key(client: TestClient[Any], method: str, url: str) -> None:
    _problem(client.request(method, url, json={}), 401)


def test_decided_by_names_the_caller_once_an_auth_layer_knows_it() -> None:
    request = RequestFactory().get("/v1/review")
    assert caller(request) == "api"
    request.state[CALLER_STATE_KEY] = "support-bot"
    assert caller(request) == "api:support-bot"


def test_openapi_lists_the_audit_and_control_endpoints(client: TestClient[Any]) -> None:
    paths = _ok(client.get("/schema/openapi.json", headers=AUTH))["paths"]
    assert set(paths["/v1/profiles/{profile_id}/audit"]) == {"get"}
    assert set(paths["/v1/profiles/merge"]) == {"post"}
    assert set(paths["/v1/profiles/{profile_id}/split"]) == {"post"}
    assert set(paths["/v1/review"]) == {"get"}
    assert set(paths["/v1/review/{item_id}"]) == {"post"}
