"""After an upgrade, the read commands never print a snapshot that a migration queued for a
rebuild: 0017 queues every stored snapshot, because one stored before it may quote a card
number a customer typed. ``lookup``, ``export`` and ``mcp`` build the queue first, as ``serve``
does at start-up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

import context_service.mcp_server
from context_service.cli import main
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.payloads import zendesk_user

CARD = "4242 4242 4242 4242"


@pytest.fixture
def upgraded_db(tmp_path: Path, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store as a release before 0017 left it (Ann's snapshot quotes her card number, and
    its name is not the one her record has), named by ``CONTEXT_SERVICE_DB``; opening it
    applies 0017."""
    path = tmp_path / "old.db"
    store = Store(path)
    ingest_batch(store, [RawPayload(*zendesk_user(1, "Ann Lee", "ann@example.com"))], ctx)
    (blob,) = store.conn.execute("SELECT json FROM snapshots").fetchone()
    old = msgspec.json.decode(blob)
    old["identity"]["name"] = f"Ann Stale, card {CARD}"
    with store.transaction() as conn:
        conn.execute(
            "UPDATE snapshots SET text = ?, json = ?",
            (f"Ann Lee; typed her card {CARD}\n", msgspec.json.encode(old)),
        )
        conn.execute("DELETE FROM _migrations WHERE name = '0017_rebuild_snapshots'")
        conn.execute("DELETE FROM snapshot_queue")
    store.close()
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(path))
    return path


def test_lookup_builds_the_queued_snapshots_before_printing(
    upgraded_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lookup", "ann@example.com"]) == 0
    out = capsys.readouterr().out
    assert "Ann Lee" in out
    assert CARD not in out
    store = Store(upgraded_db)
    try:
        assert store.conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0] == 0
    finally:
        store.close()


def test_export_builds_the_queued_snapshots_before_writing(
    upgraded_db: Path, tmp_path: Path
) -> None:
    target = tmp_path / "profiles.jsonl"
    assert main(["export", "--output", str(target)]) == 0
    (line,) = target.read_text().splitlines()
    assert json.loads(line)["identity"]["name"] == "Ann Lee"


def test_mcp_builds_the_queued_snapshots_before_serving(
    upgraded_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[str] = []

    class Server:
        def __init__(self, toolbox: Any) -> None:
            self.toolbox = toolbox

        def run(self, transport: str) -> None:
            answers.append(self.toolbox.call("get_customer_context", {"email": "ann@example.com"}))

    monkeypatch.setattr(context_service.mcp_server, "build_mcp_server", Server)
    assert main(["mcp"]) == 0
    (answer,) = answers
    assert "Ann Lee" in answer
    assert "Stale" not in answer  # (the chatbot text hides a card number in any case)
