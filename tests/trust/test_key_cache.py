"""The keyring's cache of live keys: a hit costs no query, and a revoked key stops working on
the next request when this process revokes it, and within ``RECHECK_SECONDS`` when another
process does (a commit on another connection)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from context_service.trust import Trust, revoke_key
from context_service.trust.keyring import RECHECK_SECONDS, Keyring
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, FakeClock, copy_demo, make_key

ADMIN_AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


class _Queries:
    """The statements a connection runs that read the keys table."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.seen: list[str] = []
        conn.set_trace_callback(self.seen.append)

    def of_keys(self) -> int:
        """Key lookups (the keyring's change check, a count over the table, is not one)."""
        return sum("FROM api_keys WHERE" in sql for sql in self.seen)


@pytest.fixture
def world(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], Path, FakeClock]]:
    db = copy_demo(demo_db, tmp_path)
    settings = make_settings(db)
    store = Store(db)
    clock = FakeClock()
    trust = Trust(settings, store, clock=clock, monotonic=clock)
    with TestClient(app=create_app(settings, store=store, trust=trust)) as client:
        yield client, db, clock
    store.close()


def _read(client: TestClient[Any], key: str) -> int:
    auth = {"Authorization": f"Bearer {key}"}
    return int(client.get("/v1/context", params={"email": MAYA}, headers=auth).status_code)


def _lookup(client: TestClient[Any], key: str) -> int:
    auth = {"Authorization": f"Bearer {key}"}
    return int(client.post("/v1/context/lookup", json={"email": MAYA}, headers=auth).status_code)


def test_a_cached_key_costs_no_query(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "reader", ["context:read"])
    store = Store(db)
    clock = FakeClock()
    keyring = Keyring(store, ["boot-key"], clock, clock)
    queries = _Queries(store.conn)
    first = keyring.principal(key)
    assert first is not None
    assert first.name == "reader"
    assert queries.of_keys() == 1
    for _ in range(5):
        assert keyring.principal(key) is first
        assert keyring.peek(key) is first
    boot = keyring.principal("boot-key")
    assert boot is not None
    assert boot.name == "bootstrap-1"
    assert keyring.principal("boot-key") is boot
    assert queries.of_keys() == 1  # the lookups after the first came from the cache
    assert keyring.principal("csk_000000000000_nope") is None
    assert keyring.principal("csk_000000000000_nope") is None
    assert queries.of_keys() == 3  # unknown keys are never cached
    assert key not in repr(keyring._cache)  # cached by digest, never by the key itself
    store.close()


def test_revoked_over_http_is_refused_on_the_next_request(world: Any) -> None:
    client, db, _ = world
    key = make_key(db, "soon-gone", ["context:read", "context:lookup"])
    assert _read(client, key) == 200
    assert _lookup(client, key) == 200
    assert client.delete("/v1/keys/soon-gone", headers=ADMIN_AUTH).status_code == 200
    assert _read(client, key) == 401
    assert _lookup(client, key) == 401


def test_revoked_through_another_store_is_refused_on_the_next_request(world: Any) -> None:
    client, db, _ = world
    key = make_key(db, "other-store", ["context:read"])
    assert _read(client, key) == 200
    other = Store(db)  # what the CLI does, here in this process
    assert revoke_key(other, "other-store", "2027-01-15T08:00:00Z")
    other.close()
    assert _read(client, key) == 401


def test_revoked_by_another_process_is_refused_after_the_recheck(world: Any) -> None:
    client, db, clock = world
    key = make_key(db, "cli-revoked", ["context:read"])
    assert _read(client, key) == 200
    # Another process's revocation is a commit on another connection, which this process only
    # learns of from the database (no in-process notice).
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE api_keys SET revoked_at = 'now' WHERE name = 'cli-revoked'")
    conn.close()
    clock.now += RECHECK_SECONDS
    assert _read(client, key) == 401
    assert _lookup(client, key) == 401


def test_a_key_created_elsewhere_works_at_once_and_others_keep_working(world: Any) -> None:
    client, db, _ = world
    kept = make_key(db, "kept", ["context:read"])
    assert _read(client, kept) == 200
    fresh = make_key(db, "fresh", ["context:read"])  # another connection, same clock
    assert _read(client, fresh) == 200
    other = Store(db)
    revoke_key(other, "fresh", "2027-01-15T08:00:00Z")
    other.close()
    assert _read(client, fresh) == 401
    assert _read(client, kept) == 200
    assert _read(client, TEST_KEY) == 200


def test_other_writes_do_not_empty_the_cache_but_a_revoke_elsewhere_does(
    demo_db: Path, tmp_path: Path
) -> None:
    """The read audit commits every quarter second: that must not cost a key query per
    recheck, while a key revoked by another process still stops at the next recheck."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "steady", ["context:read"])
    store = Store(db)
    clock = FakeClock()
    keyring = Keyring(store, [], clock, clock)
    assert keyring.principal(key) is not None
    other = sqlite3.connect(db)
    other.execute(
        "INSERT INTO read_audit (at, key_name, profile_id, audience, verified, channel) "
        "VALUES ('t', 'k', 'p', 'full', 1, 'context')"
    )
    other.commit()
    queries = _Queries(store.conn)
    clock.now += RECHECK_SECONDS + 1
    assert keyring.principal(key) is not None
    assert queries.of_keys() == 0  # still cached
    other.execute("UPDATE api_keys SET revoked_at = 't' WHERE name = 'steady'")
    other.commit()
    other.close()
    clock.now += RECHECK_SECONDS + 1
    assert keyring.principal(key) is None
    store.close()
