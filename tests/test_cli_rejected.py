"""``context-service rejected``: what could not be mapped is listed, and forgotten on request."""

from __future__ import annotations

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
