"""The LLM path: answers an OpenAI-compatible server may give that are not a
briefing (a tool call, a refusal), amounts the data does not hold, and two readers asking for
the same uncached summary at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from context_service.audience import FieldPolicy, SummaryBlock
from context_service.errors import ConfigurationError
from context_service.llm import Summarizer, client_from_settings
from context_service.llm.client import LlmFailed
from context_service.llm.prompts import ungrounded
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.llm.helpers import API_KEY, completion, mock_client

AGENT = FieldPolicy().view("agent", None)
Handler = Callable[[httpx2.Request], httpx2.Response]
# What the data says, as the agent's context renders it.
SOURCE = (
    "Order #1003 Nov 18: 160.92 USD, paid; items: Smart Bulb E26 (4-pack)\n"
    "Invoice KJFEVMTW-0009 Nov 17: payment failed (1 attempt), 49.00 USD due\n"
    "3 orders, 352.08 USD in total\n"
    'Deal customer-written "Team plan upgrade": open, 1200 USD\n'
)


def _body(content: str | None, **message: Any) -> dict[str, Any]:
    body: dict[str, Any] = completion(content or "")
    body["choices"][0]["message"]["content"] = content
    body["choices"][0]["message"].update(message)
    return body


def _answering(body: dict[str, Any]) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=body)

    return handler


def _reason(body: dict[str, Any]) -> str:
    with pytest.raises(LlmFailed) as failed:
        mock_client(_answering(body)).complete("system", "user")
    return failed.value.reason


def _cached(store: Store) -> list[str]:
    return [row[0] for row in store.conn.execute("SELECT text FROM llm_summaries")]


# --- a tool call or a refusal is not a briefing ------------------------------------------------

_TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}


@pytest.mark.parametrize("finish_reason", ["tool_calls", "function_call"])
def test_an_answer_that_stopped_to_call_a_tool_is_not_served(finish_reason: str) -> None:
    """The text beside a tool call is a preamble ("Let me look that up"), not a whole answer."""
    body = _body("Let me look up the latest order first.", tool_calls=[_TOOL_CALL])
    body["choices"][0]["finish_reason"] = finish_reason
    assert "tool" in _reason(body)


def test_a_tool_call_without_text_says_it_was_a_tool_call() -> None:
    body = _body(None, tool_calls=[_TOOL_CALL])
    body["choices"][0]["finish_reason"] = "tool_calls"
    assert "tool" in _reason(body)


@pytest.mark.parametrize("content", [None, "I'm sorry, but I can't help with that."])
def test_a_refusal_is_not_served_and_its_words_are_not_the_reason(content: str | None) -> None:
    refusal = "I cannot summarise this customer."
    reason = _reason(_body(content, refusal=refusal))
    assert "refus" in reason
    assert refusal not in reason


def test_a_refusal_falls_back_and_is_not_cached(store: Store) -> None:
    handler = _answering(_body("Maya is past due.", refusal="I can't do that."))
    block = Summarizer(store, mock_client(handler)).summary(
        snapshot_of(store), "agent", AGENT, "llm"
    )
    assert block.source == "deterministic"
    assert block.fallback is not None
    assert "refus" in block.fallback
    assert _cached(store) == []


def test_an_empty_refusal_field_does_not_stop_a_whole_answer() -> None:
    """Servers send ``"refusal": null`` (or ``""``) beside every ordinary answer."""
    for refusal in (None, ""):
        answer = mock_client(_answering(_body("Maya is past due.", refusal=refusal)))
        assert answer.complete("system", "user") == "Maya is past due."


# --- amounts the data does not hold ------------------------------------------------------------


@pytest.mark.parametrize(
    "invented",
    ["$98", "$98.00", "USD 98", "98 USD", "98.00 usd", "€1,250.00", "£16.09", "US$ 4,900"],
)
def test_an_amount_the_data_does_not_hold_is_ungrounded(invented: str) -> None:
    assert ungrounded(f"Maya was charged {invented} twice.", SOURCE)


@pytest.mark.parametrize(
    "honest",
    ["$49", "49 USD", "$49.00", "USD 160.92", "$1,200", "1,200.00 USD", "$352.08."],
)
def test_an_amount_the_data_holds_is_grounded(honest: str) -> None:
    """However the model writes it: symbol or code, before or after, with or without cents."""
    assert not ungrounded(f"Maya owes {honest} Order #1003 is paid.", SOURCE)


@pytest.mark.parametrize(
    "not_money",
    ["Order #1003", "a 4-pack of bulbs", "3 orders", "since 2024", "1 attempt", "2 NEW tickets"],
)
def test_numbers_that_are_not_amounts_are_left_to_the_other_checks(not_money: str) -> None:
    assert not ungrounded(f"Maya has {not_money}.", SOURCE)


def test_a_summary_naming_an_invented_amount_falls_back(store: Store) -> None:
    handler = _answering(_body("Maya Patel was charged $98.00 twice and is owed a refund."))
    block = Summarizer(store, mock_client(handler)).summary(
        snapshot_of(store), "agent", AGENT, "llm"
    )
    assert block.source == "deterministic"
    assert block.fallback is not None
    assert "98" not in block.fallback
    assert _cached(store) == []


# --- two readers, one uncached summary ---------------------------------------------------------


def _two_readers(store: Store, handler: Handler) -> list[SummaryBlock]:
    """Two threads asking for the same uncached summary, the second while the first waits."""
    summarizer = Summarizer(store, mock_client(handler))
    snap = snapshot_of(store)
    blocks: list[SummaryBlock] = []

    def read() -> None:
        blocks.append(summarizer.summary(snap, "agent", AGENT, "llm"))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    return blocks


def test_two_readers_of_one_uncached_summary_make_one_llm_call(store: Store) -> None:
    calls: list[str] = []
    second_call = threading.Event()

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(json.loads(request.content)["model"])
        if len(calls) > 1:
            second_call.set()
        # The first call holds on until a second one arrives or it is clear none will.
        second_call.wait(0.5)
        return httpx2.Response(200, json=completion("Maya Patel is past due."))

    blocks = _two_readers(store, handler)
    assert len(calls) == 1
    assert [b.text for b in blocks] == ["Maya Patel is past due."] * 2
    assert {b.source for b in blocks} <= {"llm", "llm-cache"}


def test_a_reader_waiting_on_a_failed_call_falls_back_with_its_reason(store: Store) -> None:
    calls: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        threading.Event().wait(0.2)  # long enough for the second reader to join the first
        return httpx2.Response(503, json={"error": {"message": "overloaded"}})

    blocks = _two_readers(store, handler)
    assert len(calls) == 1
    assert [(b.source, b.fallback) for b in blocks] == [
        ("deterministic", "HTTP 503 from the LLM endpoint")
    ] * 2
    assert _cached(store) == []


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [" gpt-4.1-mini", "gpt-4.1-mini\n", "  ", "m\x00", "m\u202e"])
def test_a_model_name_padded_or_with_controls_is_a_configuration_error(model: str) -> None:
    """Sent as is, it only ever gets "model not found" back, one fallback per request."""
    with pytest.raises(ConfigurationError, match="CONTEXT_SERVICE_LLM_MODEL") as bad:
        client_from_settings("http://llm.test/v1", API_KEY, model)
    assert API_KEY not in str(bad.value)


def test_a_plain_model_name_makes_a_client() -> None:
    for model in ("gpt-4.1-mini", "llama3.1:8b", "org/Model-7B-Instruct@v2"):
        client = client_from_settings("http://llm.test/v1", API_KEY, model)
        assert client is not None
        assert client.model == model


# --- an endpoint that asks to be left alone (429 or 503 with Retry-After) ----------------------


def _refusing(status: int, headers: dict[str, str], calls: list[int]) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(status)
        return httpx2.Response(status, json={"error": {"message": "slow down"}}, headers=headers)

    return handler


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (429, {"retry-after": "30"}),
        (503, {"retry-after": "30"}),
        (429, {"retry-after-ms": "30000"}),
    ],
)
def test_retry_after_is_honoured_without_asking_again(status: int, headers: dict[str, str]) -> None:
    calls: list[int] = []
    client = mock_client(_refusing(status, headers, calls))
    with pytest.raises(LlmFailed, match=f"HTTP {status}"):
        client.complete("system", "user")
    with pytest.raises(LlmFailed, match="asked to wait"):
        client.complete("system", "user")
    assert calls == [status]  # the second reader fell back without a request


@pytest.mark.parametrize(
    "headers", [{}, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, {"retry-after": "soon"}]
)
def test_without_a_usable_retry_after_the_next_call_asks_again(headers: dict[str, str]) -> None:
    calls: list[int] = []
    client = mock_client(_refusing(429, headers, calls))
    for _ in range(2):
        with pytest.raises(LlmFailed, match="HTTP 429"):
            client.complete("system", "user")
    assert calls == [429, 429]


def test_a_huge_retry_after_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server asking for a day off does not turn the LLM off for a day."""
    import context_service.llm.client as client_module

    calls: list[int] = []
    client = mock_client(_refusing(429, {"retry-after": "86400"}, calls))
    with pytest.raises(LlmFailed, match="HTTP 429"):
        client.complete("system", "user")
    later = time.monotonic() + client_module.MAX_RETRY_AFTER_S + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)  # the module client.py uses
    with pytest.raises(LlmFailed, match="HTTP 429"):
        client.complete("system", "user")
    assert calls == [429, 429]


