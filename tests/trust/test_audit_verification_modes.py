"""The read audit tells a read the end user proved (``verified``) from one a trusted-backend key
vouched for (``trusted_backend``) and from the unverified answer (``unverified``), on the full
path of ``GET /v1/context`` and ``POST /v1/context/lookup`` and on the fast path alike; the
boolean ``verified`` keeps its meaning (the full answer was served), and rows written before
``verification`` existed read as they always did."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.store import Store
from context_service.trust.audit import Read, ReadAudit, reads_of
from context_service.trust.verify import user_hash
from tests.trust.helpers import MAYA, SITE_SECRET, chatbot_app, make_key

READ_SCOPES = ["context:read", "context:lookup"]


class World:
    """The chatbot app, a trusted-backend key, a plain agent key and an auditor key."""

    def __init__(self, client: TestClient[Any], db: Path) -> None:
        self.client = client
        self.backend = make_key(db, "backend", READ_SCOPES, trusted_backend=True)
        self.agent = make_key(db, "agent-desk", READ_SCOPES)
        self.admin = make_key(db, "auditor", ["admin"])

    def get(self, key: str, **params: str) -> Any:
        response = self.client.get(
            "/v1/context", params={"email": MAYA, **params}, headers=_auth(key)
        )
        assert response.status_code == 200, response.text
        return response

    def lookup(self, key: str, **body: str) -> Any:
        response = self.client.post(
            "/v1/context/lookup", json={"email": MAYA, **body}, headers=_auth(key)
        )
        assert response.status_code == 200, response.text
        return response

    def last_read(self) -> dict[str, Any]:
        """The newest row of ``GET /v1/audit/reads``."""
        reads = self.client.get("/v1/audit/reads", headers=_auth(self.admin)).json()["reads"]
        return dict(reads[0])


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def world(demo_db: Path, tmp_path: Path) -> Iterator[World]:
    with chatbot_app(demo_db, tmp_path) as (client, _bot, _clock, db):
        yield World(client, db)


def _mode(read: dict[str, Any]) -> tuple[str, bool, str]:
    return read["verification"], read["verified"], read["key_name"]


@pytest.mark.parametrize("via", ["get", "lookup"])
def test_a_trusted_backend_chatbot_read_is_recorded_as_trusted_backend(
    world: World, via: str
) -> None:
    ask = world.get if via == "get" else world.lookup
    response = ask(world.backend, audience="chatbot")
    assert response.headers["X-Context-Verification"] == "trusted_backend"
    assert _mode(world.last_read()) == ("trusted_backend", True, "backend")


@pytest.mark.parametrize("via", ["get", "lookup"])
def test_a_trusted_backend_with_a_rejected_proof_is_still_trusted_backend(
    world: World, via: str
) -> None:
    ask = world.get if via == "get" else world.lookup
    ask(world.backend, audience="chatbot", user_hash="0" * 64)
    assert _mode(world.last_read()) == ("trusted_backend", True, "backend")


@pytest.mark.parametrize("via", ["get", "lookup"])
def test_a_read_the_end_user_proved_is_recorded_as_verified(world: World, via: str) -> None:
    ask = world.get if via == "get" else world.lookup
    proof = user_hash(SITE_SECRET, MAYA)
    ask(world.backend, audience="chatbot", user_hash=proof)  # a proof beats the key's word
    assert _mode(world.last_read()) == ("verified", True, "backend")
    ask(world.agent, audience="chatbot", user_hash=proof)
    assert _mode(world.last_read()) == ("verified", True, "agent-desk")


def test_an_unverified_chatbot_read_is_recorded_as_unverified(world: World) -> None:
    world.lookup(world.agent, audience="chatbot")
    assert _mode(world.last_read()) == ("unverified", False, "agent-desk")


def test_the_fast_path_and_the_full_path_record_the_same_verification(world: World) -> None:
    """The stored row, answered by ``context_fast`` or (``summary=none``) by the handler."""
    for key, name, mode in (
        (world.backend, "backend", "trusted_backend"),
        (world.agent, "agent-desk", "verified"),
    ):
        world.get(key)  # the fast path
        fast = world.last_read()
        world.get(key, summary="none")  # the full path
        full = world.last_read()
        assert fast["id"] != full["id"]
        assert {k: v for k, v in fast.items() if k not in ("id", "at")} == {
            k: v for k, v in full.items() if k not in ("id", "at")
        }
        assert (fast["audience"], *_mode(fast)) == ("full", mode, True, name)


def test_an_audience_read_by_a_trusted_backend_is_recorded_as_trusted_backend(
    world: World,
) -> None:
    world.get(world.backend, audience="agent")
    assert _mode(world.last_read()) == ("trusted_backend", True, "backend")
    world.get(world.agent, audience="agent")
    assert _mode(world.last_read()) == ("verified", True, "agent-desk")


def test_the_audit_stores_and_lists_each_mode(store: Store) -> None:
    audit = ReadAudit(store, 365, lambda: 1_800_000_000.0)
    audit.record(
        [
            Read("a", "prof_1", "chatbot", True, "context", "trusted_backend"),
            Read("b", "prof_1", "chatbot", True, "context", "verified"),
            Read("c", "prof_1", "chatbot", False, "context", "unverified"),
            Read("d", "prof_1", "sidebar", True, "widget"),  # callers that give only the flag
            Read("e", "prof_1", "chatbot", False, "tool:find_customer"),
        ]
    )
    got = [(e.key_name, e.verified, e.verification) for e in reads_of(store.conn)]
    assert got == [
        ("e", False, "unverified"),
        ("d", True, "verified"),
        ("c", False, "unverified"),
        ("b", True, "verified"),
        ("a", True, "trusted_backend"),
    ]


def test_rows_written_before_the_verification_field_read_as_before(store: Store) -> None:
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO read_audit (at, key_name, profile_id, audience, verified, channel) "
            "VALUES ('2026-01-01T00:00:00Z', ?, 'prof_1', 'chatbot', ?, 'context')",
            [("old-yes", 1), ("old-no", 0)],
        )
    got = [(e.key_name, e.verified, e.verification) for e in reads_of(store.conn)]
    assert got == [("old-no", False, "unverified"), ("old-yes", True, "verified")]
