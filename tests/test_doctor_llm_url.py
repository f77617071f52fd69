"""``doctor`` says when the LLM base URL lacks the API's version segment: most
OpenAI-compatible servers (Ollama, vLLM, LM Studio, OpenAI itself) serve it under ``/v1``, and
without it every summary falls back with "HTTP 404" while the host still answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from context_service.doctor import check_llm
from tests.conftest import make_settings


def _messages(tmp_path: Path, base_url: str) -> list[str]:
    settings = make_settings(tmp_path / "c.db", llm_base_url=base_url, llm_model="llama3.1:8b")
    return [f"{f.level} {f.text}" for f in check_llm(settings)]


def test_a_base_url_without_a_version_segment_gets_a_warning(tmp_path: Path) -> None:
    [warning] = _messages(tmp_path, "http://localhost:11434")
    assert warning.startswith("warning")
    assert "/v1" in warning


@pytest.mark.parametrize(
    "base_url",
    [
        "http://localhost:11434/v1",
        "https://api.openai.com/v1/",
        "https://generativelanguage.googleapis.com/v1beta/openai",
    ],
)
def test_a_base_url_with_a_version_segment_is_fine(tmp_path: Path, base_url: str) -> None:
    assert _messages(tmp_path, base_url) == []
