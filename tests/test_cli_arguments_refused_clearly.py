"""Command-line details a reviewer ran into: ``keys list`` shows a key's own rate limit (as
``GET /v1/keys`` does), ``review list`` takes ``--offset`` or ``--after`` but not both (and
``GET /v1/review`` answers both with a 400), a missing sub-command is named by its choices,
not argparse's internal destination, and a number with no upper bound a person chose says
"1 or more", not "1 to 9223372036854775807"."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.cli import main
from context_service.store import Store
from tests.conftest import TEST_KEY, make_settings


@pytest.fixture
def env(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    monkeypatch.setenv("USER", "tester")
    return store


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_keys_list_shows_a_keys_own_rate_limit(
    env: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "--name", "bot", "--scopes", "context:read"]) == 0
    create = ["keys", "create", "--name", "slow", "--scopes", "context:read"]
    assert main([*create, "--rate-per-minute", "42"]) == 0
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    (slow,) = [line for line in lines if line.startswith("slow ")]
    (bot,) = [line for line in lines if line.startswith("bot ")]
    assert "rate-per-minute=42" in slow
    assert "rate-per-minute" not in bot  # none of its own: the server's limit applies


def test_review_list_refuses_an_offset_and_an_after_together(
    env: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(["review", "list", "--offset", "1", "--after", "3"], capsys)
    assert "--after" in err
    assert "--offset" in err
    assert main(["review", "list", "--after", "3"]) == 0  # either alone is fine
    assert main(["review", "list", "--offset", "1"]) == 0


def test_get_review_answers_an_offset_and_an_after_together_with_a_400(store: Store) -> None:
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    with TestClient(app=create_app(make_settings(store.path))) as client:
        response = client.get("/v1/review?offset=1&after=3", headers=auth)
        assert response.status_code == 400, response.text[:300]
        assert response.headers["content-type"].startswith("application/problem+json")
        body: dict[str, Any] = response.json()
        assert "offset" in body["detail"]
        assert "after" in body["detail"]
        assert client.get("/v1/review?after=3", headers=auth).status_code == 200
        assert client.get("/v1/review?offset=1", headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("argv", "choices", "internal"),
    [
        (["webhooks"], "{retry}", "webhooks_command"),
        (["keys"], "{create,list,revoke}", "keys_command"),
        (["review"], "{list,accept,reject}", "action"),
        (["profiles"], "{audit,merge,split}", "action"),
    ],
)
def test_a_missing_sub_command_is_named_by_its_choices(
    argv: list[str], choices: str, internal: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(argv, capsys)
    assert f"the following arguments are required: {choices}" in err
    assert internal not in err.split("error:", 1)[1]


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["audit", "--limit", "0"], "argument --limit: expected 1 or more, got 0"),
        (["review", "accept", "0"], "argument item_id: expected 1 or more, got 0"),
        (["webhooks", "retry", "--id", "0"], "argument --id: expected 1 or more, got 0"),
        (["import", "x.csv", "--source", "s", "--show-rejections", "-1"], "expected 0 or more"),
    ],
)
def test_a_bound_no_person_chose_is_not_printed(
    argv: list[str], complaint: str, env: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(argv, capsys)
    assert complaint in err
    assert "9223372036854775807" not in err


def test_a_number_too_large_to_store_says_the_largest(
    env: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(["review", "accept", "99999999999999999999"], capsys)
    assert "is too large: at most 9223372036854775807" in err


def test_help_still_lists_the_sub_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["keys", "--help"])
    out = capsys.readouterr().out
    assert "{create,list,revoke}" in out
    assert "keys_command" not in out
