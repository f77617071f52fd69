"""End to end: `context-service serve` as a real process on loopback, called over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_KEY
from tests.widget.live import live_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(demo_db: Path) -> Iterator[str]:
    with live_server(demo_db, CONTEXT_SERVICE_API_KEYS=f"other-key,{TEST_KEY}") as base:
        yield base


def test_served_context_over_real_http(server: str) -> None:
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    maya = httpx.get(
        f"{server}/v1/context", params={"email": "MAYA.PATEL@example.com"}, headers=auth
    )
    assert maya.status_code == 200
    by_phone = httpx.get(f"{server}/v1/context", params={"phone": "+14155550134"}, headers=auth)
    assert by_phone.json()["profile_id"] == maya.json()["profile_id"]
    assert (
        httpx.get(
            f"{server}/v1/context", params={"email": "x@example.com"}, headers=auth
        ).status_code
        == 404
    )
    assert (
        httpx.get(f"{server}/v1/context", params={"email": "maya.patel@example.com"}).status_code
        == 401
    )
    assert (
        httpx.get(
            f"{server}/v1/context", params={"email": "not-an-email"}, headers=auth
        ).status_code
        == 400
    )
