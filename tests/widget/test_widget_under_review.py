"""A card whose customer the service is not sure of (an open review item pairs one of their
records with another customer's: a name conflict on a shared mailbox) says so in its badge, not
a green "single source" (a review saw exactly that)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def _card(client: TestClient, body: dict[str, str]) -> str:  # type: ignore[type-arg]
    minted = client.post("/v1/widget/url", json=body, headers=AUTH)
    assert minted.status_code == 200, minted.text
    parts = urlsplit(minted.json()["url"])
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.text
    return str(page.text)


def test_a_customer_under_review_is_not_shown_as_certain(demo_db: Path, tmp_path: Path) -> None:
    with TestClient(app=create_app(make_settings(copy_demo(demo_db, tmp_path)))) as client:
        # The demo's one open item: Lori and Patricia Faure on one mailbox, names in conflict.
        [item] = client.get("/v1/review", headers=AUTH).json()["items"]
        assert item["a"]["profile_id"] != item["b"]["profile_id"]
        card = _card(client, {"profile_id": item["a"]["profile_id"]})
        maya = _card(client, {"email": MAYA})

    assert "possible duplicate, under review" in card
    assert "badge warn" in card
    assert "possible duplicate" not in maya
