"""Review of profile-id widget links: a link minted for the customer a helpdesk asked about
never shows someone else's card after the profile it named is split."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
LEE = "lee.wong@example.com"


@pytest.fixture
def client(demo_db: Path, tmp_path: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(copy_demo(demo_db, tmp_path)))) as test_client:
        yield test_client


def _mint(client: TestClient[Any], body: dict[str, str]) -> Any:
    response = client.post("/v1/widget/url", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _members(client: TestClient[Any], profile_id: str) -> list[dict[str, str]]:
    audit = client.get(f"/v1/profiles/{profile_id}/audit", headers=AUTH).json()
    return [member["record"] for member in audit["members"]]


def _name(client: TestClient[Any], email: str) -> str:
    snap = client.get("/v1/context", params={"email": email}, headers=AUTH).json()
    return str(snap["identity"]["name"])


def test_a_link_minted_by_email_never_shows_another_customer_after_a_split(
    client: TestClient[Any],
) -> None:
    first = {email: _mint(client, {"email": email})["profile_id"] for email in (MAYA, LEE)}
    records = {email: _members(client, pid) for email, pid in first.items()}
    names = {email: _name(client, email) for email in (MAYA, LEE)}
    merged = client.post(
        "/v1/profiles/merge", json={"profile_ids": list(first.values())}, headers=AUTH
    )
    assert merged.status_code == 200, merged.text
    survivor = merged.json()["profile_id"]
    gone = next(email for email, pid in first.items() if pid != survivor)
    kept = next(email for email in first if email != gone)
    link = _mint(client, {"email": gone})  # the ticket of the one merged in by mistake
    assert link["profile_id"] == survivor
    keys = [{k: r[k] for k in ("source", "kind", "external_id")} for r in records[gone]]
    split = client.post(f"/v1/profiles/{survivor}/split", json={"records": keys}, headers=AUTH)
    assert split.status_code == 200, split.text
    page = client.get(_path(link["url"]))
    assert names[kept] not in page.text, f"{gone}'s ticket shows {kept}'s card"
    if page.status_code == 200:
        assert names[gone] in page.text


def test_the_binding_check_reads_only_the_profiles_own_identifiers(demo_store: Store) -> None:
    """The check runs on every card opened: its query starts from the profile's members, not
    from every email, phone and blocking key in the store."""
    from context_service.widget.binding import IDENTIFIERS_SQL

    plan = demo_store.conn.execute(
        f"EXPLAIN QUERY PLAN {IDENTIFIERS_SQL}", ("prof_x", "email", "phone", "block")
    ).fetchall()
    steps = [str(row[-1]) for row in plan]
    assert "profile_members_profile" in steps[0]
    assert any("identifiers_record" in step for step in steps)
    assert not any("PRIMARY KEY (kind=?)" in step for step in steps)


def test_a_link_minted_by_an_order_id_is_bound_to_its_customer(client: TestClient[Any]) -> None:
    """A helpdesk that knows only the order a ticket is about mints by the order's vendor id:
    the link is bound to the record of the customer who placed it, so a split that takes that
    customer out of the profile closes the link, as one minted by email does."""
    snap = client.get("/v1/context", params={"email": MAYA}, headers=AUTH).json()
    order = next(m for m in snap["members"] if m["kind"] == "order")
    ref = {"source": order["source"], "external_id": order["external_id"]}
    link = _mint(client, ref)
    assert "k=" in link["url"]
    assert client.get(_path(link["url"])).status_code == 200
    members = [
        {k: r[k] for k in ("source", "kind", "external_id")}
        for r in _members(client, link["profile_id"])
    ]
    placed_by = [m for m in members if m["source"] == order["source"]]  # the order's customer
    assert placed_by
    assert len(placed_by) < len(members)
    split = client.post(
        f"/v1/profiles/{link['profile_id']}/split", json={"records": placed_by}, headers=AUTH
    )
    assert split.status_code == 200, split.text
    now = client.get("/v1/context", params=ref, headers=AUTH).json()["profile_id"]
    assert now != link["profile_id"]  # the order went with its customer
    page = client.get(_path(link["url"]))
    assert page.status_code == 404  # the link names the id left behind: it no longer opens
