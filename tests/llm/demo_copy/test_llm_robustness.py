"""LLM answers that must not be served: a malformed body, one cut off at max_tokens, a runaway
one, and one that never finishes arriving. Each is ``LlmFailed``, so callers fall back to the
deterministic text, and nothing is cached."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience import FieldPolicy
from context_service.handoff import Turn
from context_service.llm import LlmClient, Summarizer
from context_service.llm.client import CHARS_PER_TOKEN, LlmFailed
from context_service.llm.handoff import llm_handoff
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import TEST_KEY, make_settings
from tests.llm.helpers import completion, copy_db, mock_client

CHATBOT = FieldPolicy().view("chatbot", None)
ESCALATION = FieldPolicy().view("escalation", None)
Handler = Callable[[httpx2.Request], httpx2.Response]


def _answer(content: str, finish_reason: str = "stop") -> Handler:
    body: dict[str, Any] = completion(content)
    body["choices"][0]["finish_reason"] = finish_reason

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=body)

    return handler


def _cached(store: Store) -> int:
    count: int = store.conn.execute("SELECT count(*) FROM llm_summaries").fetchone()[0]
    return count


def _summary_of(store: Store, handler: Handler) -> tuple[str, str | None, str]:
    block = Summarizer(store, mock_client(handler)).summary(
        snapshot_of(store), "chatbot", CHATBOT, "llm"
    )
    return block.source, block.fallback, block.text


# --- a malformed body ---------------------------------------------------------------------------

_DEEP = b"[" * 100_000 + b"]" * 100_000


def _deep(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, content=_DEEP, headers={"content-type": "application/json"})


def test_a_deeply_nested_json_answer_is_llm_failed() -> None:
    with pytest.raises(LlmFailed, match="unusable LLM response"):
        mock_client(_deep).complete("system", "user")


def test_a_deeply_nested_json_answer_falls_back(store: Store) -> None:
    source, fallback, text = _summary_of(store, _deep)
    assert (source, fallback) == ("deterministic", "unusable LLM response (RecursionError)")
    assert text.startswith("Maya Patel")


def test_an_escalation_survives_a_malformed_llm_answer(demo_db: Path, tmp_path: Path) -> None:
    settings = make_settings(copy_db(demo_db, tmp_path))
    body = {
        "customer": {"email": "maya.patel@example.com"},
        "transcript": [{"role": "customer", "text": "charged twice"}],
        "reason": "refund",
        "summary": "llm",
    }
    with TestClient(app=create_app(settings, llm_client=mock_client(_deep))) as client:
        response = client.post(
            "/v1/escalations", json=body, headers={"Authorization": f"Bearer {TEST_KEY}"}
        )
    assert response.status_code == 201, response.text[:300]
    assert response.json()["summary"]["source"] == "deterministic"


# --- an answer cut off at max_tokens ------------------------------------------------------------

CUT = "Maya Patel's Pro subscription is past due after a failed payment of"


def test_an_answer_cut_off_at_max_tokens_is_not_served_or_cached(store: Store) -> None:
    source, fallback, text = _summary_of(store, _answer(CUT, finish_reason="length"))
    assert source == "deterministic"
    assert fallback is not None
    assert "cut off" in fallback
    assert CUT not in text
    assert _cached(store) == 0


def test_a_whole_answer_is_served_and_cached(store: Store) -> None:
    source, fallback, text = _summary_of(store, _answer(CUT + " 49 USD."))
    assert (source, fallback, text) == ("llm", None, CUT + " 49 USD.")
    assert _cached(store) == 1


def test_an_llm_handoff_cut_off_is_not_the_handoff(store: Store) -> None:
    cut = "Who: Maya Patel, high confidence.\nWants: a refund of the duplicate"
    block = llm_handoff(
        mock_client(_answer(cut, finish_reason="length")),
        snapshot_of(store),
        ESCALATION,
        [Turn("customer", "refund")],
        "refund",
        "DETERMINISTIC",
    )
    assert (block.text, block.source) == ("DETERMINISTIC", "deterministic")
    assert block.fallback is not None
    assert "cut off" in block.fallback


# --- a runaway answer (the server ignored max_tokens) -------------------------------------------


def test_a_runaway_answer_is_not_served_or_cached(store: Store) -> None:
    huge = "Maya Patel is a customer. " * 8000  # ~200k characters for max_tokens=500
    source, fallback, text = _summary_of(store, _answer(huge))
    assert source == "deterministic"
    assert fallback is not None
    assert "longer than max_tokens" in fallback
    assert len(text) < 2000
    assert _cached(store) == 0


def test_the_length_bound_follows_max_tokens() -> None:
    bound = CHARS_PER_TOKEN * 10
    assert mock_client(_answer("x" * bound)).complete("s", "u", max_tokens=10) == "x" * bound
    with pytest.raises(LlmFailed, match="longer than max_tokens"):
        mock_client(_answer("x" * (bound + 1))).complete("s", "u", max_tokens=10)


# --- a deadline for the whole call --------------------------------------------------------------


class Trickle:
    """An endpoint on loopback that answers 200 and then one byte of its body at a time, for
    ever (``give_up_s``: long past any deadline here, so a client without one fails this test
    rather than hanging it); ``closed`` is set once the client hangs up."""

    def __init__(self, every_s: float = 0.2, give_up_s: float = 15.0) -> None:
        self.every_s = every_s
        self.give_up_s = give_up_s
        self.closed = threading.Event()
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            _read_request(conn)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000000\r\n\r\n"
            )
            give_up = time.monotonic() + self.give_up_s
            try:
                while not self.stop.wait(self.every_s) and time.monotonic() < give_up:
                    conn.sendall(b" ")  # leading JSON whitespace: each read gets a byte in time
            except OSError:
                self.closed.set()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)
    json.loads(body)  # a whole chat-completions request


def test_timeout_bounds_the_whole_call_and_hangs_up() -> None:
    server = Trickle()
    client = LlmClient(base_url=server.url, api_key="k", model="m", timeout_s=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(LlmFailed, match="timeout"):
            client.complete("system", "user")
        elapsed = time.monotonic() - started
        assert elapsed < 3.0, f"timeout_s=1.0 but the call took {elapsed:.1f} s"
        assert server.closed.wait(10), "the request to the LLM endpoint was left open"
    finally:
        client.close()
        server.close()
