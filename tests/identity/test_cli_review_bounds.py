"""``context-service review`` refuses numbers it cannot use with a usage error, never a
traceback: SQLite cannot bind an integer over 2**63 - 1, and a page holds 1 to 500 items, as
over HTTP."""

from __future__ import annotations

import pytest

from context_service.cli import main
from context_service.store import Store


@pytest.fixture(autouse=True)
def _env(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    monkeypatch.setenv("USER", "tester")


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (
            ["review", "accept", "99999999999999999999"],
            "argument item_id: 99999999999999999999 is too large",
        ),
        (["review", "reject", "0"], "argument item_id: expected 1 or more, got 0"),
        (["review", "accept", "twelve"], "expected a whole number, got 'twelve'"),
        (["review", "list", "--offset", "99999999999999999999"], "argument --offset"),
        (["review", "list", "--limit", "0"], "argument --limit: expected 1 to 500, got 0"),
        (["review", "list", "--limit", "501"], "argument --limit: expected 1 to 500"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert complaint in capsys.readouterr().err


def test_the_largest_id_is_looked_up_and_not_found(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", "accept", str(2**63 - 1)]) == 2
    assert "no review item 9223372036854775807" in capsys.readouterr().err
    assert main(["review", "list", "--offset", str(2**63 - 1), "--limit", "500"]) == 0
    assert "none of 0" in capsys.readouterr().out
