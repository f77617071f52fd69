"""``POST /v1/review/{item_id}`` reads the id as strictly as a query string's whole numbers.

Litestar's ``:int`` path converter is Python's ``int()``: ``1_0`` decided item 10, and
`` 1``, ``+1``, ``01``, ``1`` with a newline or an Arabic-Indic one decided item 1. A decision
is a binding write, so an id that is not plain ASCII digits is a 400 that says what to send,
and no item is looked up (``/v1/review?limit=1_0`` or ``limit=01`` is a 400 too).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
STALE = {"decision": "reject", "revision": "stale"}  # a decision that would be refused anyway


@pytest.fixture
def client(demo_db: Path, tmp_path: Path) -> Iterator[TestClient[Any]]:
    """A client of a copy of the demo store, whose review queue holds item 1."""
    db = copy_demo(demo_db, tmp_path)
    with TestClient(app=create_app(make_settings(db, rate_limit_per_minute=1_000_000))) as test:
        yield test


def _problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert "review item" not in body["detail"], body  # nothing was looked up
    [error] = body["errors"]
    assert (error["key"], error["source"]) == ("item_id", "path")
    assert body["detail"].endswith(error["message"])
    return body


@pytest.mark.parametrize(
    "raw",
    [
        "1_0",  # int() reads 10
        "%D9%A1",  # Arabic-Indic one
        "%EF%BC%91",  # full-width one
        "%201",  # a leading space
        "1%20",  # a trailing space
        "1%0A",  # a trailing newline
        "+1",
        "01",
        "-1",
        "0x1",
        "1.0",
    ],
)
def test_an_item_id_that_is_no_plain_number_is_a_400_that_says_what_to_send(
    client: TestClient[Any], raw: str
) -> None:
    body = _problem(client.post(f"/v1/review/{raw}", json=STALE, headers=AUTH))
    assert body["detail"].startswith("invalid request: item_id (path): expected a whole number")
    assert "ASCII digits" in body["detail"]
    queue = client.get("/v1/review", headers=AUTH).json()
    assert queue["items"][0]["id"] == 1
    assert queue["items"][0]["status"] == "open"


@pytest.mark.parametrize(
    ("raw", "wanted"),
    [
        ("0", "expected a whole number at least 1"),
        ("9223372036854775808", "expected a whole number at most 9223372036854775807"),
        ("9" * 5000, "expected a whole number at most 9223372036854775807"),  # no int() of it
    ],
)
def test_an_item_id_out_of_range_is_a_400_naming_the_bound(
    client: TestClient[Any], raw: str, wanted: str
) -> None:
    body = _problem(client.post(f"/v1/review/{raw}", json=STALE, headers=AUTH))
    assert body["detail"] == f"invalid request: item_id (path): {wanted}"


def test_a_plain_id_is_still_read_as_the_item(client: TestClient[Any]) -> None:
    stale = client.post("/v1/review/1", json=STALE, headers=AUTH)
    assert stale.status_code == 409, stale.text[:300]
    assert stale.json()["detail"].startswith("review item 1 changed since it was read")
    unknown = client.post("/v1/review/9223372036854775807", json=STALE, headers=AUTH)
    assert unknown.status_code == 404, unknown.text[:300]
    item = client.get("/v1/review", headers=AUTH).json()["items"][0]
    decided = client.post(
        "/v1/review/1", json={"decision": "reject", "revision": item["revision"]}, headers=AUTH
    )
    assert decided.status_code == 200, decided.text[:300]
    assert decided.json()["item"]["id"] == 1


def test_the_schema_says_what_an_item_id_is(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json", headers=AUTH).json()
    [parameter] = schema["paths"]["/v1/review/{item_id}"]["post"]["parameters"]
    assert parameter["name"] == "item_id"
    assert parameter["in"] == "path"
    assert "ASCII digits" in parameter["description"]
