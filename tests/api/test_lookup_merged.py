"""A vendor id that a vendor merge folded into another (Shopify ``customers/merge``, HubSpot
``contact.merge``) keeps finding the customer, through the record it was merged into."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.conftest import TEST_KEY, Ingest
from tests.payloads import shopify_customer

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def _merge(store: Store, ctx: IngestContext, gone: str, into: str, at: str) -> None:
    notice = RawPayload("shopify", "customer", {"id": gone}, at, True, into)
    ingest_batch(store, [notice], ctx)


def _profile_of(client: TestClient[Any], external_id: str) -> Any:
    params = {"source": "shopify", "external_id": external_id, "format": "json"}
    return client.get("/v1/context", params=params, headers=AUTH)


def test_a_merged_away_customer_id_finds_the_survivor(
    client: TestClient[Any], store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(shopify_customer(2, "ann.other@example.net", "Ann", "Lee"))
    ingest(shopify_customer(3, "ann.third@example.org", "Ann", "Lee"))
    _merge(store, ctx, "2", "1", "2026-06-01T00:00:00Z")
    _merge(store, ctx, "1", "3", "2026-06-02T00:00:00Z")  # and the survivor merged again
    survivor = _profile_of(client, "3")
    assert survivor.status_code == 200
    for merged_away in ("2", "1"):
        response = _profile_of(client, merged_away)
        assert response.status_code == 200, response.text
        assert response.json()["profile_id"] == survivor.json()["profile_id"]


def test_a_deleted_customer_without_a_merge_is_still_not_found(
    client: TestClient[Any], store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(shopify_customer(4, "gone@example.com", "Gone", "Person"))
    deletion = RawPayload("shopify", "customer", {"id": "4"}, "2026-06-01T00:00:00Z", True)
    ingest_batch(store, [deletion], ctx)
    assert _profile_of(client, "4").status_code == 404


def test_merges_that_go_round_in_a_circle_end_in_a_404(
    client: TestClient[Any], store: Store, ingest: Ingest, ctx: IngestContext
) -> None:
    ingest(shopify_customer(5, "a@example.com", "A", "B"))
    ingest(shopify_customer(6, "c@example.com", "C", "D"))
    _merge(store, ctx, "5", "6", "2026-06-01T00:00:00Z")
    _merge(store, ctx, "6", "5", "2026-06-02T00:00:00Z")  # bad vendor data: a cycle
    response = _profile_of(client, "5")
    assert response.status_code == 404
    assert response.json()["detail"] == "no customer with shopify id 5"
