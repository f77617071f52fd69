"""A lookup giving a placeholder contact (as the README lists them) beside a name is a 400 that
says so, as it is alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings


@pytest.fixture
def api(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        client.headers.update({"Authorization": f"Bearer {TEST_KEY}"})
        yield client


@pytest.mark.parametrize(
    "placeholder", [{"phone": "1234567890"}, {"phone": "0000000000"}, {"email": "test@test.com"}]
)
def test_a_placeholder_beside_a_name_is_a_400_that_says_so(
    api: TestClient[Any], placeholder: dict[str, str]
) -> None:
    """README, lookup: "A placeholder (`test@test.com`, ..., `0000000000` or `1234567890`) is a
    400 that says so". Alone it is; with a name it was silently dropped and the answer was the
    name's 409, whose detail says "the phone and name given", as if the phone had counted."""
    response = api.post("/v1/context/lookup", json={**placeholder, "name": "Maya Patel"})
    assert response.status_code == 400, response.text
    assert "placeholder" in response.json()["detail"]
