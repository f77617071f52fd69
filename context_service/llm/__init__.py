"""LLM summaries through the ``openai`` SDK: client, versioned prompts, cache, fallbacks.

Only ``api/app.py`` (and ``cli.py``) build an ``LlmClient`` from the settings; everything else
receives it. With no LLM configured, everything works deterministically.
"""

from __future__ import annotations

import re

from context_service.errors import ConfigurationError
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

# C0 and C1 controls and the bidirectional overrides.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def client_from_settings(
    base_url: str | None, api_key: str | None, model: str | None, timeout_s: float = 10.0
) -> LlmClient | None:
    """A client when base URL and model are set (the key may be empty for local servers).

    A model name with spaces around it or control characters in it is a ``ConfigurationError``
    (a ``.env`` quoting mistake): sent as is, every request would only get "model not found".
    """
    if not base_url or not model:
        return None
    if model != model.strip() or _CONTROL.search(model):
        raise ConfigurationError(
            f"CONTEXT_SERVICE_LLM_MODEL {model!a} has spaces around it or control characters in it"
        )
    return LlmClient(
        base_url=base_url, api_key=api_key or "not-needed", model=model, timeout_s=timeout_s
    )
