"""context-service export: one JSONL line or CSV row per profile, members and identity."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from context_service.cli import main
from context_service.export import CSV_COLUMNS, write_export
from context_service.store import Store
from tests.conftest import Ingest
from tests.payloads import shopify_customer, stripe_customer


def _two_people(ingest: Ingest) -> None:
    ingest(
        shopify_customer(101, "maya@example.com", "Maya", "Patel"),
        stripe_customer("cus_maya", "maya@example.com", "Maya Patel"),
        shopify_customer(102, "tomas@example.com", "Tomás", "García"),
    )


def test_jsonl_has_one_line_per_profile_with_members_and_identity(
    store: Store, ingest: Ingest
) -> None:
    _two_people(ingest)
    out = io.StringIO()
    assert write_export(store.conn, out, "jsonl") == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2
    by_email = {line["identity"]["emails"][0]: line for line in lines}
    maya = by_email["maya@example.com"]
    assert maya["profile_id"].startswith("prof_")
    assert {(m["source"], m["external_id"]) for m in maya["members"]} == {
        ("shopify", "101"),
        ("stripe", "cus_maya"),
    }
    assert maya["identity"]["name"] == "Maya Patel"
    assert [m["source"] for m in by_email["tomas@example.com"]["members"]] == ["shopify"]


def test_csv_has_a_header_and_joined_lists(store: Store, ingest: Ingest) -> None:
    _two_people(ingest)
    out = io.StringIO()
    assert write_export(store.conn, out, "csv") == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(CSV_COLUMNS)
    maya = next(r for r in rows if r["emails"] == "maya@example.com")
    assert sorted(maya["members"].split("; ")) == [
        "shopify:customer:101",
        "stripe:customer:cus_maya",
    ]
    assert maya["name"] == "Maya Patel"


def test_empty_store_exports_nothing_but_the_csv_header(store: Store) -> None:
    out = io.StringIO()
    assert write_export(store.conn, out, "csv") == 0
    assert out.getvalue().strip() == ",".join(CSV_COLUMNS)


def test_cli_writes_every_demo_profile_to_a_file(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(demo_db))
    target = tmp_path / "profiles.jsonl"
    assert main(["export", "--format", "jsonl", "--output", str(target)]) == 0
    lines = target.read_text().splitlines()
    store = Store(demo_db)
    assert len(lines) == store.conn.execute("SELECT count(*) FROM profiles").fetchone()[0]
    maya = [json.loads(x) for x in lines if "maya.patel@example.com" in x]
    assert len(maya) == 1
    assert {m["source"] for m in maya[0]["members"]} >= {"shopify", "stripe"}
