"""Background refresh of cached LLM summaries: what was asked for is made again after a change."""

from __future__ import annotations

import json
import threading

import httpx2

from context_service.audience import FieldPolicy
from context_service.llm import Summarizer, SummaryRefresher
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_all
from context_service.wiring import default_mappers
from tests.audience.helpers import snapshot_of
from tests.llm.helpers import completion, mock_client

CHATBOT = FieldPolicy().view("chatbot", None)
AGENT = FieldPolicy().view("agent", None)


class Llm:
    """A mock LLM that counts its calls, answers ``summary N``, or fails when told to."""

    def __init__(self) -> None:
        self.calls = 0
        self.failing = False
        self.called = threading.Event()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        self.called.set()
        if self.failing:
            return httpx2.Response(503, json={"error": {"message": "overloaded"}})
        return httpx2.Response(200, json=completion(f"summary {self.calls}"))


def _change_maya(store: Store) -> int:
    """A newer version of Maya's ticket arrives; returns her profile's new version."""
    snap = snapshot_of(store)
    ticket = next(m for m in snap.members if (m.source, m.kind) == ("zendesk", "ticket"))
    row = store.conn.execute(
        "SELECT payload FROM records WHERE source = 'zendesk' AND kind = 'ticket' "
        "AND external_id = ?",
        (ticket.external_id,),
    ).fetchone()
    payload = json.loads(row[0])
    payload.update(status="pending", updated_at="2026-11-21T09:00:00Z")
    payload["generated_timestamp"] = payload.get("generated_timestamp", 0) + 86_400
    ingest_all(store, [RawPayload("zendesk", "ticket", payload)], IngestContext(default_mappers()))
    newer = snapshot_of(store)
    assert newer.version > snap.version
    return newer.version


def test_a_changed_profile_gets_its_asked_for_summaries_again(store: Store) -> None:
    llm = Llm()
    summarizer = Summarizer(store, mock_client(llm))
    refresher = SummaryRefresher(summarizer)
    summarizer.summary(snapshot_of(store), "chatbot", CHATBOT, "llm")
    summarizer.summary(snapshot_of(store), "agent", AGENT, "llm")
    assert refresher.stale() == []
    assert refresher.run_once() == (0, 0, 0)

    version = _change_maya(store)
    stale = refresher.stale()
    assert [(s.audience, s.current_version) for s in stale] == [
        ("agent", version),
        ("chatbot", version),
    ]
    assert refresher.run_once() == (2, 0, 0)
    assert llm.calls == 4  # two first summaries, two refreshed; nobody else's
    assert refresher.stale() == []

    again = summarizer.summary(snapshot_of(store), "chatbot", CHATBOT, "llm")
    assert again.source == "llm-cache"
    assert llm.calls == 4  # the request after the change cost no LLM call


def test_an_answered_request_leaves_the_other_audiences_stale(store: Store) -> None:
    llm = Llm()
    summarizer = Summarizer(store, mock_client(llm))
    summarizer.summary(snapshot_of(store), "chatbot", CHATBOT, "llm")
    summarizer.summary(snapshot_of(store), "agent", AGENT, "llm")
    _change_maya(store)
    summarizer.summary(snapshot_of(store), "chatbot", CHATBOT, "llm")  # asked for on demand
    assert [s.audience for s in SummaryRefresher(summarizer).stale()] == ["agent"]


def test_a_failing_llm_stops_the_round_and_keeps_the_work(store: Store) -> None:
    llm = Llm()
    summarizer = Summarizer(store, mock_client(llm))
    summarizer.summary(snapshot_of(store), "chatbot", CHATBOT, "llm")
    summarizer.summary(snapshot_of(store), "agent", AGENT, "llm")
    _change_maya(store)
    llm.failing = True
    refresher = SummaryRefresher(summarizer)
    assert refresher.run_once() == (0, 1, 2)
    assert llm.calls == 3  # one failed try, not one per stale summary
    assert len(refresher.stale()) == 2
    llm.failing = False
    assert refresher.run_once() == (2, 0, 0)


def test_batch_caps_the_profiles_of_one_round(store: Store) -> None:
    llm = Llm()
    summarizer = Summarizer(store, mock_client(llm))
    summarizer.summary(snapshot_of(store), "chatbot", CHATBOT, "llm")
    _change_maya(store)
    assert SummaryRefresher(summarizer, batch=0).run_once() == (0, 0, 1)


def test_without_an_llm_there_is_nothing_to_refresh(store: Store) -> None:
    refresher = SummaryRefresher(Summarizer(store, None))
    assert refresher.stale() == []
    assert refresher.run_once() == (0, 0, 0)


def test_the_thread_refreshes_when_woken_and_stops(store: Store) -> None:
    llm = Llm()
    summarizer = Summarizer(store, mock_client(llm))
    summarizer.summary(snapshot_of(store), "chatbot", CHATBOT, "llm")
    version = _change_maya(store)
    llm.called.clear()
    refresher = SummaryRefresher(summarizer, interval_s=3600)
    refresher.start()
    try:
        refresher.wake()
        assert llm.called.wait(30), "the woken thread never asked the LLM"
    finally:
        refresher.stop(timeout_s=60)
    row = store.conn.execute(
        "SELECT version, text FROM llm_summaries WHERE audience = 'chatbot'"
    ).fetchone()
    assert row == (version, "summary 2")


def _cached(store: Store) -> list[tuple[str, int, str]]:
    rows = store.conn.execute(
        "SELECT model, version, audience FROM llm_summaries ORDER BY model, version, audience"
    ).fetchall()
    return [(str(m), int(v), str(a)) for m, v, a in rows]


def test_summaries_of_an_old_model_are_pruned_once_their_profile_moved_on(store: Store) -> None:
    """After a model or prompt change the old rows can never be served (a read asks for the
    current model) nor refreshed: once their profile has a newer version they only take space,
    so a round drops them. Rows of the current version stay (another server of a rolling
    deploy may still serve them)."""
    old = Summarizer(store, mock_client(Llm(), model="old-model"))
    old.summary(snapshot_of(store), "agent", AGENT, "llm")
    version = _change_maya(store)
    old.summary(snapshot_of(store), "chatbot", CHATBOT, "llm")  # of the current version
    refresher = SummaryRefresher(Summarizer(store, mock_client(Llm())))
    refresher.run_once()
    assert ("old-model", version, "chatbot") in _cached(store)
    assert [row for row in _cached(store) if row[0] == "old-model"] == [
        ("old-model", version, "chatbot")
    ]
