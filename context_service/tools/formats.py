"""Tool definitions in the shapes LLM SDKs accept, generated from ``schemas.TOOLS``."""

from __future__ import annotations

from typing import Any, Literal

from context_service.tools.schemas import TOOLS, ToolSpec

OpenAIApi = Literal["chat", "responses"]


def openai_tool(spec: ToolSpec, api: OpenAIApi = "chat") -> dict[str, Any]:
    """One tool as an OpenAI function definition.

    ``chat``: ``{"type": "function", "function": {...}}`` for Chat Completions;
    ``responses``: the flat ``{"type": "function", "name": ...}`` of the Responses API.
    """
    function = {
        "name": spec.name,
        "description": spec.description,
        "parameters": spec.parameters(),
    }
    if api == "responses":
        return {"type": "function", **function, "strict": False}
    return {"type": "function", "function": function}


def openai_tools(api: OpenAIApi = "chat") -> list[dict[str, Any]]:
    """Every tool as OpenAI function definitions."""
    return [openai_tool(spec, api) for spec in TOOLS]
