"""``GET /v1/audit/reads``: who read which customer's context, when, verified or not (admin).

Newest first, paged by ``before`` (the previous page's ``next_before``, ``null`` on the last
page): an id, not an offset, so reads recorded while the pages are read (they are newer than
every page) neither push a read onto the next page twice nor hide one.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from context_service.store import Store
from context_service.trust import ADMIN, Trust
from context_service.trust.audit import ReadsPage, reads_page

SQLITE_MAX_INT = 2**63 - 1  # a larger id cannot even be bound to a query


# On a worker thread: the flush writes, and waits for the write lock as long as writers do.
@get("/v1/audit/reads", sync_to_thread=True, summary="Read audit", opt={"scope": ADMIN})
def get_reads(
    request: Request[Any, Any, Any],
    store: NamedDependency[Store],
    profile_id: Annotated[str | None, QueryParameter(min_length=1, max_length=64)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    before: Annotated[int | None, QueryParameter(ge=1, le=SQLITE_MAX_INT)] = None,
) -> ReadsPage:
    """Every recorded read (API key name, profile, audience, verified or not, channel, when),
    of one profile or of all, newest first, ``limit`` at a time. Page with ``before`` (the
    previous page's ``next_before``; ``null`` on the last page). Erased people's reads show
    ``erased``."""
    trust: Trust = request.app.state.trust
    trust.audit.flush()  # reads still buffered in memory are part of the answer
    return reads_page(store.conn, profile_id, limit, before)


ROUTES = [get_reads]
