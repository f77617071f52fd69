"""The audit over HTTP while another request writes.

The API reads through one shared connection without a transaction, so a merge or an erasure can
commit between two of the audit's queries. SQLite's trace hook runs that write, for real and on
the store's own writer, right when the read reaches a given query: the answer must still be an
audit of one moment, never a 500 or a mix of before and after.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from context_service.identity.decisions import merge_profiles
from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync.decide import apply_decision
from context_service.wiring import ingest_context
from tests.conftest import TEST_KEY, Ingest, make_settings
from tests.identity_helpers import pid
from tests.payloads import hubspot_contact, shopify_customer

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
ANN = RecordKey("shopify", "customer", "1")
BEA = RecordKey("hubspot", "contact", "2")


@contextmanager
def _write_when(store: Store, sql_prefix: str, write: Callable[[], object]) -> Iterator[None]:
    """Run ``write`` once, committed, just before the reader's first statement starting with
    ``sql_prefix`` runs: what a concurrent request does between two of a read's queries."""
    done: list[BaseException | None] = []

    def trace(sql: str) -> None:
        if not done and sql.lstrip().startswith(sql_prefix):
            try:
                write()
            except BaseException as exc:  # SQLite would swallow it
                done.append(exc)
            else:
                done.append(None)

    store.conn.set_trace_callback(trace)
    try:
        yield
    finally:
        store.conn.set_trace_callback(None)
    assert done, f"no statement starting with {sql_prefix!r} ran"
    assert done[0] is None, f"the concurrent write failed: {done[0]!r}"


def _merge(store: Store, ids: list[str]) -> None:
    ctx = ingest_context(make_settings(store.path))
    apply_decision(
        store,
        ctx,
        lambda conn, now: merge_profiles(conn, ids, "other-request", now, ctx.region),
    )


def test_an_audit_of_a_profile_merged_away_while_it_is_read_answers_the_survivor(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "a.stone@work.example", "Bea", "Stone"))
    ann, bea = pid(store, ANN), pid(store, BEA)

    with _write_when(store, "SELECT version, created_at", lambda: _merge(store, [ann, bea])):
        response = client.get(f"/v1/profiles/{bea}/audit", headers=AUTH)

    assert response.status_code == 200, response.text
    audit = response.json()
    assert (audit["profile_id"], audit["requested_id"]) == (ann, bea)
    members = {(m["record"]["source"], m["record"]["external_id"]) for m in audit["members"]}
    assert members == {("shopify", "1"), ("hubspot", "2")}


def test_an_audit_read_while_its_profile_changes_is_of_one_moment(
    client: TestClient[Any], store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "a.stone@work.example", "Bea", "Stone"))
    ann, bea = pid(store, ANN), pid(store, BEA)

    # The merge commits after the audit read Ann's version and members, before her links.
    with _write_when(store, "SELECT record_id, other_record_id", lambda: _merge(store, [ann, bea])):
        response = client.get(f"/v1/profiles/{ann}/audit", headers=AUTH)

    assert response.status_code == 200, response.text
    audit = response.json()
    members = {m["record"]["record_id"] for m in audit["members"]}
    linked = {
        rid
        for link in audit["links"]
        for rid in (link["record"]["record_id"], (link["other"] or {}).get("record_id"))
        if rid is not None
    }
    assert linked <= members, "a link names a record the audit does not list as a member"
    assert len(members) == 2
    assert audit["version"] == _version(store, ann)


def _version(store: Store, profile_id: str) -> int:
    row: sqlite3.Row | tuple[int] | None = store.conn.execute(
        "SELECT version FROM profiles WHERE id = ?", (profile_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])
