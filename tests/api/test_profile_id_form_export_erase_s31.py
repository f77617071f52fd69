"""A profile id that is not ``prof_`` and 26 letters or digits is a 400 problem on
``GET /v1/profiles/{id}/export`` and ``DELETE /v1/profiles/{id}``, as on the profile's audit,
split and merge and on ``GET /v1/context``; a well-formed unknown id stays a 404. Both used to
answer 404 (no such profile) for a typo or a hostile string."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
MALFORMED = [
    "prof_x",
    "prof_nobody",
    "PROF_01M8YSAAK53KCE4NM9C3CXEMFM",
    "prof_01M8YSAAK53KCE4NM9C3CXEMF%C3%9C",  # 26 characters, one not ASCII
    "prof_01M8YSAAK53KCE4NM9C3CXEMFM%00",
    "%20prof_01M8YSAAK53KCE4NM9C3CXEMFM",
    "%E2%80%AEprof_01M8YSAAK53KCE4NM9C3CXEMFM",
]


@pytest.fixture(scope="module")
def demo_client(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    db = copy_demo(demo_db, tmp_path_factory.mktemp("ids"))
    with TestClient(app=create_app(make_settings(db))) as client:
        yield client


def _assert_400(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert "is not a profile id (prof_ + 26 characters)" in problem["detail"]


@pytest.mark.parametrize("bad", MALFORMED)
def test_a_malformed_id_is_400_on_export_and_erase_as_on_audit(demo_client: Any, bad: str) -> None:
    audit = demo_client.get(f"/v1/profiles/{bad}/audit", headers=AUTH)
    export = demo_client.get(f"/v1/profiles/{bad}/export", headers=AUTH)
    erase = demo_client.delete(f"/v1/profiles/{bad}", headers=AUTH)
    for response in (audit, export, erase):
        _assert_400(response)
    assert export.json()["detail"] == audit.json()["detail"] == erase.json()["detail"]


def test_a_well_formed_unknown_id_is_still_404(demo_client: Any) -> None:
    nobody = "prof_" + "0" * 26
    for response in (
        demo_client.get(f"/v1/profiles/{nobody}/export", headers=AUTH),
        demo_client.delete(f"/v1/profiles/{nobody}", headers=AUTH),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


def test_a_real_profile_is_still_exported(demo_client: Any) -> None:
    profile_id = demo_client.get("/v1/context", params={"email": MAYA}, headers=AUTH).json()[
        "profile_id"
    ]
    document = demo_client.get(f"/v1/profiles/{profile_id}/export", headers=AUTH)
    assert document.status_code == 200
    assert document.json()["profile_id"] == profile_id
