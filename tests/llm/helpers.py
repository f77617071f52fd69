"""LLM test helpers: a client on a MockTransport, a vcr for cassettes, a demo store copy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx2
import vcr

from context_service.llm import LlmClient
from tests.conftest import copy_store

BASE_URL = "http://llm.test/v1"
API_KEY = "sk-test-secret-do-not-log"
MODEL = "test-model"
CASSETTES = Path(__file__).with_name("cassettes")

replay = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=["method", "scheme", "host", "port", "path"],
    filter_headers=["authorization"],
)


def completion(content: str) -> dict[str, object]:
    """A chat-completions response body in OpenAI's shape."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1764400000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def mock_client(
    handler: Callable[[httpx2.Request], httpx2.Response], model: str = MODEL
) -> LlmClient:
    """An LLM client (of ``model``) whose HTTP goes to ``handler``."""
    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return LlmClient(
        base_url=BASE_URL, api_key=API_KEY, model=model, timeout_s=2.0, http_client=http
    )


def copy_db(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo store (these tests write the summary cache)."""
    return copy_store(demo_db, tmp_path / "demo.db")
