"""End to end against a real ``serve`` process on loopback: a body over the size
limit is refused from its announced length, before it is read; the server's log and metrics
never carry a delivery's body or signature, whether it was refused, rejected or applied."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.webhook_rig import AUTH, LiveServer, live_context_server, poll_until
from tests.integrations.stripe import fake as stripe_fake
from tests.loopback import serving

pytestmark = pytest.mark.e2e
MARKER = "bodymarker-7f3a9c"  # in every body sent here: never in a log line or a metric
ANSWER_WAIT_SECONDS = 30.0  # a bound on waiting for any answer, not a timing assertion


@pytest.fixture
def stripe_server(tmp_path: Path) -> Iterator[tuple[LiveServer, stripe_fake.FakeStripe]]:
    fake = stripe_fake.FakeStripe(clock=time.time())
    with (
        serving(fake.handler) as vendor,
        live_context_server(
            tmp_path,
            CONTEXT_SERVICE_LOG_LEVEL="DEBUG",
            CONTEXT_SERVICE_STRIPE_API_KEY=stripe_fake.API_KEY,
            CONTEXT_SERVICE_STRIPE_WEBHOOK_SECRET=stripe_fake.WEBHOOK_SECRET,
            CONTEXT_SERVICE_STRIPE_BASE_URL=vendor,
        ) as server,
    ):
        yield server, fake


def _first_answer_line(server: LiveServer, announced: int, sent: bytes) -> bytes:
    """POST headers announcing ``announced`` body bytes, send only ``sent``, and return the
    status line the server answers with while the rest of the body is still owed."""
    where = urlsplit(server.base)
    with socket.create_connection((where.hostname, where.port), timeout=ANSWER_WAIT_SECONDS) as s:
        head = (
            f"POST /v1/webhooks/stripe HTTP/1.1\r\nHost: {where.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {announced}\r\n\r\n"
        )
        s.sendall(head.encode() + sent)
        answer = s.recv(4096)
    return answer.split(b"\r\n", 1)[0]


def test_a_body_announced_over_the_limit_is_refused_before_it_is_read(
    stripe_server: tuple[LiveServer, stripe_fake.FakeStripe],
) -> None:
    server, _fake = stripe_server
    line = _first_answer_line(server, 50 * 1_048_576, b'{"id":"evt_1",')
    assert b" 413 " in line + b" ", line
    assert server.inbox() == []


def test_log_and_metrics_never_carry_a_body_or_a_signature(
    stripe_server: tuple[LiveServer, stripe_fake.FakeStripe],
) -> None:
    server, fake = stripe_server
    [customer_id] = fake.add_customers(1)
    customer = fake.get("customer", customer_id)
    assert customer is not None
    customer["description"] = MARKER
    signatures: list[str] = []

    def deliver(body: bytes, secret: str | None = None) -> int:
        headers, raw = fake.signed(json.loads(body), secret=secret)
        signatures.append(headers["Stripe-Signature"].split("v1=")[1])
        return server.post_webhook("stripe", headers, raw).status_code

    event = fake.emit_event("customer.updated", customer)
    assert deliver(json.dumps(event).encode(), secret="whsec_wrong_0123456789") == 401
    assert deliver(json.dumps({"object": "event", "marker": MARKER}).encode()) == 422
    assert deliver(json.dumps(event).encode()) == 200
    poll_until(
        server.inbox,
        lambda rows: [row["status"] for row in rows] == ["rejected", "applied"],
        "the rejected and the applied delivery settled",
        server,
    )
    metrics = httpx.get(f"{server.base}/metrics", headers=AUTH, timeout=10).text
    for text in (server.log_text(), metrics):
        assert MARKER not in text
        for signature in signatures:
            assert signature not in text
