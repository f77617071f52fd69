"""What the context and escalation routes keep in ``app.state``: policy, LLM, summarizer, notes."""

from __future__ import annotations

from typing import Any

from context_service.audience import load_policy
from context_service.handoff import NotePoster
from context_service.llm import LlmClient, Summarizer, client_from_settings
from context_service.settings import Settings
from context_service.store import Store


def context_state(
    settings: Settings,
    store: Store,
    llm_client: LlmClient | None = None,
    note_poster: NotePoster | None = None,
) -> dict[str, Any]:
    """``field_policy``, ``llm_client``, ``summarizer`` and ``note_poster`` for ``app.state``."""
    client = llm_client or client_from_settings(
        settings.llm_base_url,
        settings.llm_api_key,
        settings.llm_model,
        float(settings.llm_timeout_seconds),
    )
    return {
        "field_policy": load_policy(settings.field_policy),
        "llm_client": client,
        "summarizer": Summarizer(store, client),
        "note_poster": note_poster,
    }
