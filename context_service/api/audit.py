"""``GET /v1/audit/reads``: who read which customer's context, when, verified or not (admin)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from context_service.store import Store
from context_service.trust import ADMIN, Trust, reads_of
from context_service.trust.audit import AuditEntry


class ReadsPage(msgspec.Struct):
    """The latest reads, newest first."""

    reads: list[AuditEntry]


# On a worker thread: the flush writes, and waits for the write lock as long as writers do.
@get("/v1/audit/reads", sync_to_thread=True, summary="Read audit", opt={"scope": ADMIN})
def get_reads(
    request: Request[Any, Any, Any],
    store: NamedDependency[Store],
    profile_id: Annotated[str | None, QueryParameter(min_length=1, max_length=64)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
) -> ReadsPage:
    """Every recorded read (API key name, profile, audience, verified or not, channel, when),
    of one profile or of all, newest first. Erased people's reads show ``erased``."""
    trust: Trust = request.app.state.trust
    trust.audit.flush()  # reads still buffered in memory are part of the answer
    return ReadsPage(reads_of(store.conn, profile_id, limit))


ROUTES = [get_reads]
