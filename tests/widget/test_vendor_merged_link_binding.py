"""A widget link minted from a vendor id that a vendor merge folded into another record
(Shopify ``customers/merge``, HubSpot ``contact.merge``) is bound like any other: to the record
the lookup found, the one it was merged into.

It used to carry no ``k`` at all (the merged-away id is no member of the profile, only a
tombstone), so once a wrong merge was split apart the link showed whoever kept the profile id:
another customer's card. No link is minted unbound now, but for one asked for by profile id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.snapshot.links import DashboardLinks
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.tools import CustomerRef, find_stored
from context_service.widget import BOUND_PARAM, LinkNotBound, bind
from context_service.wiring import default_mappers
from tests.conftest import TEST_KEY, make_settings
from tests.payloads import shopify_customer

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
BOB, ANN = "bob.stone@example.com", "ann.lee@example.com"
KEY = b"k" * 32


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Bob (the older profile, whose id survives a merge), and Ann's Shopify customer 2,
    which Shopify merged into her customer 1 (2 is a tombstone naming 1)."""
    path = tmp_path / "t.db"
    store = Store(path)
    ctx = IngestContext(mappers=default_mappers(), links=DashboardLinks(shopify_shop="s"))
    for payload in (
        RawPayload(*shopify_customer(10, BOB, "Bob", "Stone")),
        RawPayload(*shopify_customer(1, ANN, "Ann", "Lee")),
        RawPayload(*shopify_customer(2, "ann.other@example.net", "Ann", "Lee")),
        RawPayload("shopify", "customer", {"id": "2"}, "2026-06-01T00:00:00Z", True, "1"),
    ):
        ingest_batch(store, [payload], ctx)
    store.close()
    return path


@pytest.fixture
def client(db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(db))) as test_client:
        yield test_client


def _profile(client: TestClient[Any], **params: str) -> str:
    response = client.get("/v1/context", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return str(response.json()["profile_id"])


def _merge_ann_into_bob(client: TestClient[Any]) -> str:
    """The wrong merge: Ann's records join Bob's (older) profile, whose id survives."""
    bob = _profile(client, email=BOB)
    ann = _profile(client, source="shopify", external_id="1")
    merged = client.post("/v1/profiles/merge", json={"profile_ids": [bob, ann]}, headers=AUTH)
    assert merged.status_code == 200, merged.text
    assert merged.json()["profile_id"] == bob
    return bob


def _split_ann_out(client: TestClient[Any], survivor: str) -> None:
    audit = client.get(f"/v1/profiles/{survivor}/audit", headers=AUTH).json()
    anns = [
        {field: m["record"][field] for field in ("source", "kind", "external_id")}
        for m in audit["members"]
        if m["record"]["external_id"] in ("1", "2")
    ]
    split = client.post(f"/v1/profiles/{survivor}/split", json={"records": anns}, headers=AUTH)
    assert split.status_code == 200, split.text


def test_a_link_minted_from_a_vendor_id_never_shows_another_customer_after_a_split(
    client: TestClient[Any],
) -> None:
    survivor = _merge_ann_into_bob(client)
    links = []
    for external_id in ("2", "1"):  # the merged-away id, and the one it was merged into
        minted = client.post(
            "/v1/widget/url", json={"source": "shopify", "external_id": external_id}, headers=AUTH
        )
        assert minted.status_code == 200, minted.text
        parts = urlsplit(minted.json()["url"])
        assert BOUND_PARAM in dict(parse_qsl(parts.query)), f"{external_id}: minted unbound"
        links.append(f"{parts.path}?{parts.query}")
        assert client.get(links[-1]).status_code == 200  # before the split

    _split_ann_out(client, survivor)

    for link in links:
        page = client.get(link)
        assert "Bob Stone" not in page.text, "the link now shows the customer who kept the id"
        assert page.status_code == 404, page.text
        assert "open the customer again" in page.text


def test_a_vendor_id_the_profile_does_not_hold_is_never_bound_to_nothing(db: Path) -> None:
    """A profile that does not hold the identifier (it changed between the lookup and the
    binding) gets no link rather than one without ``k``."""
    store = Store(db)
    try:
        ref = CustomerRef(source="shopify", external_id="2")
        ann = find_stored(store.conn, ref, "US").profile_id
        bob = find_stored(store.conn, CustomerRef(email=BOB), "US").profile_id
        assert bind(store.conn, ref, ann, KEY, "US")  # through the record it was merged into
        with pytest.raises(LinkNotBound):
            bind(store.conn, ref, bob, KEY, "US")
        assert bind(store.conn, CustomerRef(profile_id=bob), bob, KEY, "US") is None
    finally:
        store.close()
