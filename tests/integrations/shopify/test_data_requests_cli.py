"""``context-service data-requests``: the open requests with what to export, then answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main
from context_service.store import Store
from context_service.sync import IngestContext
from tests.integrations.shopify.fake import FakeShopify
from tests.integrations.shopify.test_webhooks import data_request_body, deliver, open_requests


@pytest.fixture
def fake() -> FakeShopify:
    return FakeShopify()


def test_an_answered_request_leaves_the_list_and_status(
    fake: FakeShopify,
    store: Store,
    ctx: IngestContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connector = fake.connector()
    deliver(fake, store, connector, ctx, "customers/data_request", data_request_body())
    deliver(fake, store, connector, ctx, "customers/data_request", data_request_body(5, 777))
    first, second = open_requests(store)
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "test.db"))

    assert main(["data-requests"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == [f"#{first['id']}", f"#{second['id']}"]
    assert "data request 9999 from fake-shop.myshopify.com" in listed[0]
    assert "nothing stored about them" in listed[0]

    assert main(["data-requests", "--answered", str(first["id"])]) == 0
    assert f"#{first['id']} marked answered" in capsys.readouterr().out
    assert [r["id"] for r in open_requests(store)] == [second["id"]]
    row = store.conn.execute(
        "SELECT status, closed_at FROM access_requests WHERE id = ?", (first["id"],)
    ).fetchone()
    assert row[0] == "answered"
    assert row[1]

    # Answering it again, or a number that is no open request, says so and fails.
    assert main(["data-requests", "--answered", str(first["id"])]) == 1
    assert f"no open data request #{first['id']}" in capsys.readouterr().err
    assert main(["status"]) == 0
    assert "data request 9999" not in capsys.readouterr().out


def test_nothing_open_says_so(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "test.db"))
    assert main(["data-requests"]) == 0
    assert capsys.readouterr().out == "no open data requests\n"
