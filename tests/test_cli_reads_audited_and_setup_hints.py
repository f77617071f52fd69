"""The README's commands as documented: reads over ``context-service mcp`` and
``widget-url`` go to the read audit, ``sync`` names the settings a source lacks, ``doctor``
says exactly why widget links cannot be signed, and ``data-requests --export`` writes the
current snapshot, not one queued for a rebuild."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

import context_service.mcp_server
from context_service.cli import main
from context_service.doctor import diagnose
from context_service.models import AccessRequest
from context_service.snapshot import lookup
from context_service.store import Store, access_requests
from context_service.store import snapshots as snapshot_store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.conftest import TEST_KEY, make_settings
from tests.payloads import zendesk_user
from tests.trust.helpers import MAYA, copy_demo, make_key

SHOPIFY = ("SHOP", "ACCESS_TOKEN", "WEBHOOK_SECRET", "PREVIOUS_WEBHOOK_SECRET", "BASE_URL")


def _reads(db: Path) -> list[tuple[Any, ...]]:
    store = Store(db)
    try:
        rows = store.conn.execute(
            "SELECT key_name, profile_id, audience, channel FROM read_audit ORDER BY id"
        ).fetchall()
    finally:
        store.close()
    return [tuple(row) for row in rows]


def _maya(db: Path) -> str:
    store = Store(db)
    try:
        return lookup.by_email(store.conn, MAYA).profile_id
    finally:
        store.close()


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo store with an empty read audit, named by the environment."""
    db = copy_demo(demo_db, tmp_path)
    store = Store(db)
    with store.transaction() as conn:
        conn.execute("DELETE FROM read_audit")
    store.close()
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", TEST_KEY)
    return db


def test_stdio_mcp_tool_calls_are_recorded_in_the_read_audit(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[str] = []

    class Server:  # what ``build_mcp_server`` returns: runs the calls of a client, then ends
        def __init__(self, toolbox: Any) -> None:
            self.toolbox = toolbox

        def run(self, transport: str) -> None:
            assert transport == "stdio"
            answers.append(self.toolbox.call("get_customer_context", {"email": MAYA}))
            answers.append(self.toolbox.call("find_customer", {"email": MAYA}))

    monkeypatch.setattr(context_service.mcp_server, "build_mcp_server", Server)
    assert main(["mcp"]) == 0
    assert "Maya Patel" in answers[0]
    maya = _maya(demo_copy)
    assert _reads(demo_copy) == [
        ("mcp-stdio", maya, "chatbot", "tool:get_customer_context"),
        ("mcp-stdio", maya, "chatbot", "tool:find_customer"),
    ]


def test_minting_a_widget_link_on_the_command_line_is_recorded(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["widget-url", "--email", MAYA]) == 0
    assert "/widget?" in capsys.readouterr().out
    assert _reads(demo_copy) == [("cli", _maya(demo_copy), "sidebar", "widget-link")]


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"SHOP": "acme"}, "set CONTEXT_SERVICE_SHOPIFY_ACCESS_TOKEN;"),
        ({}, "set CONTEXT_SERVICE_SHOPIFY_SHOP, CONTEXT_SERVICE_SHOPIFY_ACCESS_TOKEN;"),
    ],
)
def test_sync_of_an_unconfigured_source_names_the_missing_settings(
    given: dict[str, str],
    named: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "cli.db"))
    for name in SHOPIFY:
        monkeypatch.delenv(f"CONTEXT_SERVICE_SHOPIFY_{name}", raising=False)
    for name, value in given.items():
        monkeypatch.setenv(f"CONTEXT_SERVICE_SHOPIFY_{name}", value)
    assert main(["sync", "shopify"]) == 2
    err = capsys.readouterr().err
    assert f"error: shopify is not configured: {named}" in err
    assert "'Connecting sources'" in err


def test_doctor_counts_live_scoped_keys_and_asks_nothing_for_widget_links(
    tmp_path: Path,
) -> None:
    db = tmp_path / "scoped.db"
    Store(db).close()
    for name in ("bot", "sidebar", "ops"):
        make_key(db, name, ["context:read"])
    text = [f.line() for f in diagnose(make_settings(db, api_keys=[]), [], probe=lambda u: None)]
    assert any("3 scoped API key(s) live" in line for line in text)
    assert not any("no API key" in line for line in text)  # there are three
    # Links are signed with the store's own random secret: nothing to set for them.
    assert not [line for line in text if "widget" in line.lower()]


def test_a_data_request_export_writes_the_rebuilt_snapshot_not_a_queued_one(
    store: Store,
    ctx: IngestContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest_batch(store, [RawPayload(*zendesk_user(1, "Ann Lee", "ann@example.com"))], ctx)
    profile_id = lookup.by_email(store.conn, "ann@example.com").profile_id
    (blob,) = store.conn.execute("SELECT json FROM snapshots").fetchone()
    stale = msgspec.json.decode(blob)
    stale["identity"]["name"] = "Ann Stale"
    with store.transaction() as conn:  # as a migration leaves it: stale, queued for a rebuild
        conn.execute("UPDATE snapshots SET json = ?", (msgspec.json.encode(stale),))
        snapshot_store.enqueue(conn, {profile_id}, "2026-01-01T00:00:00Z")
        access_requests.add(
            conn, "zendesk", AccessRequest("user", "1", request_id="r1"), "2026-01-01", None
        )
    (number,) = [r.id for r in access_requests.open_requests(store.conn)]
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    out = tmp_path / "answer.json"
    assert main(["data-requests", "--export", str(number), "--out", str(out)]) == 0
    held = json.loads(out.read_text())["held"]
    assert held["profile_id"] == profile_id
    assert held["snapshot"]["identity"]["name"] == "Ann Lee"
