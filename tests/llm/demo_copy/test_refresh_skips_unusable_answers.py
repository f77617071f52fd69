"""One profile the model always answers badly no longer stops every background refresh (the LLM
review, session 30): rounds went in profile order and stopped at the first fallback, so a
profile whose summary fails grounding every time starved all the others (``refreshed=0,
failed=1`` each round). A round now stops only when the endpoint is down (timeout, no
connection, 429, 5xx); an unusable answer skips that summary, which backs off (doubling) until
its profile changes."""

from __future__ import annotations

import json

import httpx2
import pytest

from context_service.audience import FieldPolicy
from context_service.llm import Summarizer, SummaryRefresher
from context_service.llm.cache import view_key
from context_service.llm.prompts import latest
from context_service.llm.summarize import CONTEXT_PROMPT
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_all
from context_service.wiring import default_mappers
from tests.audience.helpers import snapshot_of
from tests.llm.helpers import MODEL, completion, mock_client

BAD = "Maya Patel"  # whose context makes this model invent a refund


class Llm:
    """Invents a refund for Maya's context, answers the others well; ``down`` answers 503."""

    def __init__(self) -> None:
        self.asked: list[bool] = []  # for each request: whether it was Maya's
        self.down = False

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        prompt = json.loads(request.content)["messages"][-1]["content"]
        bad = BAD in prompt
        self.asked.append(bad)
        if self.down:
            return httpx2.Response(503, json={"error": {"message": "overloaded"}})
        answer = "A refund of $9,999.00 is pending." if bad else "The customer is fine."
        return httpx2.Response(200, json=completion(answer))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _asked_for_before(store: Store, profiles: int = 3) -> list[str]:
    """Chatbot summaries of Maya and the profiles after hers, cached at an older version than their
    snapshot's (someone asked for them before the data moved on); their ids, Maya's first."""
    maya = snapshot_of(store).profile_id
    others = [
        row[0]
        for row in store.conn.execute(
            "SELECT profile_id FROM snapshots WHERE profile_id > ? ORDER BY profile_id LIMIT ?",
            (maya, profiles - 1),
        )
    ]
    assert len(others) == profiles - 1
    chatbot = view_key(FieldPolicy().view("chatbot", None))
    with store.transaction() as conn:
        for profile_id in [maya, *others]:
            (version,) = conn.execute(
                "SELECT version FROM snapshots WHERE profile_id = ?", (profile_id,)
            ).fetchone()
            conn.execute(
                "INSERT INTO llm_summaries (profile_id, version, audience, prompt_version, "
                "model, view, text, created_at) VALUES (?, ?, 'chatbot', ?, ?, ?, 'old', "
                "'2026-01-01T00:00:00Z')",
                (profile_id, version - 1, latest(CONTEXT_PROMPT).version, MODEL, chatbot),
            )
    return [maya, *others]


def _refresher(store: Store, llm: Llm, clock: Clock) -> SummaryRefresher:
    summarizer = Summarizer(store, mock_client(llm))
    return SummaryRefresher(summarizer, backoff_s=60, max_backoff_s=240, clock=clock)


def _stale(refresher: SummaryRefresher) -> list[str]:
    return [s.profile_id for s in refresher.stale()]


def _change_maya(store: Store) -> None:
    snap = snapshot_of(store)
    ticket = next(m for m in snap.members if (m.source, m.kind) == ("zendesk", "ticket"))
    (payload_json,) = store.conn.execute(
        "SELECT payload FROM records WHERE source = 'zendesk' AND kind = 'ticket' "
        "AND external_id = ?",
        (ticket.external_id,),
    ).fetchone()
    payload = json.loads(payload_json)
    payload.update(status="pending", updated_at="2026-11-21T09:00:00Z")
    payload["generated_timestamp"] = payload.get("generated_timestamp", 0) + 86_400
    ingest_all(store, [RawPayload("zendesk", "ticket", payload)], IngestContext(default_mappers()))
    assert snapshot_of(store).version > snap.version


def test_an_ungrounded_profile_does_not_starve_the_others(store: Store) -> None:
    llm = Llm()
    maya, *_ = _asked_for_before(store)
    refresher = SummaryRefresher(Summarizer(store, mock_client(llm)))
    assert _stale(refresher)[0] == maya  # first in the order a round goes

    assert refresher.run_once() == (2, 1, 1)
    assert _stale(refresher) == [maya]
    assert llm.asked == [True, False, False]


def test_a_skipped_profile_backs_off_doubling_and_is_asked_again(store: Store) -> None:
    llm, clock = Llm(), Clock()
    _asked_for_before(store)
    refresher = _refresher(store, llm, clock)
    refresher.run_once()
    asked = len(llm.asked)

    assert refresher.run_once() == (0, 0, 1)  # backing off: not asked
    clock.now += 59
    assert refresher.run_once() == (0, 0, 1)
    assert len(llm.asked) == asked
    clock.now += 1
    assert refresher.run_once() == (0, 1, 1)  # asked again after 60 s, and failed again
    assert len(llm.asked) == asked + 1
    clock.now += 119
    refresher.run_once()
    assert len(llm.asked) == asked + 1  # now 120 s
    clock.now += 1
    refresher.run_once()
    assert len(llm.asked) == asked + 2
    for _ in range(3):  # 240 s at most
        clock.now += 240
        refresher.run_once()
    assert len(llm.asked) == asked + 5


def test_a_changed_profile_is_asked_again_at_once(store: Store) -> None:
    llm, clock = Llm(), Clock()
    maya, *_ = _asked_for_before(store)
    refresher = _refresher(store, llm, clock)
    refresher.run_once()
    asked = len(llm.asked)
    _change_maya(store)
    assert _stale(refresher) == [maya]
    assert refresher.run_once() == (0, 1, 1)
    assert llm.asked[asked:] == [True]


def test_a_down_endpoint_still_stops_the_round(store: Store) -> None:
    llm = Llm()
    _asked_for_before(store)
    llm.down = True
    refresher = SummaryRefresher(Summarizer(store, mock_client(llm)))
    assert refresher.run_once() == (0, 1, 3)
    assert len(llm.asked) == 1  # one failed try, not one per stale summary
    llm.down = False
    assert refresher.run_once() == (2, 1, 1)  # a 503 is no reason to back off: asked again


@pytest.mark.parametrize(
    ("reason", "down"),
    [
        ("timeout", True),
        ("timeout: no whole answer within 10 s", True),
        ("timeout while the LLM answer was arriving", True),
        ("cannot reach the LLM endpoint", True),
        ("the LLM endpoint asked to wait (Retry-After); not asked again yet", True),
        ("HTTP 429 from the LLM endpoint", True),
        ("HTTP 500 from the LLM endpoint", True),
        ("HTTP 503 from the LLM endpoint", True),
        ("HTTP 401 from the LLM endpoint", True),
        ("HTTP 400 from the LLM endpoint", False),
        ("the LLM answer names details that are not in the customer's data", False),
        ("the LLM summary carries customer-written instructions outside quotes", False),
        ("the LLM answered with empty text", False),
        ("the LLM answer holds invisible tag characters", False),
    ],
)
def test_which_failures_say_the_endpoint_is_down(reason: str, down: bool) -> None:
    from context_service.llm.client import unavailable  # here: the other tests run without it

    assert unavailable(reason) is down
