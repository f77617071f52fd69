"""One HTTP client for every vendor: retries with backoff and jitter, error classes, redaction.

``VendorHttp`` wraps the single injected ``httpx.Client`` (tests inject a ``MockTransport`` or
let vcrpy replay a cassette). Each call is retried on 429, 5xx, 409 and timeouts, honouring
``Retry-After`` and a vendor's own hint (``decide`` hook: Stripe's ``Stripe-Should-Retry``,
Shopify's GraphQL ``THROTTLED``), with exponential backoff and full jitter. What cannot be
retried is classified:

* ``FatalError``: 401/403 (credentials, scopes), 400/404/422 on a collection request, a broken
  contract; the run stops and reports it.
* ``SkippableError``: raised by connectors for one bad item; the run skips it and reports it.
* ``RetriableError``: retries exhausted; the run stops and resumes later from its cursor.

Secrets (tokens, keys) are redacted from every message and logged URL. Credentials go only to
the configured host: an absolute URL (a vendor's next-page link) on another origin is refused
before it is sent, and redirects are never followed (a 3xx is a ``FatalError`` naming where it
pointed). A ``Retry-After`` is waited out, with a warning that says how long and until when,
as long as the call's waits stay within its policy's ``max_wait``; one that asks for more stops
the call at once (``RetriableError``, with the seconds asked in ``extra["retry_after"]``)
instead of calling again before the vendor allows. A TLS certificate that does not verify is a
``FatalError`` (retrying cannot fix it), and other transport errors say what went wrong.

The default policy is a scheduled sync run's: it waits out a ``Retry-After`` of up to 15
minutes (``SYNC_MAX_WAIT``; one call's waits together), since giving up there stops the run
until a rerun, and a vendor's limits ask for minutes: Zendesk's incremental exports allow 10
requests a minute, so its 429 asks for up to a minute, or several after a burst.
``REFETCH_POLICY`` is for a process that applies webhook deliveries: a delivery whose vendor is
busy stays pending and the webhook inbox tries it again later, so a vendor call there gives up
at once instead of sleeping a ``Retry-After`` of minutes in-line while the deliveries behind it
wait.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx
import msgspec

from context_service.errors import FatalError, RetriableError

_decode_json = msgspec.json.Decoder().decode

log = logging.getLogger("integrations.http")

_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})
LOUD_WAIT_SECONDS = 60.0  # a Retry-After this long is announced with the time it ends
Decision = bool | None  # True: retry, False: do not retry, None: use the default rules
Decide = Callable[[httpx.Response], Decision]


# The longest one call of a sync run waits for its vendor, its waits together (a ``Retry-After``
# that would take it past this stops the run; the next one resumes from the cursors). The sync
# runner keeps the run's heartbeat while a page is fetched, however many calls it takes, and
# between the look-ups it makes itself, so one call must stay well under the hour without a
# heartbeat after which a run counts as gone (``sync.status.SILENT_AFTER``).
SYNC_MAX_WAIT = 15 * 60.0


class RetryPolicy(msgspec.Struct, frozen=True):
    """How hard to try: attempts in all, the backoff curve in seconds, and ``max_wait``, the
    longest one call waits in all (``Retry-After`` and backoff together) before it gives up."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = SYNC_MAX_WAIT


