"""A widget link minted by profile id keeps showing the customer it was minted for after a
wrong merge is split apart, or refuses (404): never the card of whoever kept the other id.

Two ways in: a link minted from an id already merged away (an alias), and a link minted from a
live id that is merged away and split out again after the link was made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SHARED = "info@silvacosta.example"  # Ana Silva's and Bruno Costa's shared mailbox
MAYA_NAME, ANA_NAME = "Maya Patel", "Ana Silva"


@pytest.fixture
def client(demo_db: Path, tmp_path: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(copy_demo(demo_db, tmp_path)))) as test_client:
        yield test_client


def _context(client: TestClient[Any], **params: str) -> Any:
    response = client.get("/v1/context", params=params, headers=AUTH)
    assert response.status_code in (200, 409), response.text
    return response.json()


def _ids(client: TestClient[Any]) -> tuple[str, str]:
    """Maya's profile id and Ana's (Ana is the older, so her id survives their merge)."""
    maya = _context(client, email=MAYA)["profile_id"]
    shared = _context(client, email=SHARED)["candidates"]
    ana = next(c["profile_id"] for c in shared if c["name"] == ANA_NAME)
    return maya, ana


def _merge(client: TestClient[Any], maya: str, ana: str) -> str:
    merged = client.post(
        "/v1/profiles/merge", json={"profile_ids": [maya, ana], "note": "wrong"}, headers=AUTH
    )
    assert merged.status_code == 200, merged.text
    survivor = str(merged.json()["profile_id"])
    assert survivor == ana, "the scenario needs Ana's id to survive"
    return survivor


def _split_maya_out(client: TestClient[Any], survivor: str) -> None:
    audit = client.get(f"/v1/profiles/{survivor}/audit", headers=AUTH).json()
    records = [
        {k: m["record"][k] for k in ("source", "kind", "external_id")}
        for m in audit["members"]
        if m["record"]["name"] == MAYA_NAME
    ]
    assert records
    split = client.post(
        f"/v1/profiles/{survivor}/split", json={"records": records, "note": "undo"}, headers=AUTH
    )
    assert split.status_code == 200, split.text


def _mint(client: TestClient[Any], **body: str) -> Any:
    response = client.post("/v1/widget/url", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def _open(client: TestClient[Any], url: str) -> Any:
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def _shows(page: Any, name: str, other: str) -> None:
    """The page is ``name``'s card, or the 404 that asks to open the customer again: never
    ``other``'s card."""
    assert other not in page.text, f"a link minted for {name} shows {other}'s card"
    assert page.status_code in (200, 404), page.text
    if page.status_code == 200:
        assert name in page.text


def test_a_link_minted_from_a_merged_away_id_follows_that_customer_through_a_split(
    client: TestClient[Any],
) -> None:
    maya, ana = _ids(client)
    survivor = _merge(client, maya, ana)
    link = _mint(client, profile_id=maya)  # a helpdesk app still holds Maya's old id
    assert link["profile_id"] == survivor  # the card it shows now: the merged profile
    assert _open(client, link["url"]).status_code == 200
    _split_maya_out(client, survivor)
    assert _context(client, profile_id=maya)["identity"]["name"] == MAYA_NAME
    page = _open(client, link["url"])
    _shows(page, MAYA_NAME, ANA_NAME)
    assert page.status_code == 200  # the alias followed Maya's records, and so does the link


def test_a_link_minted_from_a_live_id_follows_it_when_merged_away_and_split_out(
    client: TestClient[Any],
) -> None:
    maya, ana = _ids(client)
    link = _mint(client, profile_id=maya)
    assert link["profile_id"] == maya
    survivor = _merge(client, maya, ana)
    assert _open(client, link["url"]).status_code == 200  # merged: the profile it went into
    _split_maya_out(client, survivor)
    page = _open(client, link["url"])
    _shows(page, MAYA_NAME, ANA_NAME)
    assert page.status_code == 200


def test_a_link_minted_for_the_survivor_keeps_showing_it_after_the_split(
    client: TestClient[Any],
) -> None:
    maya, ana = _ids(client)
    before = _mint(client, profile_id=ana)
    survivor = _merge(client, maya, ana)
    during = _mint(client, profile_id=survivor)
    _split_maya_out(client, survivor)
    for link in (before, during):
        _shows(_open(client, link["url"]), ANA_NAME, MAYA_NAME)


def test_a_link_minted_from_an_alias_is_signed_over_the_id_asked_with(
    client: TestClient[Any],
) -> None:
    """Whatever names the customer is under the signature: pointing the link at the
    survivor's id instead (the old, re-targetable form) is refused."""
    maya, ana = _ids(client)
    _merge(client, maya, ana)
    query = dict(parse_qsl(urlsplit(_mint(client, profile_id=maya)["url"]).query))
    assert set(query) >= {"p", "exp", "sig"}
    query["p"] = ana
    forged = client.get("/widget", params=query)
    assert forged.status_code == 403
    assert ANA_NAME not in forged.text


def test_a_link_minted_from_an_alias_that_names_no_one_any_more_refuses(
    client: TestClient[Any],
) -> None:
    """Half of Maya's records split off, half left with Ana: her old id names no one (404 in
    the API), and the link answers the 404 page, not either profile's card."""
    maya, ana = _ids(client)
    survivor = _merge(client, maya, ana)
    link = _mint(client, profile_id=maya)
    audit = client.get(f"/v1/profiles/{survivor}/audit", headers=AUTH).json()
    mayas = [
        {k: m["record"][k] for k in ("source", "kind", "external_id")}
        for m in audit["members"]
        if m["record"]["name"] == MAYA_NAME
    ]
    assert len(mayas) % 2 == 0
    half = mayas[: len(mayas) // 2]
    split = client.post(f"/v1/profiles/{survivor}/split", json={"records": half}, headers=AUTH)
    assert split.status_code == 200, split.text
    assert client.get("/v1/context", params={"profile_id": maya}, headers=AUTH).status_code == 404
    page = _open(client, link["url"])
    assert page.status_code == 404, page.text
    assert ANA_NAME not in page.text
    assert MAYA_NAME not in page.text


def test_a_link_minted_by_a_mailbox_two_people_share_again_shows_neither(
    client: TestClient[Any],
) -> None:
    """Ana Silva and Bruno Costa share a mailbox. A person merged them, a link was minted by
    that email, then the merge was split: the email names two customers again (a new link is
    a 409), and the old link must not keep showing whichever of them kept the id."""
    shared = _context(client, email=SHARED)["candidates"]
    ids = [c["profile_id"] for c in shared]
    merged = client.post("/v1/profiles/merge", json={"profile_ids": ids}, headers=AUTH)
    assert merged.status_code == 200, merged.text
    survivor = str(merged.json()["profile_id"])
    link = _mint(client, email=SHARED)
    assert _open(client, link["url"]).status_code == 200
    audit = client.get(f"/v1/profiles/{survivor}/audit", headers=AUTH).json()
    bruno = [
        {k: m["record"][k] for k in ("source", "kind", "external_id")}
        for m in audit["members"]
        if m["record"]["name"] == "Bruno Costa"
    ]
    split = client.post(f"/v1/profiles/{survivor}/split", json={"records": bruno}, headers=AUTH)
    assert split.status_code == 200, split.text
    assert client.post("/v1/widget/url", json={"email": SHARED}, headers=AUTH).status_code == 409

    page = _open(client, link["url"])

    assert page.status_code == 409
    assert ANA_NAME not in page.text
    assert "Bruno Costa" not in page.text
