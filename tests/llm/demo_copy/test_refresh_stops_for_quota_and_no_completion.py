"""Endpoint-wide failures stop a background refresh round (the LLM review, session 30): a 402
(the account is out of quota or credit) answers every profile alike, as a 401 or a 429 does,
yet it counted as one bad answer, so each round asked once per stale summary and backed each
off. So did a 200 that is no chat completion (a gateway's error object, an HTML page): one
alone may be a glitch, and only skips that summary; two summaries in a row stop the round,
and neither backs off."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest

from context_service.audience import FieldPolicy
from context_service.llm import Summarizer, SummaryRefresher
from context_service.llm.cache import view_key
from context_service.llm.client import malformed, unavailable
from context_service.llm.prompts import latest
from context_service.llm.summarize import CONTEXT_PROMPT
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.llm.helpers import MODEL, completion, mock_client


class Llm:
    """Answers each request with ``responses`` in turn, then well."""

    def __init__(self, *responses: httpx2.Response) -> None:
        self.responses = list(responses)
        self.asked = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.asked += 1
        if self.responses:
            return self.responses.pop(0)
        return httpx2.Response(200, json=completion("The customer is fine."))


def _quota() -> httpx2.Response:
    return httpx2.Response(402, json={"error": {"message": "insufficient credit"}})


def _no_completion() -> httpx2.Response:
    return httpx2.Response(200, json={"error": {"message": "upstream quota exceeded"}})


def _not_json() -> httpx2.Response:
    return httpx2.Response(
        200, content=b"<html>Bad gateway</html>", headers={"content-type": "application/json"}
    )


def _stale_summaries(store: Store, profiles: int = 3) -> None:
    """Chatbot summaries of Maya and the profiles after hers, cached at an older version."""
    maya = snapshot_of(store).profile_id
    chatbot = view_key(FieldPolicy().view("chatbot", None))
    with store.transaction() as conn:
        rows = conn.execute(
            "SELECT profile_id, version FROM snapshots WHERE profile_id >= ? "
            "ORDER BY profile_id LIMIT ?",
            (maya, profiles),
        ).fetchall()
        assert len(rows) == profiles
        for profile_id, version in rows:
            conn.execute(
                "INSERT INTO llm_summaries (profile_id, version, audience, prompt_version, "
                "model, view, text, created_at) VALUES (?, ?, 'chatbot', ?, ?, ?, 'old', "
                "'2026-01-01T00:00:00Z')",
                (profile_id, version - 1, latest(CONTEXT_PROMPT).version, MODEL, chatbot),
            )


def test_an_endpoint_out_of_quota_stops_the_round(store: Store) -> None:
    _stale_summaries(store)
    llm = Llm(_quota())
    refresher = SummaryRefresher(Summarizer(store, mock_client(llm)))
    assert refresher.run_once() == (0, 1, 3)
    assert llm.asked == 1  # one try, not one per stale summary
    assert refresher.run_once() == (3, 0, 0)  # no back-off: the next round asks all again


@pytest.mark.parametrize("response", [_no_completion, _not_json])
def test_no_completion_twice_in_a_row_stops_the_round(
    store: Store, response: Callable[[], httpx2.Response]
) -> None:
    _stale_summaries(store)
    llm = Llm(*[response() for _ in range(3)])
    refresher = SummaryRefresher(Summarizer(store, mock_client(llm)))
    assert refresher.run_once() == (0, 2, 3)
    assert llm.asked == 2
    llm.responses.clear()
    assert refresher.run_once() == (3, 0, 0)  # neither backs off: all asked again at once


def test_one_response_without_completion_only_skips_its_summary(store: Store) -> None:
    _stale_summaries(store)
    llm = Llm(_no_completion())
    refresher = SummaryRefresher(Summarizer(store, mock_client(llm)))
    assert refresher.run_once() == (2, 1, 1)
    assert llm.asked == 3


@pytest.mark.parametrize(
    ("reason", "down", "no_completion"),
    [
        ("HTTP 402 from the LLM endpoint", True, False),
        ("HTTP 401 from the LLM endpoint", True, False),
        ("HTTP 400 from the LLM endpoint", False, False),
        ("HTTP 422 from the LLM endpoint", False, False),
        ("the LLM answered without choices", False, True),
        ("unusable LLM response (JSONDecodeError)", False, True),
        ("the LLM answered with empty text", False, False),
    ],
)
def test_which_failures_are_the_endpoints(reason: str, down: bool, no_completion: bool) -> None:
    assert unavailable(reason) is down
    assert malformed(reason) is no_completion