# At most one retry in-line, after a wait of a few seconds at most (a longer ``Retry-After``
# gives up at once): the webhook inbox's own retry takes over from there.
REFETCH_POLICY = RetryPolicy(max_attempts=2, base_delay=0.25, max_delay=1.0, max_wait=4.0)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """The server's ``Retry-After`` (seconds or an HTTP date) as seconds, if it sent one."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with full jitter for the ``attempt``-th retry (1-based)."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** (attempt - 1)))
    return rng.uniform(ceiling / 2, ceiling)


def json_body(response: httpx.Response) -> Any:
    """Decode a response's JSON body (msgspec: several times faster than ``response.json()``).

    Raises ``ValueError`` (``msgspec.DecodeError``) for a body that is not JSON, as
    ``response.json()`` does. A body whose strings escape half of a surrogate pair alone
    (``\\ud800``) is read with each such half as U+FFFD (``vendor_json``)."""
    return vendor_json(response.content)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def vendor_json(content: bytes) -> Any:
    """A vendor API answer decoded as JSON. msgspec refuses a string escaping half of a
    surrogate pair alone (``"\\ud800"``, which no UTF-8 store can hold), and one such
    character in one customer's name would stop every later sync of the source at its page:
    such a body is read again by the standard library, which lets them through, and each lone
    half becomes U+FFFD (the pairs it joins are kept). Raises ``msgspec.DecodeError`` (a
    ``ValueError``) for a body that is not JSON."""
    try:
        return _decode_json(content)
    except msgspec.DecodeError:
        if b"\\u" not in content:
            raise
        try:
            decoded = json.loads(content)
        except ValueError:
            raise msgspec.DecodeError("malformed JSON") from None
        return _without_lone_surrogates(decoded)


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` (decoded JSON) with every lone surrogate half in its strings as U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            _without_lone_surrogates(key): _without_lone_surrogates(item)
            for key, item in value.items()
        }
    return value


class VendorHttp:
    """Requests to one vendor API through the injected client, with retries and redaction."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        policy: RetryPolicy | None = None,
        decide: Decide | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.secrets = [s for s in secrets if s]
        self.policy = policy or RetryPolicy()
        self.decide = decide
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.retries = 0

    def copy(
        self,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> VendorHttp:
        """A ``VendorHttp`` on the same client, host, headers and secrets, with another retry
        ``policy`` or ``sleep`` where given (its own ``retries`` count)."""
        return VendorHttp(
            self.client,
            base_url=self.base_url,
            headers=self.headers,
            secrets=self.secrets,
            policy=policy or self.policy,
            decide=self.decide,
            sleep=sleep or self.sleep,
            rng=self.rng,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request, retrying what is worth retrying; return a 2xx response."""
        url = self._url(path)
        merged = {**self.headers, **(headers or {})}
        waited = 0.0
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                response = self.client.request(
                    method, url, params=params, json=json, headers=merged, follow_redirects=False
                )
            except httpx.TransportError as exc:
                what = self._transport_failure(exc, method, url)
                waited += self._wait_or_give_up(attempt, None, what, waited)
                continue
            if response.is_success and self._decision(response) is not True:
                return response
            if response.is_redirect or not self._should_retry(response):
                raise self._fatal(response, method, url)
            what = f"HTTP {response.status_code} on {method} {url}"
            waited += self._wait_or_give_up(attempt, response, what, waited)
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET and decode JSON; a body that is not JSON is a ``FatalError``."""
        return self._decoded(self.request("GET", path, **kwargs), "GET")

    def post_json(self, path: str, body: Any, **kwargs: Any) -> Any:
        """POST a JSON body and decode the JSON answer; one that is not JSON is a ``FatalError``."""
        return self._decoded(self.request("POST", path, json=body, **kwargs), "POST")

    def _url(self, path: str) -> str:
        """The URL of ``path``: under ``base_url``, or an absolute URL on its very origin (a
        vendor's next-page link). One on any other origin would carry the credentials there."""
        if not _ABSOLUTE.match(path):
            return f"{self.base_url}{path}"
        wanted, asked = httpx.URL(self.base_url or "http:"), httpx.URL(path)
        if (asked.scheme, asked.host, asked.port) != (wanted.scheme, wanted.host, wanted.port):
            shown = redact(f"{asked.scheme}://{asked.netloc.decode()}", self.secrets)
            raise FatalError(
                f"refusing to send credentials to {shown}: a link to a host other than "
                f"{wanted.host or 'the configured one'}"
            )
        return path

    def _decoded(self, response: httpx.Response, method: str) -> Any:
        try:
            return json_body(response)
        except ValueError as exc:
            where = redact(f"{method} {response.request.url}", self.secrets)
            kind = response.headers.get("content-type") or "no content type"
            start = redact(response.text[:80], self.secrets)
            raise FatalError(
                f"the answer to {where} is not JSON ({kind}, {len(response.content)} bytes): "
                f"{start!r}",
                status=response.status_code,
            ) from exc

    def _transport_failure(self, exc: httpx.TransportError, method: str, url: str) -> str:
        """What went wrong in words; a certificate that does not verify is a ``FatalError``."""
        reason = redact(str(exc) or type(exc).__name__, self.secrets)
        where = redact(f"{method} {url}", self.secrets)
        if _certificate_failure(exc):
            host = httpx.URL(url).host
            raise FatalError(
                f"TLS certificate of {host} could not be verified on {where}: {reason} "
                "(an intercepting proxy needs its CA in SSL_CERT_FILE)"
            ) from exc
        return f"{type(exc).__name__} on {where}: {reason}"

    def _decision(self, response: httpx.Response) -> Decision:
        return self.decide(response) if self.decide else None

    def _should_retry(self, response: httpx.Response) -> bool:
        decision = self._decision(response)
        if decision is not None:
            return decision
        return response.status_code in RETRY_STATUSES

    def _wait_or_give_up(
        self, attempt: int, response: httpx.Response | None, what: str, waited: float
    ) -> float:
        """Wait before the next attempt (the vendor's ``Retry-After``, else backoff) and return
        the seconds waited; ``RetriableError`` when attempts are spent or the vendor asks for a
        wait beyond what is left of ``max_wait`` after the ``waited`` seconds already spent."""
        message = redact(what, self.secrets)
        if attempt >= self.policy.max_attempts:
            raise RetriableError(f"gave up after {attempt} attempts: {message}")
        hinted = retry_after_seconds(response) if response is not None else None
        left = max(0.0, self.policy.max_wait - waited)
        if hinted is not None and hinted > left:
            spent = f" after {waited:.0f} s waited" if waited >= 1 else ""
            raise RetriableError(
                f"{message}: the vendor asks to wait {hinted:.0f} s (Retry-After), longer than "
                f"the {self.policy.max_wait:.0f} s this run waits{spent}; stopping",
                retry_after=hinted,
            )
        delay = hinted if hinted is not None else backoff(attempt, self.policy, self.rng)
        self.retries += 1
        if hinted is not None and hinted >= LOUD_WAIT_SECONDS:
            until = time.strftime("%H:%M:%S UTC", time.gmtime(time.time() + hinted))
            log.warning(
                "waiting %.0f s, until about %s, as the vendor asks (Retry-After), then trying "
                "again (attempt %d of %d): %s",
                delay,
                until,
                attempt + 1,
                self.policy.max_attempts,
                message,
            )
        else:
            log.warning("retrying in %.2f s (attempt %d): %s", delay, attempt, message)
        self.sleep(delay)
        return delay

    def _fatal(self, response: httpx.Response, method: str, url: str) -> FatalError:
        body = redact(response.text[:300], self.secrets)
        where = redact(f"{method} {url}", self.secrets)
        if response.is_redirect:
            target = redact(response.headers.get("location", "?"), self.secrets)
            body = f"redirected to {target}; not followed (check the configured URL)"
        return FatalError(
            f"HTTP {response.status_code} on {where}: {body}",
            status=response.status_code,
            body=redact(response.text, self.secrets),
        )


def _certificate_failure(exc: BaseException) -> bool:
    """Whether a transport error comes from a TLS certificate that did not verify."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:  # a chain may loop back on itself
        chain.append(link)
        link = link.__cause__ or link.__context__
    return any(
        isinstance(link, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(link)
        for link in chain
    )
