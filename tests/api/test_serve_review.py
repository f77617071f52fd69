"""The server as operated, in process: who may mint which key, key names, the read audit after
an erasure, key use off the event loop, an honest /health, no caching, and bad Host headers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import app as app_module
from context_service.api import create_app
from context_service.store import Store
from context_service.trust import Trust
from context_service.trust.audit import BUFFER_ROWS, Read, ReadAudit, reads_of
from context_service.trust.erasure import erase_profiles
from context_service.trust.keyring import Keyring
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, FakeClock, copy_demo, make_key

BOOT = {"Authorization": f"Bearer {TEST_KEY}"}


@contextmanager
def serving(
    db: Path, clock: FakeClock | None = None, **overrides: Any
) -> Iterator[TestClient[Any]]:
    """A client of an app on ``db`` whose trust runs on ``clock``."""
    settings = make_settings(db, **overrides)
    store = Store(db)
    the_clock = clock or FakeClock()
    trust = Trust(settings, store, clock=the_clock, monotonic=the_clock)
    try:
        with TestClient(app=create_app(settings, store=store, trust=trust)) as client:
            yield client
    finally:
        store.close()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def returns_while_locked(db: Path, call: Callable[[], object]) -> bool:
    """Whether ``call`` returns within 2 s while another process holds the write lock (an
    import, ``resolve --all``, a VACUUM); a write would wait up to the 30 s busy timeout. The
    lock is released, and ``call`` waited for, before this returns."""
    done = threading.Event()

    def call_then_done() -> None:
        call()
        done.set()

    worker = threading.Thread(target=call_then_done, daemon=True)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        worker.start()
        return done.wait(2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        worker.join(35)


# The minting key: admin only, chatbot only, crm.deals hidden, 60 requests a minute.
LIMITED: dict[str, Any] = {
    "scopes": ["admin"],
    "audiences": ["chatbot"],
    "hide": ["crm.deals"],
    "rate_per_minute": 60,
}
WIDER = [  # each one step past LIMITED
    {"scopes": ["admin", "context:read"]},
    {"audiences": ["chatbot", "agent"]},
    {"audiences": None},  # every audience
    {"hide": []},
    {"trusted_backend": True},
    {"rate_per_minute": None},  # the server's default, unlimited by the minting key's
    {"rate_per_minute": 61},
]


@pytest.mark.parametrize("asked", WIDER)
def test_a_stored_key_cannot_mint_a_key_allowed_more_than_itself(
    demo_db: Path, tmp_path: Path, asked: dict[str, Any]
) -> None:
    db = copy_demo(demo_db, tmp_path)
    ops = make_key(db, "ops", **LIMITED)
    with serving(db) as client:
        same = client.post("/v1/keys", json={"name": "same", **LIMITED}, headers=_bearer(ops))
        wider = {"name": "wider", **LIMITED, **asked}
        minted = client.post("/v1/keys", json=wider, headers=_bearer(ops))
        names = [k["name"] for k in client.get("/v1/keys", headers=BOOT).json()["keys"]]
    assert same.status_code == 201, same.text
    assert minted.status_code == 403, minted.text
    assert minted.headers["content-type"].startswith("application/problem+json")
    assert "wider" not in names


def test_a_stored_key_mints_keys_within_its_own_and_bootstrap_keys_mint_any(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    ops = make_key(
        db, "ops", ["admin", "context:read"], audiences=["chatbot", "agent"], rate_per_minute=60
    )
    narrower = {
        "scopes": ["context:read"],
        "audiences": ["chatbot"],
        "hide": ["crm.deals"],
        "rate_per_minute": 60,
    }
    widest = {"scopes": ["admin", "context:read"], "trusted_backend": True}
    with serving(db) as client:
        by_ops = client.post("/v1/keys", json={"name": "bot", **narrower}, headers=_bearer(ops))
        by_boot = client.post("/v1/keys", json={"name": "root.2", **widest}, headers=BOOT)
    assert by_ops.status_code == 201, by_ops.text
    assert by_boot.status_code == 201, by_boot.text
    assert by_boot.json()["info"]["trusted_backend"] is True


@pytest.mark.parametrize(
    "name",
    ["bootstrap-1", "bootstrap-x", "team/bot", "a b", "nul\x00", "line\nbreak", "ü", "x" * 65],
)
def test_key_names_are_url_safe_and_never_a_bootstrap_keys(
    demo_db: Path, tmp_path: Path, name: str
) -> None:
    db = copy_demo(demo_db, tmp_path)
    with serving(db) as client:
        made = client.post(
            "/v1/keys", json={"name": name, "scopes": ["context:read"]}, headers=BOOT
        )
    assert made.status_code == 400, made.text


def test_a_created_key_can_be_revoked_by_its_name(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    with serving(db) as client:
        made = client.post(
            "/v1/keys", json={"name": "team.bot_2-a", "scopes": ["context:read"]}, headers=BOOT
        )
        gone = client.delete("/v1/keys/team.bot_2-a", headers=BOOT)
        read = client.get(
            "/v1/context", params={"email": MAYA}, headers=_bearer(made.json()["key"])
        )
    assert (made.status_code, gone.status_code, read.status_code) == (201, 200, 401)


def test_an_old_key_named_like_a_bootstrap_key_works_but_has_its_own_rate_limit(
    demo_db: Path, tmp_path: Path
) -> None:
    """A key stored before names were checked keeps working, in a bucket of its own."""
    db = copy_demo(demo_db, tmp_path)
    legacy = make_key(db, "legacy", ["context:read"], rate_per_minute=1)
    renamer = sqlite3.connect(db)
    renamer.execute("UPDATE api_keys SET name = 'bootstrap-1' WHERE name = 'legacy'")
    renamer.commit()
    renamer.close()
    with serving(db, rate_limit_per_minute=2) as client:

        def read(headers: dict[str, str]) -> int:
            return client.get("/v1/context", params={"email": MAYA}, headers=headers).status_code

        assert [read(_bearer(legacy)), read(_bearer(legacy))] == [200, 429]
        assert [read(BOOT), read(BOOT)] == [200, 200]  # the bootstrap key's budget is untouched


def test_a_read_written_after_its_profile_was_erased_names_no_profile(
    demo_db: Path, tmp_path: Path
) -> None:
    """A read still in a server's buffer when an erasure (another process) commits."""
    db = copy_demo(demo_db, tmp_path)
    store = Store(db)
    try:
        erased, kept = [
            str(r[0]) for r in store.conn.execute("SELECT id FROM profiles ORDER BY id LIMIT 2")
        ]
        audit = ReadAudit(
            store, retention_days=30, clock=lambda: 1_800_000_000.0, buffer_seconds=60
        )
        audit.record([Read("bot", erased, "agent", True, "context")])
        audit.record([Read("bot", kept, "agent", True, "context")])
        with store.transaction() as conn:
            erase_profiles(
                conn,
                [erased],
                requested_by="cli",
                reason="t",
                now="2027-01-01T00:00:00Z",
                region="US",
            )
        audit.close()
        rows = [e.profile_id for e in reads_of(store.conn)]
    finally:
        store.close()
    assert rows == [kept, "erased"]


