"""LLM summaries through the ``openai`` SDK: client, versioned prompts, cache, fallbacks.

Only ``api/app.py`` (and ``cli.py``) build an ``LlmClient`` from the settings; everything else
receives it. With no LLM configured, everything works deterministically.
"""

from __future__ import annotations

from context_service.llm.client import LlmClient, LlmFailed
from context_service.llm.refresh import SummaryRefresher
from context_service.llm.summarize import Summarizer, SummaryMode

__all__ = [
    "LlmClient",
    "LlmFailed",
    "Summarizer",
    "SummaryMode",
    "SummaryRefresher",
    "client_from_settings",
]


def client_from_settings(
    base_url: str | None, api_key: str | None, model: str | None, timeout_s: float = 10.0
) -> LlmClient | None:
    """A client when base URL and model are set (the key may be empty for local servers)."""
    if not base_url or not model:
        return None
    return LlmClient(
        base_url=base_url, api_key=api_key or "not-needed", model=model, timeout_s=timeout_s
    )
