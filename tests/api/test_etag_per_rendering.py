"""Each rendering of a profile's snapshot has an ETag of its own: JSON, text and each
audience's cut of one snapshot version are different representations, and a strong validator
that stayed the same across them (``"<profile>.<version>"``, as before) would let a client or
a proxy answer one with another (RFC 9110 8.8.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
MAYA = "maya.patel@example.com"
RENDERINGS: list[dict[str, str]] = [
    {},
    {"format": "text"},
    {"audience": "agent"},
    {"audience": "agent", "format": "text"},
    {"audience": "chatbot", "summary": "none"},
    {"audience": "agent", "max_tokens": "200"},
]


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _answer(client: TestClient[Any], extra: dict[str, str]) -> Any:
    response = client.get("/v1/context", params={"email": MAYA, **extra}, headers=AUTH)
    assert response.status_code == 200, (extra, response.text)
    return response


def test_each_rendering_has_its_own_tag_and_keeps_it(client: TestClient[Any]) -> None:
    answers = [_answer(client, extra) for extra in RENDERINGS]
    bodies = {a.content for a in answers}
    tags = {a.headers["etag"] for a in answers}
    assert len(bodies) == len(RENDERINGS)  # six different representations...
    assert len(tags) == len(RENDERINGS)  # ...six tags
    again = [_answer(client, extra).headers["etag"] for extra in RENDERINGS]
    assert again == [a.headers["etag"] for a in answers]  # the same body, the same tag
    profile, version = answers[0].headers["x-profile-id"], answers[0].headers["x-profile-version"]
    assert all(tag.startswith(f'"{profile}.{version}.') for tag in tags)
