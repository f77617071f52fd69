"""A 409 of ``GET /v1/context`` names 20 candidates at most and counts the rest in ``more``:
a phone 30 customers share (an office's switchboard) made an answer listing every holder
(56 KB at 500), whatever the caller could do with them."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import TEST_KEY, Ingest
from tests.payloads import zendesk_user

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SWITCHBOARD = "+14155550100"
FIRST = ["Ann", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo"]
LAST = ["Lee", "Park", "Ruiz"]


@pytest.mark.parametrize("extra", [{}, {"max_tokens": "400"}], ids=["stored row path", "full path"])
def test_a_phone_thirty_customers_share_names_twenty(
    client: TestClient[Any], ingest: Ingest, extra: dict[str, str]
) -> None:
    people = [f"{first} {last}" for last in LAST for first in FIRST]
    ingest(*(zendesk_user(100 + i, name, phone=SWITCHBOARD) for i, name in enumerate(people)))

    params = {"phone": SWITCHBOARD, **extra}
    response = client.get("/v1/context", params=params, headers=AUTH)

    assert response.status_code == 409
    body = response.json()
    assert len(body["candidates"]) == 20
    assert body["more"] == 10
    assert "10 more customers share it" in body["detail"]


def test_a_phone_two_customers_share_names_both(client: TestClient[Any], ingest: Ingest) -> None:
    ingest(
        zendesk_user(1, "Ann Lee", phone=SWITCHBOARD),
        zendesk_user(2, "Bo Park", phone=SWITCHBOARD),
    )

    response = client.get("/v1/context", params={"phone": SWITCHBOARD}, headers=AUTH)

    assert response.status_code == 409
    assert len(response.json()["candidates"]) == 2
    assert "more" not in response.json()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/escalations",
            {
                "customer": {"phone": SWITCHBOARD},
                "transcript": [{"role": "customer", "text": "my lamp broke"}],
                "reason": "broken lamp",
            },
        ),
        ("/v1/widget/url", {"phone": SWITCHBOARD}),
    ],
    ids=["escalation", "widget url"],
)
def test_other_lookups_name_twenty_too(
    client: TestClient[Any], ingest: Ingest, path: str, body: dict[str, Any]
) -> None:
    people = [f"{first} {last}" for last in LAST for first in FIRST]
    ingest(*(zendesk_user(100 + i, name, phone=SWITCHBOARD) for i, name in enumerate(people)))

    response = client.post(path, json=body, headers=AUTH)

    assert response.status_code == 409, response.text
    assert len(response.json()["candidates"]) == 20
    assert response.json()["more"] == 10
