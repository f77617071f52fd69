"""A small client for any OpenAI-compatible chat-completions endpoint, through the ``openai`` SDK.

Every failure (timeout, connection error, HTTP error, a response without text) becomes one
``LlmFailed`` with a short reason, so callers fall back to the deterministic text and say why.
The API key is never logged and never part of an error message.
"""

from __future__ import annotations

import httpx2
import openai

from context_service.errors import ContextServiceError

DEFAULT_TIMEOUT_S = 10.0


class LlmFailed(ContextServiceError):
    """The LLM call did not produce a usable answer; ``reason`` says why, briefly."""

    status_code = 502
    title = "LLM unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LlmClient:
    """Chat completions against ``base_url`` with ``model``; no retries (the caller falls back)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.model = model
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout_s,
            max_retries=0,
            http_client=http_client,
        )

    def complete(self, system: str, user: str, max_tokens: int = 500) -> str:
        """The model's answer to one system + user message pair, or ``LlmFailed``."""
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                max_tokens=max_tokens,
                temperature=0,
            )
        except openai.APITimeoutError as exc:
            raise LlmFailed("timeout") from exc
        except openai.APIStatusError as exc:
            raise LlmFailed(f"HTTP {exc.status_code} from the LLM endpoint") from exc
        except openai.APIConnectionError as exc:
            raise LlmFailed("cannot reach the LLM endpoint") from exc
        except (openai.OpenAIError, ValueError, TypeError) as exc:
            raise LlmFailed(f"unusable LLM response ({type(exc).__name__})") from exc
        return _text_of(response)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()


def _text_of(response: object) -> str:
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise LlmFailed("the LLM answered without choices")
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise LlmFailed("the LLM answered with empty text")
    return content.strip()
