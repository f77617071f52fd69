"""The Shopify Admin GraphQL client: one POST per query through ``VendorHttp``, the query-cost
throttle waited out (``THROTTLED`` answers and a low bucket), field errors that withhold one
field kept apart from errors that make the answer unusable, and the API version Shopify served
checked against the one asked for."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from context_service.errors import FatalError, RetriableError
from integrations._http import VendorHttp, backoff, json_body, redact

log = logging.getLogger("integrations.shopify")

MAX_THROTTLE_SLEEP = 60.0
# Codes of errors that withhold one field and leave the rest of the answer usable.
FIELD_ERROR_CODES = frozenset({"ACCESS_DENIED"})


def _errors(body: Any) -> list[dict[str, Any]]:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        return [error if isinstance(error, dict) else {"message": str(error)} for error in errors]
    return [{"message": str(errors)}] if errors else []


def _code(error: dict[str, Any]) -> Any:
    extensions = error.get("extensions")
    return extensions.get("code") if isinstance(extensions, dict) else None


def is_throttled(body: Any) -> bool:
    """Whether a GraphQL answer is Shopify's ``THROTTLED`` error."""
    return any(_code(error) == "THROTTLED" for error in _errors(body))


def throttle_delay(body: Any) -> float:
    """Seconds to wait until the cost bucket again holds the last query's requested cost."""
    extensions = body.get("extensions") if isinstance(body, dict) else None
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    if not isinstance(cost, dict):
        return 0.0
    status = cost.get("throttleStatus") or {}
    try:
        requested = float(cost.get("requestedQueryCost") or 0)
        available = float(status.get("currentlyAvailable", requested))
        rate = float(status.get("restoreRate") or 0)
    except (TypeError, ValueError, AttributeError):
        return 0.0
    if available >= requested or rate <= 0:
        return 0.0
    return min(MAX_THROTTLE_SLEEP, (requested - available) / rate)


def is_field_error(error: dict[str, Any]) -> bool:
    """Whether a GraphQL error withholds one field only (``ACCESS_DENIED`` with a ``path``)."""
    path = error.get("path")
    return isinstance(path, list) and len(path) > 1 and _code(error) in FIELD_ERROR_CODES


class Answer(msgspec.Struct):
    """The ``data`` of a GraphQL answer, and the field errors that withheld parts of it."""

    data: dict[str, Any]
    withheld: list[dict[str, Any]] = []


def _field(path: list[Any]) -> str:
    """The node field a path points into (``[root, "nodes", i, field, ...]`` or
    ``[root, field, ...]``); a path that ends at a listed node names the node."""
    if len(path) > 2 and isinstance(path[2], int):
        return str(path[3]) if len(path) > 3 else "the whole node"
    return str(path[1])


def withheld_summary(errors: list[dict[str, Any]]) -> str:
    """``email, phone (ACCESS_DENIED: <first message>)``: the fields, the code and a message."""
    fields = sorted({_field(e["path"]) for e in errors})
    codes = sorted({str(_code(e)) for e in errors})
    message = str(errors[0].get("message") or "")[:200] if errors else ""
    return f"{', '.join(fields)} ({', '.join(codes)}: {message})"


def version_drift(requested: str | None, served: str | None) -> str | None:
    """The run's note when Shopify served another Admin API version than the one requested.

    Shopify answers a request for a version it no longer supports (or not yet) with another
    one, saying which in ``X-Shopify-API-Version``, without an error: fields may then change
    shape or meaning. ``None`` when they agree or either is unknown.
    """
    served = (served or "").strip()
    if not requested or not served or served == requested:
        return None
    return (
        f"shopify: asked for Admin API version {requested} but Shopify served {served[:40]}; "
        "fields may differ from what this connector reads (the requested version is unsupported)"
    )


class ShopifyGraphQL:
    """POSTs GraphQL queries through ``VendorHttp``; errors fatal, throttling respected.

    ``version_note`` says, after each answer, whether Shopify served another API version than
    ``api_version`` (``version_drift``); it is logged once as a warning.
    """

    def __init__(
        self,
        http: VendorHttp,
        path: str,
        sleep: Callable[[float], None],
        *,
        authorized: bool,
        api_version: str | None = None,
    ) -> None:
        self.http = http
        self.path = path
        self.sleep = sleep
        self.authorized = authorized
        self.api_version = api_version
        self.version_note: str | None = None

    def execute(self, query: str, variables: Mapping[str, Any]) -> Answer:
        """The answer's ``data`` and field errors; ``FatalError`` on any other GraphQL error
        or a broken answer.

        A ``THROTTLED`` answer is retried after the wait its cost bucket needs, up to the
        retry policy's attempts; then ``RetriableError``.
        """
        if not self.authorized:
            raise FatalError("shopify: no access token configured; cannot call the Admin API")
        payload = {"query": query, "variables": dict(variables)}
        attempts = self.http.policy.max_attempts
        for attempt in range(1, attempts + 1):
            body = self._post(payload)
            if not is_throttled(body):
                return self._data(body)
            if attempt < attempts:
                self._wait_throttled(body, attempt)
        raise RetriableError(f"shopify GraphQL still THROTTLED after {attempts} attempts")

    def _post(self, payload: dict[str, Any]) -> Any:
        response = self.http.request("POST", self.path, json=payload)
        self._check_version(response.headers.get("X-Shopify-API-Version"))
        try:
            return json_body(response)
        except ValueError as exc:
            raise FatalError("shopify GraphQL answer is not JSON", status=200) from exc

    def _check_version(self, served: str | None) -> None:
        note = version_drift(self.api_version, served)
        if note is not None and note != self.version_note:
            log.warning("%s", note)
        self.version_note = note

    def _wait_throttled(self, body: Any, attempt: int) -> None:
        """Sleep until the bucket holds the query's cost (or a backoff when it does not say)."""
        delay = throttle_delay(body) or backoff(attempt, self.http.policy, self.http.rng)
        self.http.retries += 1
        log.warning("shopify GraphQL THROTTLED; retrying in %.2f s (attempt %d)", delay, attempt)
        self.sleep(delay)

    def _data(self, body: Any) -> Answer:
        errors = _errors(body)
        data = body.get("data") if isinstance(body, dict) else None
        if errors and (not isinstance(data, dict) or not all(map(is_field_error, errors))):
            messages = "; ".join(str(error.get("message")) for error in errors)
            raise FatalError(redact(f"shopify GraphQL errors: {messages}", self.http.secrets))
        self._pause(body)
        if not isinstance(data, dict):
            raise FatalError("shopify GraphQL answer has no data")
        return Answer(data, [self._redacted(error) for error in errors])

    def _redacted(self, error: dict[str, Any]) -> dict[str, Any]:
        return {**error, "message": redact(str(error.get("message")), self.http.secrets)}

    def _pause(self, body: Any) -> None:
        delay = throttle_delay(body)
        if delay > 0:
            log.info("shopify query cost bucket low; waiting %.2f s", delay)
            self.sleep(delay)


# --- Streams -------------------------------------------------------------------------------------
