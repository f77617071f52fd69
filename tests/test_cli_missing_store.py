"""Commands that change what a store holds (revoke a key, erase a person, decide a review
item, merge or split profiles, re-resolve everything) refuse a ``CONTEXT_SERVICE_DB`` that
names no database, as the reading commands do: a mistyped path must not create an empty store
and report that nobody was found or nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.cli import main
from tests.conftest import TEST_KEY

PROFILE = "prof_" + "0" * 26


@pytest.mark.parametrize(
    "argv",
    [
        ["keys", "revoke", "support-bot"],
        ["erase", PROFILE],
        ["review", "accept", "1"],
        ["profiles", "merge", PROFILE, "prof_" + "1" * 26],
        ["profiles", "split", PROFILE, "--record", "shopify:customer:1"],
        ["resolve", "--all"],
    ],
)
def test_a_command_that_changes_the_store_creates_none_at_a_mistyped_path(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "mistyped.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(missing))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", TEST_KEY)
    assert main(argv) == 2
    assert f"no store at {missing}" in capsys.readouterr().err
    assert not missing.exists()
