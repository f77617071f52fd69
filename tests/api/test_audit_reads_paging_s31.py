"""``GET /v1/audit/reads`` pages past its newest 1,000 reads: ``before`` (the previous page's
``next_before``, ``null`` on the last page) walks every read exactly once, newest first, also
while new reads are recorded between the pages. It used to stop at the newest 1,000, with no
way further and nothing saying the list was cut."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.trust import Read
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SEEDED = 1_150


@pytest.fixture(scope="module")
def reads_client(
    demo_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient[Any], str]]:
    """An app on a demo copy holding over 1,100 reads of Maya (and some of nobody in
    particular), with Maya's profile id."""
    db = copy_demo(demo_db, tmp_path_factory.mktemp("reads"))
    with TestClient(app=create_app(make_settings(db))) as client:
        maya = client.get("/v1/context", params={"email": MAYA}, headers=AUTH).json()
        profile_id = maya["profile_id"]
        _record(client, profile_id, SEEDED)
        _record(client, None, 40)
        yield client, profile_id


def _record(client: TestClient[Any], profile_id: str | None, count: int) -> None:
    reads = [Read(f"seed-{i}", profile_id, "full", True, "context") for i in range(count)]
    client.app.state.trust.audit.record(reads)


def _stored_ids(client: TestClient[Any], profile_id: str | None) -> list[int]:
    """Every read's id as the table holds it, newest first (the audit written first)."""
    client.app.state.trust.audit.flush()
    conn = client.app.state.store.conn
    if profile_id is None:
        rows = conn.execute("SELECT id FROM read_audit ORDER BY id DESC")
    else:
        rows = conn.execute(
            "SELECT id FROM read_audit WHERE profile_id = ? ORDER BY id DESC", (profile_id,)
        )
    return [int(row[0]) for row in rows]


def _walk(
    client: TestClient[Any], params: dict[str, Any], between: Any = None
) -> tuple[list[int], int]:
    """Every page's read ids in order, following ``next_before``; and how many pages."""
    seen: list[int] = []
    pages = 0
    before: int | None = None
    while True:
        query = {**params, **({"before": before} if before is not None else {})}
        response = client.get("/v1/audit/reads", params=query, headers=AUTH)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert page["limit"] == params["limit"]
        assert page["before"] == before
        assert len(page["reads"]) <= params["limit"]
        seen += [read["id"] for read in page["reads"]]
        before = page["next_before"]
        if before is None:
            return seen, pages
        assert len(page["reads"]) == params["limit"]  # only a full page has a next one
        assert before == page["reads"][-1]["id"]
        if between is not None:
            between()


@pytest.mark.parametrize("limit", [1000, 97])
@pytest.mark.parametrize("of_maya", [True, False])
def test_every_read_is_listed_once_newest_first_across_pages(
    reads_client: tuple[TestClient[Any], str], limit: int, of_maya: bool
) -> None:
    client, maya = reads_client
    profile_id = maya if of_maya else None
    expected = _stored_ids(client, profile_id)
    assert len(expected) > 1_100
    params: dict[str, Any] = {"limit": limit}
    if profile_id is not None:
        params["profile_id"] = profile_id
    seen, pages = _walk(client, params)
    assert seen == expected  # each once, newest first, none skipped
    assert pages == -(-len(expected) // limit)


@pytest.mark.parametrize("of_maya", [True, False])
def test_reads_recorded_while_paging_neither_repeat_nor_hide_a_read(
    reads_client: tuple[TestClient[Any], str], of_maya: bool
) -> None:
    client, maya = reads_client
    profile_id = maya if of_maya else None
    expected = _stored_ids(client, profile_id)

    def more_reads() -> None:  # real reads through the API, and a burst recorded directly
        client.get("/v1/context", params={"email": MAYA}, headers=AUTH)
        _record(client, maya, 150)

    params: dict[str, Any] = {"limit": 250}
    if profile_id is not None:
        params["profile_id"] = profile_id
    seen, _ = _walk(client, params, between=more_reads)
    assert len(seen) == len(set(seen))
    assert seen == expected
    # The reads recorded meanwhile are all newer: the next walk starts with them.
    newest = client.get("/v1/audit/reads", params={"limit": 1}, headers=AUTH).json()
    assert newest["reads"][0]["id"] > expected[0]


def test_the_last_page_says_so_and_an_old_cursor_gives_what_is_older(
    reads_client: tuple[TestClient[Any], str],
) -> None:
    client, maya = reads_client
    ids = _stored_ids(client, maya)
    page = client.get(
        "/v1/audit/reads",
        params={"profile_id": maya, "limit": 5, "before": ids[-3]},
        headers=AUTH,
    ).json()
    assert [read["id"] for read in page["reads"]] == ids[-2:]
    assert page["next_before"] is None
    empty = client.get(
        "/v1/audit/reads", params={"profile_id": maya, "before": 1}, headers=AUTH
    ).json()
    assert empty["reads"] == []
    assert empty["next_before"] is None


@pytest.mark.parametrize(
    "query",
    [
        "before=0",
        "before=-1",
        "before=abc",
        "before=1e3",
        "before=9223372036854775808",
        "before=1&before=2",
        "offset=1000",
        "limit=1001",
    ],
)
def test_a_bad_cursor_or_limit_is_a_400_problem(
    reads_client: tuple[TestClient[Any], str], query: str
) -> None:
    client, _ = reads_client
    response = client.get(f"/v1/audit/reads?{query}", headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_well_formed_unknown_profile_has_no_reads(
    reads_client: tuple[TestClient[Any], str],
) -> None:
    client, _ = reads_client
    nobody = "prof_" + "0" * 26
    page = client.get("/v1/audit/reads", params={"profile_id": nobody}, headers=AUTH).json()
    assert page == {"reads": [], "limit": 100, "before": None, "next_before": None}
