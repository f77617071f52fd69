"""``data-requests --export N --out FILE`` writes everything held about a person, raw vendor
payloads included: the file is its owner's only (mode 600) however it was before, a path that
cannot be written is one ``error:`` line, and neither the store's own file nor another SQLite
database is ever written over (the JSON used to truncate the live store)."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from context_service.models import AccessRequest
from context_service.store import Store, access_requests
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.cli_process import run_cli
from tests.payloads import zendesk_user


@pytest.fixture
def db(tmp_path: Path, ctx: IngestContext) -> Path:
    """A store holding Ann, whose data request #1 is open."""
    path = tmp_path / "store.db"
    store = Store(path)
    try:
        ingest_batch(store, [RawPayload(*zendesk_user(1, "Ann Lee", "ann@example.com"))], ctx)
        with store.transaction() as conn:
            access_requests.add(
                conn, "zendesk", AccessRequest("user", "1", request_id="r1"), "2026-01-01", None
            )
    finally:
        store.close()
    return path


def _reads(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (count,) = conn.execute("SELECT count(*) FROM read_audit").fetchone()
    conn.close()
    return int(count)


def test_the_answer_is_owner_only_even_where_a_readable_file_was(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "answer.json"
    out.write_text("an earlier answer")
    out.chmod(0o644)
    done = run_cli("data-requests", "--export", "1", "--out", str(out), db=db)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "Ann Lee" in out.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".answer")] == []


@pytest.mark.parametrize("where", ["missing/answer.json", "a-folder"])
def test_an_out_that_cannot_be_written_is_one_error_line(
    db: Path, tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-folder").mkdir()
    out = tmp_path / where
    done = run_cli("data-requests", "--export", "1", "--out", str(out), db=db)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot write {out}")
    assert _reads(db) == 0  # nothing handed out, nothing recorded as read


def test_the_store_itself_is_refused_and_survives(db: Path) -> None:
    done = run_cli("data-requests", "--export", "1", "--out", str(db), db=db)
    assert done.returncode == 2
    assert "store's own file" in done.stderr
    status = run_cli("status", db=db)
    assert status.returncode == 0, status.stderr


def test_another_sqlite_database_is_refused_and_survives(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE kept (x)")
    conn.close()
    before = other.read_bytes()
    done = run_cli("data-requests", "--export", "1", "--out", str(other), db=db)
    assert done.returncode == 2
    assert "SQLite database" in done.stderr
    assert other.read_bytes() == before


def test_an_out_without_an_export_is_refused(db: Path, tmp_path: Path) -> None:
    """``--out`` without ``--export N`` listed the requests and exited 0: the operator who
    meant to write an answer got none and was not told."""
    out = tmp_path / "answer.json"
    done = run_cli("data-requests", "--out", str(out), db=db)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: --out names where --export N writes; give --export N"
    ]
    assert not out.exists()


def test_the_read_audit_of_no_profile_id_is_refused_and_an_empty_one_says_so(db: Path) -> None:
    """``audit --profile-id bad`` printed nothing, exit 0, where ``profiles audit bad`` says
    it is no profile id."""
    refused = run_cli("audit", "--profile-id", "bad", db=db)
    assert refused.returncode == 2
    assert "is not a profile id" in refused.stderr
    quiet = run_cli("audit", "--profile-id", "prof_01M8VPQGBXHCQ7JYBY4V88GYYE", db=db)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "no reads of prof_01M8VPQGBXHCQ7JYBY4V88GYYE recorded\n"
