"""``context-service rejected`` lists what could not be mapped and forgets it on request;
``status`` counts it per source, imports and directly loaded sources included."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main
from context_service.models import RecordKey
from context_service.store import Store
from context_service.store.records import get_records, rejected, rejected_payload, stored_states
from tests.conftest import Ingest
from tests.payloads import shopify_customer

ANN = RecordKey("shopify", "customer", "1")


@pytest.fixture(autouse=True)
def _env(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def _with_rejections(ingest: Ingest) -> None:
    ingest(
        shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"),
        ("shopify", "customer", {"id": 2, "email": "x@example.com", "updated_at": "garbage"}),
        ("stripe", "customer", {"id": "cus_1", "object": "customer", "created": "not a time"}),
    )
    newer_broken = {"id": 1, "email": ["not", "a", "string"], "updated_at": "2030-01-01T00:00:00Z"}
    ingest(("shopify", "customer", newer_broken))


def test_rejections_are_listed_with_their_reason_and_raw_start(
    store: Store, ingest: Ingest, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_rejections(ingest)
    out = _run(capsys, "rejected")
    assert "shopify customer 2 " in out
    assert "kept raw" in out
    assert "shopify customer 1 " in out
    assert "good version kept" in out
    assert "stripe customer cus_1 " in out
    only = _run(capsys, "rejected", "--source", "stripe")
    assert "stripe customer cus_1" in only
    assert "shopify" not in only


def test_clear_forgets_them_and_keeps_every_good_version(
    store: Store, ingest: Ingest, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_rejections(ingest)
    out = _run(capsys, "rejected", "--clear", "--source", "shopify")
    assert "deleted 1 records kept raw, dropped 1 rejected payloads" in out
    assert [r.key.source for r in rejected(store.conn)] == ["stripe"]
    state = stored_states(store.conn, [ANN])[ANN]
    (ann,) = get_records(store.conn, [state.record_id])
    assert ann.mapped is not None
    assert ann.error is None
    assert rejected_payload(store.conn, ANN) is None
    assert "nothing rejected from shopify" in _run(capsys, "rejected", "--source", "shopify")


def test_status_lists_loaded_sources_and_imports_in_plain_words(
    store: Store, ingest: Ingest, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _with_rejections(ingest)
    sheet = tmp_path / "people.csv"
    sheet.write_text("email,name\nann@example.com,Ann Lee\nnot-an-email,Bob Ray\n")
    assert main(["import", str(sheet), "--source", "crm"]) == 0
    capsys.readouterr()
    lines = _run(capsys, "status").splitlines()
    assert "shopify: no run recorded; records 2, rejected 2; webhooks none" in lines
    crm = lines.index(next(line for line in lines if line.startswith("crm: last run ")))
    assert " import ok; records 2, rejected 1" in lines[crm]
    assert lines[crm + 1].strip() == "people.csv: 2 rows, 1 imported, 1 rejected"
