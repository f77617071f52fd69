"""``VendorHttp`` under hostile answers: off-host links and redirects, long Retry-After, TLS
failures, and bodies that are not JSON. Secrets never leave in a message."""

from __future__ import annotations

import random
import ssl

import httpx
import pytest

from context_service.errors import FatalError, RetriableError
from integrations._http import RetryPolicy, VendorHttp

TOKEN = "shpat_secret_token_123"
BASE = "https://shop.example.com"


def _http(
    handler: httpx.MockTransport,
    *,
    follow_redirects: bool = False,
    slept: list[float] | None = None,
) -> VendorHttp:
    waits = slept if slept is not None else []
    return VendorHttp(
        httpx.Client(transport=handler, follow_redirects=follow_redirects),
        base_url=BASE,
        headers={"X-Shopify-Access-Token": TOKEN, "Authorization": f"Bearer {TOKEN}"},
        secrets=[TOKEN],
        policy=RetryPolicy(max_attempts=4, base_delay=0.1, max_delay=2.0),
        sleep=waits.append,
        rng=random.Random(7),
    )


def test_an_absolute_url_on_another_host_is_refused_before_any_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    http = _http(httpx.MockTransport(handler))
    with pytest.raises(FatalError, match=r"evil\.example\.net"):
        http.get_json("https://evil.example.net/admin/customers.json?page_info=x")
    assert seen == []


def test_an_absolute_url_on_the_same_host_is_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"host": request.url.host})

    http = _http(httpx.MockTransport(handler))
    assert http.get_json(f"{BASE}/admin/customers.json?page_info=x") == {"host": "shop.example.com"}


def test_a_redirect_to_another_host_is_never_followed_even_by_a_following_client() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.host == "shop.example.com":
            return httpx.Response(302, headers={"Location": "https://evil.example.net/steal"})
        return httpx.Response(200, json={"stolen": request.headers.get("x-shopify-access-token")})

    http = _http(httpx.MockTransport(handler), follow_redirects=True)
    with pytest.raises(FatalError) as caught:
        http.get_json("/admin/customers.json")
    assert hosts == ["shop.example.com"]
    assert "evil.example.net" in caught.value.detail  # says where it was sent
    assert TOKEN not in caught.value.detail


def test_a_retry_after_beyond_the_longest_wait_stops_at_once_without_hammering() -> None:
    calls: list[int] = []
    slept: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, headers={"Retry-After": "3600"})

    http = _http(httpx.MockTransport(handler), slept=slept)
    with pytest.raises(RetriableError, match="3600"):
        http.get_json("/admin/customers.json")
    assert len(calls) == 1  # not retried before the vendor said it may be
    assert slept == []


def test_a_retry_after_as_an_http_date_in_the_near_future_is_waited() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    answers = iter(
        [httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200, json=[])]
    )
    slept: list[float] = []
    http = _http(httpx.MockTransport(lambda request: next(answers)), slept=slept)
    assert http.get_json("/x") == []
    assert len(slept) == 1
    assert 0 < slept[0] <= 3


def test_a_tls_certificate_failure_is_reported_clearly_and_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        try:
            raise ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed")
        except ssl.SSLError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    http = _http(httpx.MockTransport(handler))
    with pytest.raises(FatalError, match=r"(?i)certificate") as caught:
        http.get_json("/x")
    assert len(calls) == 1
    assert "shop.example.com" in caught.value.detail


def test_a_transport_error_after_retries_says_what_went_wrong_without_secrets() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            f"proxy refused token {TOKEN}: connection refused", request=request
        )

    http = _http(httpx.MockTransport(handler))
    with pytest.raises(RetriableError) as caught:
        http.get_json("/x")
    assert "connection refused" in caught.value.detail
    assert TOKEN not in caught.value.detail


@pytest.mark.parametrize("body", [b"<html>gateway</html>", b'{"customers": [{"id": 1'])
def test_a_success_whose_body_is_not_json_is_a_clear_integration_error(body: bytes) -> None:
    http = _http(httpx.MockTransport(lambda request: httpx.Response(200, content=body)))
    with pytest.raises(FatalError, match="not JSON") as caught:
        http.get_json("/admin/customers.json")
    assert "/admin/customers.json" in caught.value.detail
