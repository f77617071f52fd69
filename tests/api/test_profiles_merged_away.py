"""Over HTTP, a decision's ``changed`` holds live profiles only; merged-away ids come apart.

A caller that reads every id in ``changed`` must get that profile's own context, never an
alias answer or a 404 (``tests/identity/test_decision_outcome.py`` has the store-level cases).
"""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from context_service.store import Store
from tests.conftest import TEST_KEY, Ingest
from tests.identity.split_world import desai_held_together

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
FATHER = {"source": "hubspot", "kind": "contact", "external_id": "2"}


def test_every_id_in_changed_reads_as_itself_and_merged_away_names_its_target(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    merged, alone = desai_held_together(store, ingest)

    response = client.post(f"/v1/profiles/{merged}/split", json={"records": [FATHER]}, headers=AUTH)

    assert response.status_code == 200, response.text
    body = response.json()
    assert alone not in body["changed"]
    assert body["merged_away"] == [{"id": alone, "resolves_to": merged}]
    for profile_id in body["changed"]:  # what a caller does with the answer
        read = client.get("/v1/context", params={"profile_id": profile_id}, headers=AUTH)
        assert read.status_code == 200, read.text
        assert read.headers["X-Profile-Id"] == profile_id  # the profile itself, not an alias


def test_a_merge_answers_the_old_id_in_merged_away(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    merged, alone = desai_held_together(store, ingest)

    response = client.post(
        "/v1/profiles/merge", json={"profile_ids": [alone, merged]}, headers=AUTH
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] == [body["profile_id"]]
    gone = alone if body["profile_id"] == merged else merged
    assert body["merged"] == [gone]
    assert body["merged_away"] == [{"id": gone, "resolves_to": body["profile_id"]}]


def test_the_openapi_schema_documents_changed_and_merged_away(client: TestClient[Any]) -> None:
    response = client.get("/schema/openapi.json", headers=AUTH)
    assert response.status_code == 200
    schemas = response.json()["components"]["schemas"]
    for name in ("MergeResult", "SplitResult", "ReviewResult"):
        (key,) = [k for k in schemas if k.endswith(name)]
        properties = schemas[key]["properties"]
        assert {"changed", "merged_away"} <= set(properties), key
        assert "live profiles" in properties["changed"]["description"], key
        assert "resolves" in properties["merged_away"]["description"], key
