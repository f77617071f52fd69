"""The snapshot queue after an upgrade or a ``resolve --all``: ``serve`` answers before the
whole queue is built (a background thread builds it in chunks), a read of a profile still
queued builds that one first (never the queued row), ``lookup`` builds only the profile it
prints, and ``resolve --all`` commits the identity rebuild before building the snapshots."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

import context_service.snapshot.materialize as materialize_module
from context_service.api import create_app
from context_service.cli import main
from context_service.cli_runs import open_for_reading
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.sync import RawPayload, ingest_batch
from context_service.sync.rebuild import resolve_all
from context_service.sync.snapshot_queue import SnapshotDrain
from context_service.wiring import ingest_context
from tests.conftest import TEST_KEY, make_settings
from tests.payloads import zendesk_user

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
PEOPLE = 4
# What migration 0024 runs: every stored snapshot queued for a rebuild.
QUEUE_ALL = (
    "INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at) "
    "SELECT profile_id, '2026-11-30T00:00:00Z' FROM snapshots"
)


def _email(n: int) -> str:
    return f"person{n}@example.com"


def _profile_of(conn: sqlite3.Connection, n: int) -> str:
    row = conn.execute(
        "SELECT m.profile_id FROM identifiers i JOIN profile_members m "
        "ON m.record_id = i.record_id WHERE i.kind = 'email' AND i.value = ?",
        (_email(n),),
    ).fetchone()
    return str(row[0])


def _make_stale(conn: sqlite3.Connection, profile_id: str, leaked: str) -> None:
    """Make a profile's stored row one an old release wrote: it quotes someone else's email."""
    (blob,) = conn.execute(
        "SELECT json FROM snapshots WHERE profile_id = ?", (profile_id,)
    ).fetchone()
    old = msgspec.json.decode(blob)
    old["identity"]["name"] = f"Stale, see {leaked}"
    conn.execute(
        "UPDATE snapshots SET json = ?, text = ? WHERE profile_id = ?",
        (msgspec.json.encode(old), f"Stale, see {leaked}\n", profile_id),
    )


def _queued(path: Path | str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0])


@pytest.fixture
def upgraded(tmp_path: Path) -> Path:
    """A store of ``PEOPLE`` customers whose rows an old release wrote (each quotes another
    customer's email), every one queued by a migration like 0024."""
    path = tmp_path / "upgraded.db"
    store = Store(path)
    try:
        ctx = ingest_context(make_settings(path))
        users = [RawPayload(*zendesk_user(n, f"Person {n}", _email(n))) for n in range(PEOPLE)]
        ingest_batch(store, users, ctx)
        with store.transaction() as conn:
            for n in range(PEOPLE):
                _make_stale(conn, _profile_of(conn, n), _email((n + 1) % PEOPLE))
            conn.execute(QUEUE_ALL)
    finally:
        store.close()
    return path


class Gate:
    """Holds the background drain before each chunk until the test opens it."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.reached = threading.Event()

    def __call__(self) -> None:
        self.reached.set()
        self.opened.wait(timeout=60)


@pytest.fixture
def held(upgraded: Path) -> Iterator[tuple[TestClient[Any], Gate, SnapshotDrain, Store]]:
    """A server on the upgraded store whose background drain waits at its first chunk."""
    store = Store(upgraded)
    gate = Gate()
    drain = SnapshotDrain(store, ingest_context(make_settings(upgraded)), before_chunk=gate)
    app = create_app(make_settings(upgraded), store=store, snapshot_drain=drain)
    try:
        with TestClient(app=app) as client:
            try:
                yield client, gate, drain, store
            finally:
                gate.opened.set()  # else the server's stop waits for the held drain
    finally:
        drain.stop()
        store.close()


def test_serve_answers_before_the_queue_is_built(
    held: tuple[TestClient[Any], Gate, SnapshotDrain, Store], upgraded: Path
) -> None:
    client, gate, drain, _ = held
    assert gate.reached.wait(timeout=30)  # the drain runs, held at its first chunk
    assert client.get("/health").status_code == 200
    assert _queued(upgraded) == PEOPLE  # start-up did not build the queue
    gate.opened.set()
    assert drain.wait(timeout=60)
    assert _queued(upgraded) == 0


@pytest.mark.parametrize(
    ("how", "params"),
    [
        ("stored row (fast path)", {}),
        ("text", {"format": "text"}),
        ("agent rendering (full path)", {"audience": "agent"}),
    ],
)
def test_a_queued_profile_is_built_on_its_first_read(
    held: tuple[TestClient[Any], Gate, SnapshotDrain, Store],
    upgraded: Path,
    how: str,
    params: dict[str, str],
) -> None:
    client, gate, _, _ = held
    assert gate.reached.wait(timeout=30)
    answer = client.get("/v1/context", params={"email": _email(0), **params}, headers=AUTH)
    assert answer.status_code == 200, how
    assert "Person 0" in answer.text
    assert _email(1) not in answer.text  # the stale row quoted someone else's email
    assert _queued(upgraded) == PEOPLE - 1  # that one profile, not the whole queue


def test_lookup_and_tools_build_a_queued_profile_first(
    held: tuple[TestClient[Any], Gate, SnapshotDrain, Store],
) -> None:
    client, gate, _, store = held
    assert gate.reached.wait(timeout=30)
    looked = client.post("/v1/context/lookup", json={"email": _email(2)}, headers=AUTH)
    assert looked.status_code == 200
    assert looked.json()["identity"]["name"] == "Person 2"
    profile_id = _profile_of(store.conn, 3)
    by_id = client.get("/v1/context", params={"profile_id": profile_id}, headers=AUTH)
    assert by_id.json()["identity"]["name"] == "Person 3"


def test_a_profile_another_process_queued_is_built_before_it_is_served(
    upgraded: Path,
) -> None:
    """``resolve --all`` in another process commits new clusters with their profiles queued
    and builds them after: a read in between must not serve the queued row."""
    store = Store(upgraded)
    app = create_app(make_settings(upgraded), store=store)
    try:
        with TestClient(app=app) as client:
            assert app.state.snapshot_drain.wait(timeout=60)  # the queue is empty now
            other = Store(upgraded)  # another process's connections
            try:
                with other.transaction() as conn:
                    _make_stale(conn, _profile_of(conn, 1), _email(2))
                    conn.execute(QUEUE_ALL)
            finally:
                other.close()
            answer = client.get("/v1/context", params={"email": _email(1)}, headers=AUTH)
            assert answer.json()["identity"]["name"] == "Person 1"
    finally:
        store.close()


def test_an_unqueued_read_costs_one_statement(upgraded: Path) -> None:
    """The queue check rides in the lookup's own statement: no query is added."""
    store = open_for_reading(make_settings(upgraded))
    try:
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        stored = lookup.by_email(store.conn, _email(0))
        store.conn.set_trace_callback(None)
        assert b"Person 0" in stored.json
        assert len(statements) == 1
    finally:
        store.close()


def test_open_for_a_lookup_builds_only_the_profile_shown(upgraded: Path) -> None:
    store = open_for_reading(make_settings(upgraded), build_all=False)
    try:
        assert _queued(upgraded) == PEOPLE
        stored = lookup.by_email(store.conn, _email(0))
        assert "Person 0" in stored.text
        assert _email(1) not in stored.text
        assert _queued(upgraded) == PEOPLE - 1
    finally:
        store.close()


def test_cli_lookup_builds_only_the_profile_it_prints(
    upgraded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(upgraded))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", TEST_KEY)
    assert main(["lookup", _email(0)]) == 0
    out = capsys.readouterr().out
    assert "Person 0" in out
    assert _email(1) not in out
    assert _queued(upgraded) == PEOPLE - 1


def test_cli_widget_url_for_a_queued_profile_without_a_snapshot_builds_it(
    upgraded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A profile queued before its first snapshot was stored (a run stopped before building it).
    with sqlite3.connect(upgraded) as conn:
        conn.execute(
            "DELETE FROM snapshots WHERE profile_id = (SELECT m.profile_id FROM profile_members m "
            "JOIN records r ON r.id = m.record_id WHERE r.external_id = '0')"
        )
    monkeypatch.setenv("CONTEXT_SERVICE_DB", str(upgraded))
    monkeypatch.setenv("CONTEXT_SERVICE_API_KEYS", TEST_KEY)
    assert main(["widget-url", "--email", _email(0)]) == 0
    assert "/widget?" in capsys.readouterr().out
    assert _queued(upgraded) == PEOPLE - 1


# --- resolve --all -------------------------------------------------------------------------


@pytest.fixture
def wrongly_merged(tmp_path: Path) -> tuple[Path, str]:
    """A store where an old rule put Person 1's record into Person 0's profile (whose row
    shows Person 1's email); ``resolve --all`` splits them. Returns the path and the email."""
    path = tmp_path / "merged.db"
    store = Store(path)
    try:
        ctx = ingest_context(make_settings(path))
        users = [RawPayload(*zendesk_user(n, f"Person {n}", _email(n))) for n in range(3)]
        ingest_batch(store, users, ctx)
        with store.transaction() as conn:
            first, second = _profile_of(conn, 0), _profile_of(conn, 1)
            conn.execute(
                "UPDATE profile_members SET profile_id = ? WHERE profile_id = ?", (first, second)
            )
            conn.execute("DELETE FROM snapshots WHERE profile_id = ?", (second,))
            conn.execute("DELETE FROM profiles WHERE id = ?", (second,))
            _make_stale(conn, first, _email(1))
    finally:
        store.close()
    return path, _email(0)


def test_resolve_all_commits_the_clusters_before_building_snapshots(
    wrongly_merged: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the snapshots are built, another connection sees the new clusters committed
    with their profiles queued: the identity rebuild no longer holds the write lock then."""
    path, _ = wrongly_merged
    seen: list[tuple[int, int]] = []
    real = materialize_module._materialize_chunk

    def watching(conn: sqlite3.Connection, *args: Any) -> int:
        with sqlite3.connect(path) as outside:
            profiles = outside.execute("SELECT count(*) FROM profiles").fetchone()[0]
            queued = outside.execute("SELECT count(*) FROM snapshot_queue").fetchone()[0]
        seen.append((int(profiles), int(queued)))
        return real(conn, *args)

    monkeypatch.setattr(materialize_module, "_materialize_chunk", watching)
    store = Store(path)
    try:
        report = resolve_all(store, ingest_context(make_settings(path)))
    finally:
        store.close()
    assert report.profiles_changed == 2
    assert seen
    assert seen[0] == (3, 2)
    assert _queued(path) == 0


def test_a_crash_while_building_leaves_the_profiles_queued_and_reads_fresh(
    wrongly_merged: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, email = wrongly_merged

    def crash(*_args: Any) -> int:
        raise RuntimeError("killed while building snapshots")

    store = Store(path)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(materialize_module, "_materialize_chunk", crash)
            with pytest.raises(RuntimeError):
                resolve_all(store, ingest_context(make_settings(path)))
    finally:
        store.close()
    assert _queued(path) == 2  # the split is kept and nothing is lost
    app_store = Store(path)
    app = create_app(make_settings(path), store=app_store, snapshot_drain=_never(app_store, path))
    try:
        with TestClient(app=app) as client:
            answer = client.get("/v1/context", params={"email": email}, headers=AUTH)
            assert answer.status_code == 200
            assert answer.json()["identity"]["name"] == "Person 0"
            assert _email(1) not in answer.text
    finally:
        app_store.close()


def _never(store: Store, path: Path) -> SnapshotDrain:
    """A background drain that never starts building (the reads build on their own)."""
    drain = SnapshotDrain(store, ingest_context(make_settings(path)))
    drain.start = lambda: None  # type: ignore[method-assign]
    return drain
