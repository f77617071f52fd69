"""A summary asked for while the calling thread holds ``store.transaction()`` (a job that
writes and summarizes in one transaction): its lease and cache writes are savepoints in the
caller's transaction, which they neither commit nor deadlock, and no lease is left held."""

from __future__ import annotations

import sqlite3

import httpx2
import pytest

from context_service.llm import Summarizer
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.llm.helpers import completion, mock_client
from tests.llm.upstream import AGENT, SUMMARY

_MARK = "INSERT INTO profiles (id, version, created_at, updated_at) VALUES ('mark', 1, 'n', 'n')"


class _Boom(Exception):
    pass


def _answer(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=completion(SUMMARY))


def _committed(store: Store, sql: str) -> int:
    with sqlite3.connect(store.path) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_a_summary_inside_the_caller_s_transaction_commits_nothing_of_it(store: Store) -> None:
    snap = snapshot_of(store)
    summarizer = Summarizer(store, mock_client(_answer))

    def summarize_then_fail() -> None:
        with store.transaction() as conn:
            conn.execute(_MARK)
            block = summarizer.summary(snap, "agent", AGENT, "llm")
            assert (block.source, block.text) == ("llm", SUMMARY)
            assert store.in_transaction
            assert _committed(store, "SELECT count(*) FROM profiles WHERE id = 'mark'") == 0
            raise _Boom

    with pytest.raises(_Boom):
        summarize_then_fail()
    assert not store.db.conn.in_transaction
    assert _committed(store, "SELECT count(*) FROM profiles WHERE id = 'mark'") == 0
    assert _committed(store, "SELECT count(*) FROM llm_summary_leases WHERE done = 0") == 0
    again = summarizer.summary(snap, "agent", AGENT, "llm")  # the cache went with it
    assert (again.source, again.text) == ("llm", SUMMARY)
    assert _committed(store, "SELECT count(*) FROM llm_summary_leases WHERE done = 0") == 0
