"""POST /v1/context/lookup with partial identity: what a customer types into a chat."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.demo.personas import MAYA_NAME, SILVA_COSTA_EMAIL, TOMAS_ORDER_NAME
from tests.conftest import TEST_KEY, make_settings

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture(scope="module")
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _lookup(client: TestClient[Any], **body: str) -> Any:
    return client.post("/v1/context/lookup", json=body, headers=AUTH)


def _maya_ticket(client: TestClient[Any]) -> str:
    snap = _lookup(client, email="maya.patel@example.com").json()
    return str(snap["support"]["tickets"][0]["external_id"])


def test_name_and_ticket_id_find_maya_with_a_probability(client: TestClient[Any]) -> None:
    response = _lookup(client, name="maya patel", ticket_id=_maya_ticket(client))
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == MAYA_NAME
    assert float(response.headers["X-Match-Probability"]) >= 0.99
    assert response.headers["X-Matched-By"] == "name and ticket_id"


def test_an_order_number_alone_names_no_one(client: TestClient[Any]) -> None:
    """Anyone who saw the parcel knows it (tests/api/test_lookup_number_alone.py)."""
    response = _lookup(client, order_number=TOMAS_ORDER_NAME.lstrip("#"))
    assert response.status_code == 409, response.text
    assert response.json()["candidates"] == []
    assert "Tom" not in response.text


def test_an_order_number_with_its_owners_name_finds_them(client: TestClient[Any]) -> None:
    response = _lookup(client, name="Tomás García", order_number=TOMAS_ORDER_NAME)
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"].startswith("Tom")


def test_a_name_alone_is_not_enough_and_says_so(client: TestClient[Any]) -> None:
    response = _lookup(client, name=MAYA_NAME)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["candidates"][0]["name"] == MAYA_NAME
    assert 0 < problem["candidates"][0]["probability"] < 0.99


def test_a_shared_mailbox_with_a_name_picks_the_named_person(client: TestClient[Any]) -> None:
    plain = client.get("/v1/context", params={"email": SILVA_COSTA_EMAIL}, headers=AUTH)
    assert plain.status_code == 409
    response = _lookup(client, email=SILVA_COSTA_EMAIL, name="Ana Silva")
    assert response.status_code == 200, response.text
    assert response.json()["identity"]["name"] == "Ana Silva"


def test_someone_elses_order_number_with_a_name_is_not_a_match(client: TestClient[Any]) -> None:
    """Nor does the answer say whose the order is."""
    response = _lookup(client, name=MAYA_NAME, order_number=TOMAS_ORDER_NAME)
    assert response.status_code == 409, response.text
    assert response.json()["candidates"] == []
    assert "Tom" not in response.text


def test_an_email_with_the_first_name_never_does_worse_than_the_email_alone(
    client: TestClient[Any],
) -> None:
    """A chat asks for a name and an email; customers give their first name. The email alone
    names Maya, and "Maya" agrees with her, so the answer is hers (it was a 409 "may not be
    this customer" at p=0.98, while the email alone answered at once)."""
    alone = _lookup(client, email="maya.patel@example.com")
    assert alone.status_code == 200
    response = _lookup(client, email="Maya.Patel@example.com", name="Maya")
    assert response.status_code == 200, response.text
    assert response.json()["profile_id"] == alone.json()["profile_id"]
    assert response.headers["X-Matched-By"] == "email and name"
    assert 0 < float(response.headers["X-Match-Probability"]) < 0.99  # the model's own figure


def test_an_email_with_a_name_that_disagrees_is_not_an_answer(client: TestClient[Any]) -> None:
    for name in ("Bob Smith", "Anna"):
        response = _lookup(client, email="maya.patel@example.com", name=name)
        assert response.status_code in (404, 409), (name, response.text)


def test_an_email_with_someone_elses_order_is_not_an_answer(client: TestClient[Any]) -> None:
    response = _lookup(
        client, email="maya.patel@example.com", name="Maya", order_number=TOMAS_ORDER_NAME
    )
    assert response.status_code == 409, response.text


def test_unknown_details_are_404_and_bad_mixes_400(client: TestClient[Any]) -> None:
    assert _lookup(client, name="Nobody Atall", email="nobody.atall@example.com").status_code == 404
    # With a number, a 404 would say the number is no one's (tests/api/test_lookup_number_alone.py).
    assert _lookup(client, name="Nobody Atall", order_number="999999").status_code == 409
    mixed = _lookup(client, profile_id="prof_x", name="Maya Patel")
    assert mixed.status_code == 400
    assert "cannot be mixed" in mixed.json()["detail"]
    assert _lookup(client, nickname="maya").status_code == 400


def test_email_and_phone_together_are_a_scored_search(client: TestClient[Any]) -> None:
    response = _lookup(client, email="maya.patel@example.com", phone="(415) 555-0134")
    assert response.status_code == 200, response.text
    assert response.headers["X-Matched-By"] == "email and phone"
    plain = client.get(
        "/v1/context",
        params={"email": "maya.patel@example.com", "phone": "+14155550134"},
        headers=AUTH,
    )
    assert plain.status_code == 400


def test_text_answers_name_their_charset_once(client: TestClient[Any]) -> None:
    plain = client.get(
        "/v1/context", params={"email": "maya.patel@example.com", "format": "text"}, headers=AUTH
    )
    audience = _lookup(client, email="maya.patel@example.com", audience="agent", format="markdown")
    assert plain.headers["content-type"] == "text/plain; charset=utf-8"
    assert audience.headers["content-type"] == "text/markdown; charset=utf-8"


@pytest.mark.parametrize("name", ["Maya P", "maya p.", "Patel", "Ms Patel"])
def test_an_email_with_a_partial_name_that_fits_finds_her(
    client: TestClient[Any], name: str
) -> None:
    """Customers give "Maya P." or just their surname; with her email that is Maya (each of
    these was a 409: the initial and the lone surname compared as a different name)."""
    alone = _lookup(client, email="maya.patel@example.com")
    response = _lookup(client, email="maya.patel@example.com", name=name)
    assert response.status_code == 200, (name, response.text)
    assert response.json()["profile_id"] == alone.json()["profile_id"]


@pytest.mark.parametrize("name", ["Maya Q", "Smith", "Tomás R"])
def test_an_email_with_a_partial_name_that_does_not_fit_is_no_answer(
    client: TestClient[Any], name: str
) -> None:
    response = _lookup(client, email="maya.patel@example.com", name=name)
    assert response.status_code in (404, 409), (name, response.text)
