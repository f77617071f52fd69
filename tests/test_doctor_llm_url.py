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


@pytest.mark.parametrize(
    ("pasted", "base"),
    [
        ("https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1/chat/completions/", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1/completions", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1/responses", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1/embeddings", "https://api.openai.com/v1"),
        ("http://localhost:11434/v1/Chat/Completions", "http://localhost:11434/v1"),
        (
            "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
            "https://generativelanguage.googleapis.com/v1beta/openai",
        ),
    ],
)
def test_a_full_endpoint_pasted_as_the_base_url_is_a_problem_naming_the_base(
    tmp_path: Path, pasted: str, base: str
) -> None:
    """The client appends ``/chat/completions`` itself: an endpoint given as the base URL
    makes every call ``.../chat/completions/chat/completions``, HTTP 404."""
    [problem] = _messages(tmp_path, pasted)
    assert problem.startswith("problem CONTEXT_SERVICE_LLM_BASE_URL")
    assert f"use {base} " in problem
    assert "404" in problem


def test_an_endpoint_with_a_query_keeps_the_query_out_of_the_finding(tmp_path: Path) -> None:
    """Azure's ``api-version`` rides in the query; the finding says to keep the query and
    never repeats it (a query may hold a key)."""
    pasted = (
        "https://acme.openai.azure.com/openai/deployments/gpt4o/chat/completions"
        "?api-version=2024-06-01"
    )
    problem, *_ = _messages(tmp_path, pasted)  # and the warning that no /v1 is in the path
    assert problem.startswith("problem")
    assert "use https://acme.openai.azure.com/openai/deployments/gpt4o " in problem
    assert "query" in problem
    assert "2024-06-01" not in problem


def test_an_endpoint_without_a_version_is_named_and_the_version_hint_follows(
    tmp_path: Path,
) -> None:
    problem, warning = _messages(tmp_path, "http://localhost:11434/chat/completions")
    assert problem.startswith("problem")
    assert "use http://localhost:11434 " in problem
    assert warning.startswith("warning")
    assert "/v1" in warning


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.openai.com/v1",
        "https://acme.openai.azure.com/openai/deployments/completions-bot/v1",
        "https://example.com/v1/responses-proxy",
    ],
)
def test_a_base_url_that_only_mentions_an_endpoint_word_is_fine(
    tmp_path: Path, base_url: str
) -> None:
    assert _messages(tmp_path, base_url) == []