def test_a_scoped_keys_use_is_recorded_without_waiting_for_the_write_lock(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "bot", ["context:read"])
    store = Store(db)
    keyring = Keyring(store, [], clock=lambda: 1_800_000_000.0)
    try:
        answered = returns_while_locked(db, lambda: keyring.principal(key))
        assert answered, "authenticating a key waited on another process's write lock"
        keyring.close()
        used = store.conn.execute("SELECT last_used_at FROM api_keys WHERE name = 'bot'").fetchone()
    finally:
        store.close()
    assert used[0] == "2027-01-15T08:00:00Z"


def test_a_full_audit_buffer_does_not_make_a_request_wait_for_the_write_lock(
    demo_db: Path, tmp_path: Path
) -> None:
    db = copy_demo(demo_db, tmp_path)
    store = Store(db)
    audit = ReadAudit(store, retention_days=30, clock=lambda: 1_800_000_000.0, buffer_seconds=60)
    reads = [Read("bot", f"prof_{i}", "agent", True, "context") for i in range(BUFFER_ROWS)]
    try:
        answered = returns_while_locked(db, lambda: audit.record(reads))
        assert answered, "recording a read waited on another process's write lock"
        audit.close()
        written = store.conn.execute("SELECT count(*) FROM read_audit WHERE key_name = 'bot'")
        assert written.fetchone()[0] == BUFFER_ROWS
    finally:
        store.close()


def test_health_is_503_when_the_database_cannot_be_read(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "HEALTH_FILE_EVERY", 0.0)  # read the file on every call
    db = copy_demo(demo_db, tmp_path)
    with serving(db) as client:
        assert client.get("/health").status_code == 200
        with open(db, "r+b") as f:  # a disk fault, a clobbered file
            f.write(b"\0" * 4096 * 50)
        health = client.get("/health")
    assert health.status_code == 503, health.text
    assert health.headers["content-type"].startswith("application/problem+json")


def test_key_protected_answers_are_never_cached(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    with serving(db) as client:
        fast = client.get("/v1/context", params={"email": MAYA}, headers=BOOT)
        answers = {
            "stored row": fast,
            "stored row, full path": client.get(
                "/v1/context", params={"email": MAYA, "summary": "none"}, headers=BOOT
            ),
            "agent audience": client.get(
                "/v1/context", params={"email": MAYA, "audience": "agent"}, headers=BOOT
            ),
            "lookup": client.post("/v1/context/lookup", json={"email": MAYA}, headers=BOOT),
            "subject export": client.get(
                f"/v1/profiles/{fast.json()['profile_id']}/export", headers=BOOT
            ),
            "keys": client.get("/v1/keys", headers=BOOT),
        }
    for name, answer in answers.items():
        assert answer.status_code == 200, name
        assert answer.headers.get("cache-control") == "no-store", name


@pytest.mark.parametrize(
    "host", ["x:abc", "x:99999", "[::1", "127.0.0.1:8000@evil.example", "evil.example/x", "a b"]
)
def test_a_host_header_that_is_no_host_is_400(demo_db: Path, tmp_path: Path, host: str) -> None:
    db = copy_demo(demo_db, tmp_path)
    with serving(db, hubspot_client_secret="s" * 32) as client:
        # The shared demo store may hold other tests' reads: only new ones count.
        before = {r["id"] for r in client.get("/v1/audit/reads", headers=BOOT).json()["reads"]}
        mint = client.post("/v1/widget/url", json={"email": MAYA}, headers={**BOOT, "Host": host})
        hook = client.post(
            "/v1/webhooks/hubspot",
            content=b"[]",
            headers={
                "Host": host,
                "Content-Type": "application/json",
                "X-HubSpot-Signature-v3": "abc",
                "X-HubSpot-Request-Timestamp": "1",
            },
        )
        reads = client.get("/v1/audit/reads", headers=BOOT).json()["reads"]
    assert (mint.status_code, hook.status_code) == (400, 400), (mint.text, hook.text)
    assert mint.headers["content-type"].startswith("application/problem+json")
    assert not [r for r in reads if r["channel"] == "widget-link" and r["id"] not in before]
