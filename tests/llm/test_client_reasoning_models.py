"""OpenAI's reasoning models (o-series, gpt-5) refuse ``max_tokens`` and ``temperature: 0``
with a 400 naming the parameter: every summary fell back ("HTTP 400"). The client asks again
without what the model refused, and keeps leaving it out."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx2
import pytest

from context_service.llm.client import REASONING_ALLOWANCE_TOKENS, LlmFailed
from tests.llm.helpers import completion, mock_client

ANSWER = "Maya asked about her order."


def _refusal(param: str, code: str) -> httpx2.Response:
    """OpenAI's answer to a parameter the model does not take (its documented error body)."""
    message = f"Unsupported parameter: '{param}' is not supported with this model."
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return httpx2.Response(400, json={"error": error})


class ReasoningModel:
    """A fake endpoint that refuses ``refuses`` (parameter -> code) and records each body."""

    def __init__(self, refuses: dict[str, str]) -> None:
        self.refuses = refuses
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        for param, code in self.refuses.items():
            if param in body:
                return _refusal(param, code)
        return httpx2.Response(200, json=completion(ANSWER))


def test_a_reasoning_model_is_asked_again_without_what_it_refuses() -> None:
    model = ReasoningModel(
        {"max_tokens": "unsupported_parameter", "temperature": "unsupported_value"}
    )
    client = mock_client(model)
    assert client.complete("system", "Maya asked about her order.", max_tokens=300) == ANSWER
    last = model.bodies[-1]
    assert "max_tokens" not in last
    assert "temperature" not in last
    assert last["max_completion_tokens"] == 300 + REASONING_ALLOWANCE_TOKENS
    assert last["reasoning_effort"] == "low"
    assert len(model.bodies) == 3
    client.complete("system", "Maya asked about her order.", max_tokens=300)
    assert len(model.bodies) == 4  # remembered: one request from now on


def test_a_refused_reasoning_effort_is_left_out_too() -> None:
    model = ReasoningModel(
        {"max_tokens": "unsupported_parameter", "reasoning_effort": "unsupported_parameter"}
    )
    client = mock_client(model)
    assert client.complete("system", "Maya asked about her order.") == ANSWER
    assert "reasoning_effort" not in model.bodies[-1]
    assert model.bodies[-1]["temperature"] == 0


def test_a_model_that_takes_the_parameters_gets_them_once() -> None:
    model = ReasoningModel({})
    client = mock_client(model)
    assert client.complete("system", "Maya asked about her order.", max_tokens=300) == ANSWER
    assert len(model.bodies) == 1
    assert model.bodies[0]["max_tokens"] == 300
    assert model.bodies[0]["temperature"] == 0
    assert "max_completion_tokens" not in model.bodies[0]


@pytest.mark.parametrize(
    "response",
    [
        _refusal("messages", "unsupported_parameter"),  # nothing the client can leave out
        httpx2.Response(400, json={"error": {"message": "bad request"}}),
        httpx2.Response(400, text="not json"),
    ],
)
def test_other_400s_fall_back_after_one_request(response: httpx2.Response) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return response

    with pytest.raises(LlmFailed, match="HTTP 400"):
        mock_client(handler).complete("system", "user")
    assert len(seen) == 1


def test_calls_made_at_once_before_the_first_refusal_all_get_an_answer() -> None:
    """A burst of first calls (readers and the summary refresher at start) each sent
    ``max_tokens``; one learnt the refusal first, and the others then fell back with "HTTP 400"
    instead of asking again (7 of 8 in a review)."""
    gate = threading.Barrier(8)
    model = ReasoningModel({"max_tokens": "unsupported_parameter"})

    def slow(request: httpx2.Request) -> httpx2.Response:
        if "max_tokens" in json.loads(request.content):
            time.sleep(0.2)  # every first call is in flight before any refusal comes back
        return model(request)

    client = mock_client(slow)
    answers: list[str] = []

    def call() -> None:
        gate.wait()
        try:
            answers.append(client.complete("system", "Maya asked about her order."))
        except LlmFailed as exc:
            answers.append(exc.reason)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert answers == [ANSWER] * 8


def test_azures_unknown_parameter_is_a_refusal_too() -> None:
    """Azure OpenAI refuses ``reasoning_effort`` on older API versions as ``unknown_parameter``:
    without leaving it out, every call to such a deployment failed."""
    model = ReasoningModel(
        {"max_tokens": "unsupported_parameter", "reasoning_effort": "unknown_parameter"}
    )
    client = mock_client(model)
    assert client.complete("system", "Maya asked about her order.") == ANSWER
    assert "reasoning_effort" not in model.bodies[-1]