# --- an email is grounded only whole -----------------------------------------------------------


@pytest.mark.parametrize(
    "near_miss",
    ["patel@example.com", "maya.patel@example.co", "a.patel@example.com", "maya.patel@example.c"],
)
def test_part_of_an_email_in_the_data_is_another_email(near_miss: str) -> None:
    source = "Customer: Maya Patel, maya.patel@example.com, +14155550134"
    assert ungrounded(f"Write to {near_miss} today.", source)


@pytest.mark.parametrize(
    "honest", ["MAYA.PATEL@EXAMPLE.COM", "(maya.patel@example.com)", "maya.patel@example.com."]
)
def test_the_whole_email_of_the_data_is_grounded(honest: str) -> None:
    source = 'Customer: customer-written "Maya", maya.patel@example.com; since Oct 2024'
    assert not ungrounded(f"Write to {honest} today.", source)


def test_an_email_after_an_escaped_line_break_in_a_transcript_is_grounded() -> None:
    """The handoff's transcript is JSON lines: a line break before an email is ``\\n``."""
    turn = json.dumps({"role": "customer", "text": "My new address:\nmaya@example.com"})
    assert not ungrounded("The customer's new address is maya@example.com.", turn)


def test_a_summary_cached_while_a_reader_missed_it_costs_no_second_call(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader whose cache look-up missed just before another reader's call finished and was
    stored looks again before it calls the LLM itself."""
    from context_service.llm import cache  # the module summarize.py uses

    calls: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        return httpx2.Response(200, json=completion("Maya Patel is past due."))

    summarizer = Summarizer(store, mock_client(handler))
    snap = snapshot_of(store)
    summarizer.summary(snap, "agent", AGENT, "llm")
    real_get = cache.get
    looks: list[int] = []

    def late_get(the_store: Store, key: Any) -> str | None:
        looks.append(1)
        return None if len(looks) == 1 else real_get(the_store, key)

    monkeypatch.setattr(cache, "get", late_get)
    block = summarizer.summary(snap, "agent", AGENT, "llm")
    assert (block.source, len(calls)) == ("llm-cache", 1)


@pytest.mark.parametrize(
    "response",
    [
        httpx2.Response(
            200,
            content=b'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\ndata: [DONE]\n\n',
            headers={"content-type": "text/event-stream"},
        ),
        httpx2.Response(200, json=_body(None)),
        httpx2.Response(200, content=b"{not json", headers={"content-type": "application/json"}),
    ],
    ids=["unasked-sse", "content-null", "broken-json"],
)
def test_a_body_that_is_no_completion_falls_back(store: Store, response: httpx2.Response) -> None:
    block = Summarizer(store, mock_client(lambda request: response)).summary(
        snapshot_of(store), "agent", AGENT, "llm"
    )
    assert block.source == "deterministic"
    assert block.fallback
    assert _cached(store) == []


@pytest.mark.parametrize("other_currency", ["€49", "49 EUR", "£160.92", "¥1,200", "GBP 352.08"])
def test_an_amount_in_a_currency_the_data_does_not_give_it_is_ungrounded(
    other_currency: str,
) -> None:
    """The data holds 49.00 USD: a refund of €49 is another amount, not the same one."""
    assert ungrounded(f"We refunded {other_currency} to Maya.", SOURCE)


@pytest.mark.parametrize("same_currency", ["US$49", "$49", "USD 49", "1,200 usd", "$1,200.00"])
def test_an_amount_in_the_data_currency_stays_grounded(same_currency: str) -> None:
    assert not ungrounded(f"We refunded {same_currency} to Maya.", SOURCE)


def test_a_dollar_sign_of_another_country_is_not_us_dollars() -> None:
    assert ungrounded("We refunded C$49 to Maya.", SOURCE)
    assert not ungrounded("We refunded C$49 to Maya.", "Refund of 49.00 CAD\n")


def test_a_bare_number_in_the_data_still_grounds_an_amount_in_any_currency() -> None:
    """A total written without its currency ("Junior seat: 29") says nothing about which."""
    assert not ungrounded("Maya pays €29 a month.", f"{SOURCE}Junior seat: 29\n")
