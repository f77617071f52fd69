"""A small client for any OpenAI-compatible chat-completions endpoint, through the ``openai`` SDK.

Every failure (timeout, connection error, HTTP error, a response without text, a malformed
response the SDK cannot parse) becomes one ``LlmFailed`` with a short reason, so callers fall
back to the deterministic text and say why. The API key is never logged and never part of an
error message.

An answer is usable only when it is whole: one cut off at ``max_tokens`` (``finish_reason``
``length``) or by a content filter, or far longer than ``max_tokens`` allows (a server that
ignores the limit) is a failure, so it is neither served nor cached. So is a tool call or a
refusal, whatever text comes with it, one holding control characters (terminal escapes, NULs),
and one that names a detail its prompt did not give (an email, id, long number or amount of
money the data does not hold, or a secret: ``prompts.ungrounded``), and one holding Unicode
tag characters (words only a model reads). A reasoning model's ``<think>...</think>`` (Ollama,
vLLM) is dropped wherever it stands; unfinished thinking is a failure. Bidirectional marks
(U+200E, U+200F, U+061C) are removed. No failure's reason repeats the answer.

A query on the base URL (Azure OpenAI's ``?api-version=...``) is sent with every call.

A model that refuses a request parameter (OpenAI's reasoning models, o-series and gpt-5: a 400
whose ``error.param`` is ``max_tokens`` or ``temperature``) is asked again at once without it,
and this client leaves it out from then on: ``max_completion_tokens`` instead of
``max_tokens``, with room for the model's reasoning tokens beside the answer's, and
``reasoning_effort`` ``low`` (itself dropped if refused), and no ``temperature``.

A 429 or 503 with ``Retry-After`` (or OpenAI's ``retry-after-ms``) is honoured: until then,
at most ``MAX_RETRY_AFTER_S``, every call fails at once without a request, so a rate-limited
endpoint is not asked again by each reader and each background refresh.

``timeout_s`` is a deadline for the whole call, not for each read: the call runs on a worker
thread and the caller stops waiting once the deadline passes. The worker reads the body
against the same deadline and closes the response when it passes, so a server that trickles
its answer holds the connection at most one read timeout longer.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx2

from context_service.errors import ContextServiceError
from context_service.llm.prompts import ungrounded

DEFAULT_TIMEOUT_S = 10.0
# The longest pause a 429 or 503 ``Retry-After`` buys; a server asking for a day gets this.
MAX_RETRY_AFTER_S = 120.0
_PAUSING_STATUSES = frozenset({429, 503})
# Tokens a reasoning model may think with beside the answer's (``max_completion_tokens`` counts
# both); the answer itself is still held to the caller's ``max_tokens``.
REASONING_ALLOWANCE_TOKENS = 2048
# Request parameters a model may refuse (``error.param`` of a 400) and ``_request`` leaves out.
_ADAPTABLE = frozenset({"max_tokens", "temperature", "reasoning_effort"})
# About four characters make a token; twice that is the most a whole answer may hold.
CHARS_PER_TOKEN = 8
# The most bytes a JSON escape spends on one character (a surrogate pair, ``\ud83d\ude00``).
_JSON_BYTES_PER_CHAR = 12
_BODY_OVERHEAD_BYTES = 64 * 1024
# A reasoning model's thinking: a ``<think>`` (``<thinking>``, ``<reasoning>``) block wherever it
# stands, however its tag is cased or spaced; an opening tag left over is unfinished thinking,
# and a closing tag without its opening ends thinking whose opening the chat template sent.
_THINK_TAG = r"(?:think|thinking|reasoning)"
_THINKING = re.compile(rf"<\s*(?P<tag>{_THINK_TAG})\s*>.*?<\s*/\s*(?P=tag)\s*>", re.I | re.S)
_THINKING_OPENS = re.compile(rf"<\s*{_THINK_TAG}\s*>", re.I)
_THINKING_CLOSES = re.compile(rf"<\s*/\s*{_THINK_TAG}\s*>", re.I)
_TOOL_FINISH_REASONS = frozenset({"tool_calls", "function_call"})
# C0 and C1 controls but tab and line breaks, and the bidirectional overrides that reorder text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Characters no reader sees that carry words a model reads: Unicode tag characters (U+E0000 to
# U+E007F, "ASCII smuggling") and the supplementary variation selectors (U+E0100 to U+E01EF).
_HIDDEN = re.compile("[\U000e0000-\U000e007f\U000e0100-\U000e01ef]")
# The bidirectional marks (left-to-right, right-to-left, Arabic letter mark): invisible, they
# change how the text around them shows; removed from an answer, as from a handoff's input.
_MARKS = re.compile("[\u200e\u200f\u061c]")


# The reasons that say the endpoint answers no one now, whatever was asked (``unavailable``).
_UNAVAILABLE = re.compile(
    r"timeout|cannot reach the LLM endpoint|the LLM endpoint asked to wait"
    r"|HTTP (?:401|402|403|404|408|429|5\d\d) from the LLM endpoint"
)
# The reasons that say the endpoint sent no chat completion at all (a gateway's error page or
# error object with a 200): not about what was asked, but one alone may be a glitch
# (``malformed``).
_MALFORMED = re.compile(r"the LLM answered without choices|unusable LLM response")


def unavailable(reason: str) -> bool:
    """Whether a failure's ``reason`` says the endpoint cannot answer anyone now (a timeout, no
    connection, a 429 or ``Retry-After`` pause, a 5xx, or a 401, 402, 403 or 404: a key, an
    account out of quota or credit, or a URL it refuses), not that one answer was unusable
    (ungrounded, empty, cut off, refused...): a background refresh stops its round for the
    first and moves on to the next summary for the second."""
    return _UNAVAILABLE.match(reason) is not None


def malformed(reason: str) -> bool:
    """Whether a failure's ``reason`` says the response was no chat completion (no choices, a
    body the SDK cannot parse): the endpoint's doing, not the prompt's, so a background refresh
    stops its round when two summaries in a row fail so."""
    return _MALFORMED.match(reason) is not None


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
        self.timeout_s = timeout_s
        self._quiet_until = 0.0  # ``time.monotonic()`` before which no request is sent
        self._refused: set[str] = set()  # request parameters the model refused (``_options``)
        import openai  # here, not at the top: a second of start-up that serves no LLM-less app

        base, query = _split_query(base_url)
        self._client = openai.OpenAI(
            base_url=base,
            api_key=api_key,
            default_query=query or None,
            timeout=timeout_s,
            max_retries=0,
            http_client=http_client,
        )

    def complete(self, system: str, user: str, max_tokens: int = 500) -> str:
        """The model's answer to one system + user message pair, or ``LlmFailed``.

        Raises ``LlmFailed("timeout ...")`` once ``timeout_s`` has passed since the call began,
        however the server sends its answer.
        """
        if time.monotonic() < self._quiet_until:
            raise LlmFailed("the LLM endpoint asked to wait (Retry-After); not asked again yet")
        deadline = time.monotonic() + self.timeout_s
        outcome: list[str | LlmFailed] = []

        def work() -> None:
            try:
                outcome.append(self._answer(system, user, max_tokens, deadline))
            except LlmFailed as exc:
                outcome.append(exc)

        worker = threading.Thread(target=work, name="llm-call", daemon=True)
        worker.start()
        worker.join(max(deadline - time.monotonic(), 0.0))
        if not outcome:
            raise LlmFailed(f"timeout: no whole answer within {self.timeout_s:g} s")
        if isinstance(outcome[0], LlmFailed):
            raise outcome[0]
        if ungrounded(outcome[0], user):
            raise LlmFailed("the LLM answer names details that are not in the customer's data")
        return outcome[0]

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()

    def _answer(self, system: str, user: str, max_tokens: int, deadline: float) -> str:
        """The answer, asked again without each request parameter the model refuses."""
        for _ in range(len(_ADAPTABLE) + 1):
            if time.monotonic() >= deadline:  # the caller has stopped waiting: ask no more
                break
            try:
                return self._request(system, user, max_tokens, deadline)
            except _Refused as refused:
                self._refused.add(refused.param)
        raise LlmFailed("HTTP 400 from the LLM endpoint")

    def _request(self, system: str, user: str, max_tokens: int, deadline: float) -> str:
        """One request, its body read against ``deadline``; every failure as ``LlmFailed``,
        a refused parameter as ``_Refused``."""
        import openai  # loaded by ``__init__`` already

        refused = set(self._refused)  # as of this request: other threads may add to it
        thinks = "max_tokens" in refused  # a reasoning model: its budget counts its thinking too
        sent = {"temperature"} - refused
        sent |= {"reasoning_effort"} - refused if thinks else {"max_tokens"}
        try:
            with self._client.chat.completions.with_streaming_response.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                max_tokens=openai.omit if thinks else max_tokens,
                max_completion_tokens=(
                    max_tokens + REASONING_ALLOWANCE_TOKENS if thinks else openai.omit
                ),
                reasoning_effort=(
                    "low" if thinks and "reasoning_effort" not in refused else openai.omit
                ),
                temperature=openai.omit if "temperature" in refused else 0,
            ) as response:
                http = response.http_response
                if isinstance(http.stream, httpx2.SyncByteStream):
                    limit = _BODY_OVERHEAD_BYTES + _JSON_BYTES_PER_CHAR * _max_chars(max_tokens)
                    http.stream = _Bounded(http.stream, deadline, limit)
                parsed: object = response.parse()
            return _text_of(parsed, max_tokens)
        except LlmFailed:
            raise
        except (openai.APITimeoutError, httpx2.TimeoutException) as exc:
            raise LlmFailed("timeout") from exc
        except openai.APIStatusError as exc:
            if exc.status_code in _PAUSING_STATUSES:
                self._pause(exc.response.headers)
            param = _refused_param(exc)
            if param in sent:  # what this request sent, whatever other threads learnt since
                raise _Refused(param) from exc
            raise LlmFailed(f"HTTP {exc.status_code} from the LLM endpoint") from exc
        except (openai.APIConnectionError, httpx2.NetworkError) as exc:
            raise LlmFailed("cannot reach the LLM endpoint") from exc
        except Exception as exc:  # any other SDK or parse failure (RecursionError...): fall back
            raise LlmFailed(f"unusable LLM response ({type(exc).__name__})") from exc

    def _pause(self, headers: httpx2.Headers) -> None:
        """Send nothing for as long as a 429 or 503 asked (at most ``MAX_RETRY_AFTER_S``)."""
        wait_s = min(_retry_after_s(headers), MAX_RETRY_AFTER_S)
        if wait_s > 0:
            self._quiet_until = max(self._quiet_until, time.monotonic() + wait_s)


class _Refused(Exception):
    """The model refused a request parameter (``param``); ask again without it."""

    def __init__(self, param: str) -> None:
        super().__init__(param)
        self.param = param


def _refused_param(exc: Exception) -> str | None:
    """The parameter a 400 names as refused (``{"error": {"param": "max_tokens", "code":
    "unsupported_parameter"}}``, or ``unsupported_value`` for ``temperature``), when it is one
    ``_options`` can leave out."""
    if getattr(exc, "status_code", None) != 400:
        return None
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    param, code = error.get("param"), error.get("code")
    # Azure OpenAI says ``unknown_parameter`` for ``reasoning_effort`` on older API versions.
    if param in _ADAPTABLE and code in {
        "unsupported_parameter",
        "unsupported_value",
        "unknown_parameter",
    }:
        return str(param)
    return None


def _retry_after_s(headers: httpx2.Headers) -> float:
    """Seconds a response asked to wait: ``retry-after-ms`` (OpenAI), else ``Retry-After`` in
    seconds or as an HTTP date; 0 when neither says anything usable."""
    try:
        if "retry-after-ms" in headers:
            return max(float(headers["retry-after-ms"]) / 1000, 0.0)
        value = headers.get("retry-after", "").strip()
        if value.replace(".", "", 1).isdigit():
            return float(value)
        when = parsedate_to_datetime(value)
    except (ValueError, TypeError, OverflowError):
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _split_query(base_url: str) -> tuple[str, dict[str, str]]:
    """The base URL without its query, and the query's parameters (Azure's ``api-version``),
    which the SDK would otherwise put before the path it appends."""
    url = httpx2.URL(base_url)
    if not url.query:
        return base_url, {}
    return str(url.copy_with(query=None)), dict(url.params)


class _Bounded(httpx2.SyncByteStream):
    """A response body that stops (``LlmFailed``) past a deadline or a size limit."""

    def __init__(self, stream: httpx2.SyncByteStream, deadline: float, limit: int) -> None:
        self._stream = stream
        self._deadline = deadline
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for chunk in self._stream:
            size += len(chunk)
            if time.monotonic() > self._deadline:
                raise LlmFailed("timeout while the LLM answer was arriving")
            if size > self._limit:
                raise LlmFailed("the LLM answer is far longer than max_tokens allows")
            yield chunk

    def close(self) -> None:
        """Close the underlying stream (and with it the connection)."""
        self._stream.close()


def _max_chars(max_tokens: int) -> int:
    """The longest answer ``max_tokens`` can honestly produce, in characters."""
    return CHARS_PER_TOKEN * max_tokens


def _text_of(response: object, max_tokens: int) -> str:
    """The answer's text, if it is whole: not empty, not cut off, not runaway."""
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise LlmFailed("the LLM answered without choices")
    finish_reason = getattr(choices[0], "finish_reason", None)
    if finish_reason == "length":
        raise LlmFailed("the LLM answer was cut off at max_tokens")
    if finish_reason == "content_filter":
        raise LlmFailed("the LLM answer was stopped by a content filter")
    message = getattr(choices[0], "message", None)
    _refuse_non_answers(message, finish_reason)
    content = getattr(message, "content", None)
    if not isinstance(content, str) or not content.strip():
        raise LlmFailed("the LLM answered with empty text")
    if len(content) > _max_chars(max_tokens):
        raise LlmFailed("the LLM answer is far longer than max_tokens allows")
    return _plain(content)


def _refuse_non_answers(message: object, finish_reason: object) -> None:
    """``LlmFailed`` for a message that is not a briefing: a tool call (whatever text comes
    with it is a preamble) or a refusal (whose words are never the reason)."""
    if finish_reason in _TOOL_FINISH_REASONS or getattr(message, "tool_calls", None):
        raise LlmFailed("the LLM answered with a tool call, not text")
    refusal = getattr(message, "refusal", None)
    if isinstance(refusal, str) and refusal.strip():
        raise LlmFailed("the LLM refused to answer")


def _plain(content: str) -> str:
    """The answer without a reasoning model's thinking, wherever it stands, nor bidirectional
    marks; plain text or ``LlmFailed``."""
    content = _THINKING.sub("", _MARKS.sub("", content))
    if _THINKING_OPENS.search(content):
        raise LlmFailed("the LLM answered with unfinished reasoning")
    content = _THINKING_CLOSES.split(content)[-1].strip()
    if not content:
        raise LlmFailed("the LLM answered with empty text")
    if _CONTROL.search(content):
        raise LlmFailed("the LLM answer holds control characters")
    if _HIDDEN.search(content):
        raise LlmFailed("the LLM answer holds invisible tag characters")
    return content
