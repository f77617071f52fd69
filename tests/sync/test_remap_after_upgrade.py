"""An upgraded store's records are mapped again where a migration asks for it (``sync.remap``).

Before 2026-11-30 evening a Zendesk agent was mapped with their email, so an agent with a
customer's email merged into that customer's profile. The fix reached only records fetched
later: an identical copy fetched again keeps its stored mapped form, and ``resolve --all``
resolves the stored mapped forms. Migration 0034 queues the stored Zendesk users and tickets;
the next command that reads or changes profiles maps them again from their raw payloads, so
the agent leaves the customer's profile, and ``doctor`` says so until then.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.models import Mapped
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.sync.remap import queued, remap_queued
from integrations.zendesk import map_record as map_zendesk
from tests.cli_process import run_cli
from tests.conftest import TEST_KEY, make_settings
from tests.payloads import shopify_customer, zendesk_user

EMAIL = "sam@shop.example"
CUSTOMER = "shopify:customer:1"
AGENT = "zendesk:user:7"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def _as_before_the_staff_fix(kind: str, payload: dict[str, Any]) -> Mapped:
    """Zendesk's mapping as the release before the fix made it: staff kept their email,
    phone and links like a customer."""
    if kind != "user" or payload.get("role") in (None, "end-user"):
        return map_zendesk(kind, payload)
    mapped = map_zendesk(kind, {**payload, "role": "end-user"})
    assert mapped.person is not None
    attributes = {**mapped.person.attributes, "role": str(payload["role"])}
    return msgspec.structs.replace(
        mapped, person=msgspec.structs.replace(mapped.person, attributes=attributes)
    )


def _agent() -> tuple[str, str, dict[str, Any]]:
    source, kind, payload = zendesk_user(7, "Sam Lee", EMAIL, phone="+1 415 555 0100")
    return source, kind, {**payload, "role": "agent"}


@pytest.fixture
def upgraded(tmp_path: Path, ctx: IngestContext) -> Path:
    """A store the release before the fix wrote (the agent merged into the customer Sam),
    not yet migrated by 0034."""
    path = tmp_path / "old.db"
    old = msgspec.structs.replace(ctx, mappers={**ctx.mappers, "zendesk": _as_before_the_staff_fix})
    store = Store(path)
    try:
        people = [shopify_customer(1, EMAIL, "Sam", "Lee"), _agent()]
        ingest_batch(store, [RawPayload(*p) for p in people], old)
        with store.transaction() as conn:
            conn.execute("DROP TABLE remap_queue")
            conn.execute("DELETE FROM _migrations WHERE name = '0034_remap_zendesk'")
        merged = store.conn.execute(
            "SELECT count(DISTINCT profile_id) FROM profile_members"
        ).fetchone()[0]
    finally:
        store.close()
    assert merged == 1  # as that release left it: the agent in the customer's profile
    return path


def _profiles(db: Path) -> list[set[str]]:
    done = run_cli("export", db=db)
    assert done.returncode == 0, done.stderr
    return [
        {f"{m['source']}:{m['kind']}:{m['external_id']}" for m in json.loads(line)["members"]}
        for line in done.stdout.splitlines()
    ]


def test_the_agent_leaves_the_customer_after_the_upgrade(upgraded: Path) -> None:
    profiles = _profiles(upgraded)
    assert {CUSTOMER} in profiles
    assert {AGENT} in profiles
    assert not any({CUSTOMER, AGENT} <= members for members in profiles)


def test_doctor_says_so_until_then(upgraded: Path, tmp_path: Path) -> None:
    doctor = run_cli("doctor", db=upgraded, CONTEXT_SERVICE_API_KEYS="doctor-key-0123456789")
    (line,) = [line for line in doctor.stdout.splitlines() if "mapped by an older" in line]
    assert line.startswith("warning")
    assert "zendesk user" in line
    sheet = tmp_path / "crm.csv"
    sheet.write_text("external_id,name,email\nr1,Ann Lee,ann@example.com\n")
    imported = run_cli("import", str(sheet), "--source", "crm", db=upgraded)
    assert imported.returncode == 0, imported.stderr
    assert "mapping the stored records of zendesk user again" in imported.stderr
    doctor = run_cli("doctor", db=upgraded, CONTEXT_SERVICE_API_KEYS="doctor-key-0123456789")
    assert "mapped by an older" not in doctor.stdout


def test_a_pass_is_done_once_and_resumes_where_it_stopped(
    upgraded: Path, ctx: IngestContext
) -> None:
    store = Store(upgraded)  # applies 0034
    try:
        assert queued(store.conn) == [("zendesk", "user")]
        with store.transaction() as conn:  # as a pass stopped after the agent's chunk leaves it
            conn.execute("UPDATE remap_queue SET after_id = (SELECT max(id) FROM records)")
        assert remap_queued(store, ctx) == 0  # nothing after it
        assert queued(store.conn) == []
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO remap_queue (source, kind, queued_at) VALUES (?, ?, ?)",
                ("zendesk", "user", "2026-12-01T00:00:00Z"),
            )
        assert remap_queued(store, ctx, chunk=1) == 1  # the agent, the only one that changed
        assert remap_queued(store, ctx) == 0
        mapped = store.conn.execute(
            "SELECT mapped FROM records WHERE source = 'zendesk' AND external_id = '7'"
        ).fetchone()[0]
        assert EMAIL not in bytes(mapped).decode()
    finally:
        store.close()


def test_an_app_another_server_starts_maps_them_again_before_it_answers(upgraded: Path) -> None:
    """``serve`` maps them before it starts its workers; an app that uvicorn or gunicorn
    starts (``app_from_env``) used to wait for the next CLI command, serving the agent as part
    of the customer meanwhile."""
    with TestClient(app=create_app(make_settings(upgraded))) as client:
        answer = client.get("/v1/context", params={"email": EMAIL}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    members = {f"{m['source']}:{m['kind']}:{m['external_id']}" for m in answer.json()["members"]}
    assert CUSTOMER in members
    assert AGENT not in members
    store = Store(upgraded)
    try:
        assert queued(store.conn) == []
    finally:
        store.close()
