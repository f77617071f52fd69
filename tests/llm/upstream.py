"""A slow OpenAI-compatible endpoint on loopback that counts its requests, and a reader to run
in a spawned process against it (several of them stand for API workers and the refresher)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

from context_service.audience import FieldPolicy
from context_service.llm import LlmClient, Summarizer, summarize
from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.llm.helpers import MODEL, completion

SUMMARY = "Maya Patel is past due."
AGENT = FieldPolicy().view("agent", None)
Outcome = tuple[str, str, str | None]  # source, text, fallback of one reader's summary block


class Upstream:
    """Chat completions that answer ``status`` once ``gate`` is set (at once unless ``gated``);
    with ``hang_first`` the first request gets no answer until ``close()`` (its caller is
    killed meanwhile).

    ``requests`` counts the requests so far; ``arrived`` is set at the first one.
    """

    def __init__(self, *, status: int = 200, gated: bool = False, hang_first: bool = False):
        self.status = status
        self.hang_first = hang_first
        self.requests = 0
        self.arrived = threading.Event()
        self.gate = threading.Event()
        if not gated:
            self.gate.set()
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with upstream._lock:
                    upstream.requests += 1
                    first = upstream.requests == 1
                upstream.arrived.set()
                if first and upstream.hang_first:
                    upstream.closing.wait(60)
                    return
                upstream.gate.wait(60)
                status = upstream.status
                body = (
                    completion(SUMMARY)
                    if status == 200
                    else {"error": {"message": "overloaded", "type": "server_error"}}
                )
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the caller is gone
                    pass

            def log_message(self, *args: Any) -> None:
                return

        return Handler

    def close(self) -> None:
        self.closing.set()
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def upstream(**options: Any) -> Iterator[Upstream]:
    server = Upstream(**options)
    try:
        yield server
    finally:
        server.close()


def summarizer(store: Store, base_url: str, timeout_s: float, margin_s: float) -> Summarizer:
    """A summarizer of ``MODEL`` at ``base_url`` whose leases last ``timeout_s + margin_s``."""
    client = LlmClient(base_url=base_url, api_key="k", model=MODEL, timeout_s=timeout_s)
    the_summarizer = Summarizer(store, client)
    the_summarizer.lease_margin_s = margin_s
    return the_summarizer


def read(store: Store, the_summarizer: Summarizer) -> Outcome:
    """Maya's agent summary, as (source, text, fallback)."""
    block = the_summarizer.summary(snapshot_of(store), "agent", AGENT, "llm")
    return block.source, block.text, block.fallback


def read_in_child(
    db: str,
    base_url: str,
    timeout_s: float,
    margin_s: float,
    ready: Any,
    waiting: Any,
    go: Any,
    out: Any,
) -> None:
    """A spawned process's reader: opens the store, releases ``ready``, waits for ``go``, asks
    for the summary and puts its outcome (or the error it met) on ``out``. It releases
    ``waiting`` once it waits for another process's call (its first pause between looks)."""
    released = False
    try:
        store = Store(db)
        try:
            the_summarizer = summarizer(store, base_url, timeout_s, margin_s)
            snapshot_of(store)  # warm: the readers start asking together
            _tell_when_waiting(waiting)
            ready.release()
            released = True
            go.wait(60)
            out.put(read(store, the_summarizer))
        finally:
            store.close()
    except Exception as exc:
        out.put(("error", repr(exc), None))
    finally:
        if not released:
            ready.release()


def _tell_when_waiting(waiting: Any) -> None:
    """Have the summarizer's pauses between looks at the lease release ``waiting`` once."""
    told = threading.Event()

    def sleep(seconds: float) -> None:
        if not told.is_set():
            told.set()
            waiting.release()
        time.sleep(seconds)

    summarize.time = SimpleNamespace(  # type: ignore[assignment,attr-defined]
        monotonic=time.monotonic, time=time.time, sleep=sleep
    )
