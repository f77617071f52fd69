"""The command line as an operator meets it: bad numbers are usage errors (exit 2, no
traceback), widget links stay short-lived and name a proper base URL, read-only commands
create no database at a mistyped path, and vendor-supplied text cannot drive the terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import context_service.snapshot.lookup
import context_service.sync
import context_service.sync.status
from context_service.cli import main
from context_service.cli_trust import access_request_line
from context_service.errors import AmbiguousIdentifier
from context_service.store import Store
from context_service.sync import IngestReport
from context_service.sync.ingest import Rejection
from context_service.sync.runner import SyncOutcome
from tests.conftest import TEST_KEY, Ingest
from tests.payloads import shopify_customer
from tests.trust.helpers import MAYA, copy_demo

HUGE = str(2**70)
# What a customer or a vendor can put in a name or an id: an escape that clears the screen and
# colours text, a right-to-left override, and a line break that forges a line of output.
EVIL = "\x1b[2J\x1b[31mRED\u202eevil\r\nFAKE LINE"
RAW = ("\x1b", "\u202e", "\r", "\nFAKE LINE")


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err


def _shows_nothing_raw(text: str) -> None:
    assert not any(raw in text for raw in RAW), repr(text)


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = copy_demo(demo_db, tmp_path)
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", TEST_KEY)
    return db


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--limit", HUGE],
        ["audit", "--limit", "-1"],
        ["rejected", "--limit", "-1"],
        ["data-requests", "--answered", HUGE],
        ["data-requests", "--export", HUGE],
        ["data-requests", "--answered", "0"],
        ["widget-url", "--email", MAYA, "--ttl", HUGE],
        ["widget-url", "--email", MAYA, "--ttl", "0"],
        ["widget-url", "--email", MAYA, "--ttl", "-5"],
        ["widget-url", "--email", MAYA, "--ttl", "86401"],
        ["keys", "create", "--name", "bot", "--scopes", "context:read", "--rate-per-minute", HUGE],
    ],
)
def test_a_number_out_of_range_is_a_usage_error(
    argv: list[str], demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(argv, capsys)
    assert "Traceback" not in err
    assert argv[-2] in err  # the option is named


def test_demo_refuses_a_negative_customer_count_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import context_service.cli

    def no_serving(*_args: Any) -> None:
        raise AssertionError("demo served")

    monkeypatch.setattr(context_service.cli, "serve", no_serving)
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "demo.db"))
    err = _usage_error(["demo", "--customers", "-5"], capsys)
    assert "--customers" in err
    assert not (tmp_path / "demo.db").exists()


def test_a_widget_link_lives_as_long_as_asked_within_the_apis_bounds(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    before = int(time.time())
    assert main(["widget-url", "--email", MAYA, "--ttl", "86400"]) == 0
    url = capsys.readouterr().out.strip()
    expires = int(url.split("exp=")[1].split("&")[0])
    assert before + 86400 <= expires <= int(time.time()) + 86400


@pytest.mark.parametrize(
    "base_url", ["ftp://example.com", "https://admin:hunter22@example.com", "example.com"]
)
def test_a_widget_base_url_must_be_http_without_credentials(
    base_url: str, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["widget-url", "--email", MAYA, "--base-url", base_url]) == 2
    captured = capsys.readouterr()
    assert "--base-url" in captured.err
    assert "hunter22" not in captured.err + captured.out
    assert "/widget?" not in captured.out


@pytest.mark.parametrize(
    "argv", [["status"], ["status", "--json"], ["keys", "list"], ["widget-url", "--email", MAYA]]
)
def test_a_read_only_command_creates_no_database_at_a_mistyped_path(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "mistyped.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(missing))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", TEST_KEY)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert f"no store at {missing}" in captured.err
    assert captured.out == ""
    assert not missing.exists()


def test_keys_create_refuses_an_empty_audience_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # ``--audiences "$AUDIENCES"`` with the variable unset must not mint an unrestricted key.
    db = tmp_path / "keys.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    assert (
        main(["keys", "create", "--name", "bot", "--scopes", "context:read", "--audiences", ""])
        == 2
    )
    captured = capsys.readouterr()
    assert "--audiences" in captured.err
    assert captured.out == ""
    assert main(["keys", "list"]) in (0, 2)
    assert "bot" not in capsys.readouterr().out


def test_rejected_escapes_what_a_vendor_sent(
    store: Store,
    ingest: Ingest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    ingest(
        shopify_customer(1, "ann@example.com", "Ann", "Lee"),
        ("shopify", "customer", {"id": "9" + EVIL, "updated_at": "garbage" + EVIL}),
    )
    assert main(["rejected"]) == 0
    out = capsys.readouterr().out
    _shows_nothing_raw(out)
    assert "FAKE LINE" in out  # escaped, still readable
    assert len(out.splitlines()) == 2  # the record's line and its payload's start


def test_lookup_escapes_the_candidates_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "shared.db"
    Store(db).close()
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    candidates = [
        {"profile_id": "prof_a", "name": "Ana" + EVIL, "why": "shares the mailbox" + EVIL},
        {"profile_id": "prof_b", "name": "Bruno Costa", "why": "shares the mailbox"},
    ]

    def ambiguous(*_args: Any, **_kwargs: Any) -> Any:
        raise AmbiguousIdentifier("2 customers share it", candidates=candidates)

    monkeypatch.setattr(context_service.snapshot.lookup, "by_email", ambiguous)
    assert main(["lookup", "shared@example.com"]) == 1
    err = capsys.readouterr().err
    _shows_nothing_raw(err)
    assert "Bruno Costa" in err


def _hostile_status(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
    run = {
        "started_at": "2026-11-30T00:00:00Z",
        "mode": "incremental",
        "status": "failed",
        "note": "note" + EVIL,
        "error": "vendor said" + EVIL,
    }
    request = {
        "id": 1,
        "source": "shopify",
        "request_id": "r" + EVIL,
        "account": "shop" + EVIL,
        "received_at": "2026-11-30T00:00:00Z",
        "kind": "customer",
        "external_id": "7" + EVIL,
        "email": "e" + EVIL,
        "records": [["order", "9" + EVIL]],
        "profile_id": None,
    }
    return {
        "shopify": {
            "last_run": run,
            "records": 1,
            "records_rejected": 0,
            "webhooks": {},
            "webhooks_failed": 0,
            "cursors": {"customers": "c" + EVIL},
            "access_requests": [request],
        }
    }


def test_status_escapes_vendor_text_and_its_json_stays_json(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    monkeypatch.setattr(context_service.sync.status, "sync_status", _hostile_status)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    _shows_nothing_raw(out)
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shopify"]["cursors"]["customers"] == "c" + EVIL


def test_a_data_request_line_escapes_what_the_vendor_sent() -> None:
    request = _hostile_status()["shopify"]["access_requests"][0]
    _shows_nothing_raw(access_request_line(request))


def test_sync_escapes_rejected_ids_reasons_notes_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(tmp_path / "sync.db"))
    monkeypatch.setenv("CONTEXT_SERVICE_STRIPE_API_KEY", "sk_test_review14")
    rejection = Rejection("stripe", "customer", "cus" + EVIL, "bad" + EVIL)
    outcome = SyncOutcome(
        source="stripe",
        mode="full",
        status="failed",
        report=IngestReport(rejected=1, rejections=[rejection]),
        notes=["note" + EVIL],
        error="HTTP 500:" + EVIL,
    )
    monkeypatch.setattr(context_service.sync, "run_sync", lambda *_a, **_k: outcome)
    assert main(["sync", "stripe"]) == 1
    captured = capsys.readouterr()
    _shows_nothing_raw(captured.out)
    _shows_nothing_raw(captured.err)


def test_webhooks_retry_of_an_id_sqlite_cannot_hold_is_a_usage_error(
    demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _usage_error(["webhooks", "retry", "--id", HUGE], capsys)
    assert "--id" in err


@pytest.mark.parametrize(
    "argv", [["status"], ["lookup", MAYA], ["keys", "list"], ["export"], ["resolve", "--all"]]
)
def test_a_file_that_is_no_database_is_named_without_a_traceback(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings_file = tmp_path / "context.toml"  # CONTEXT_SERVICE_DB pointed at the wrong file
    settings_file.write_text("this is no database, only text\n" * 200)
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(settings_file))
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert str(settings_file) in captured.err
    assert "not a database" in captured.err
    assert captured.out == ""
    assert settings_file.read_text().startswith("this is no database")


def test_a_database_sqlite_cannot_write_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    import context_service.cli_trust

    def read_only(*_args: Any, **_kwargs: Any) -> Any:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    db = tmp_path / "ro.db"
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(db))
    monkeypatch.setattr(context_service.cli_trust, "Store", read_only)
    assert main(["keys", "create", "--name", "bot", "--scopes", "context:read"]) == 2
    err = capsys.readouterr().err
    assert str(db) in err
    assert "readonly database" in err


CLI = Path(sys.executable).parent / "context-service"


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--limit", HUGE],
        ["data-requests", "--answered", HUGE],
        ["widget-url", "--email", MAYA, "--ttl", HUGE],
        ["review", "list", "--limit", "0"],
        ["status"],
    ],
)
def test_the_installed_command_exits_2_without_a_traceback(argv: list[str], tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CONTEXT_SERVICE_DB": str(tmp_path / "missing.db")}
    env["CONTEXT_SERVICE_API_KEYS"] = TEST_KEY
    done = subprocess.run(
        [str(CLI), *argv], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert TEST_KEY not in done.stderr
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--port", "\uff18\uff10\uff10\uff10"],  # full-width 8000
        ["serve", "--port", "0"],
        ["serve", "--port", "65536"],
        ["demo", "--port", "\u0668\u0660\u0660\u0660"],  # Arabic-Indic 8000
        ["import", "x.csv", "--source", "crm", "--show-rejections", "1_0"],
        ["import", "x.csv", "--source", "crm", "--show-rejections", "-1"],
        ["review", "list", "--limit", "\uff15"],
    ],
)
def test_numbers_on_the_command_line_are_ascii_digits_in_range(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``int()`` takes full-width and Arabic-Indic digits and underscores: a pasted value that
    is almost always a slip is a usage error (exit 2), not a port or a limit."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert "expected" in capsys.readouterr().err
