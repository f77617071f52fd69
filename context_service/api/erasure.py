"""``DELETE /v1/profiles/{id}`` (erasure) and ``GET /v1/profiles/{id}/export`` (access request).

Both need the ``admin`` scope. Erasure removes the person from every table, puts their hashed
identifiers on the suppression list and compacts the database file (``trust.erasure``); the
export returns everything held about them as one JSON document (``trust.subject``) and is
itself recorded in the read audit.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from context_service.api.auth import Forbidden, limited_principal, principal_of
from context_service.export import subject_document
from context_service.identity.audit import check_profile_id
from context_service.store import Store
from context_service.sync import IngestContext, utc_now
from context_service.trust import ADMIN, Read, Trust
from context_service.trust.erasure import ErasureReport, erase_profile

ProfilePath = Annotated[str, PathParameter(min_length=1, max_length=64)]


@delete(
    "/v1/profiles/{profile_id:str}",
    sync_to_thread=True,
    status_code=200,
    summary="Erase a person",
    opt={"scope": ADMIN},
)
def erase_person(
    request: Request[Any, Any, Any],
    store: NamedDependency[Store],
    profile_id: ProfilePath,
    reason: Annotated[str, QueryParameter(min_length=1, max_length=200)] = "erasure request",
) -> ErasureReport:
    """Erase the person this profile (or alias) is: raw payloads, identifiers, activities,
    snapshots, cached summaries, inbox bodies that mention them and the personal fields of
    their audit rows; then suppress their hashed identifiers so no sync re-creates them.
    400 for an id that is not ``prof_`` and 26 letters or digits, 404 for a well-formed
    unknown one. The answer holds counts only."""
    check_profile_id(profile_id)
    ctx: IngestContext = request.app.state.ingest_context
    who = principal_of(request).name
    trust: Trust = request.app.state.trust
    trust.audit.flush()  # buffered reads of this person are anonymized with the rest
    return erase_profile(
        store,
        profile_id,
        requested_by=f"api:{who}",
        reason=reason,
        now=utc_now(),
        region=ctx.region,
        links=ctx.links,
        thresholds=ctx.thresholds,
    )


@get(
    "/v1/profiles/{profile_id:str}/export",
    sync_to_thread=False,
    summary="Everything held about a person",
    opt={"scope": ADMIN},
)
def export_person(
    request: Request[Any, Any, Any], store: NamedDependency[Store], profile_id: ProfilePath
) -> Response[bytes]:
    """The profile, aliases, snapshot, every record with its raw payload, identifiers, identity
    links, cached summaries and the reads of this profile, as JSON (an access request).
    403 for an admin key limited to some audiences or hiding fields: the export holds
    everything, so it would read what the key may not. 400 for an id that is not ``prof_``
    and 26 letters or digits, 404 for a well-formed unknown one."""
    check_profile_id(profile_id)
    principal = limited_principal(request)  # with the policy file's limits of its key
    if principal.limited():
        raise Forbidden(
            f"key {principal.name!r} is limited to some audiences or hides fields; exporting "
            "everything held about a person needs an admin key without limits"
        )
    trust: Trust = request.app.state.trust
    trust.audit.flush()  # reads still buffered in memory are part of the answer
    document = subject_document(store, profile_id)
    read = Read(principal.name, document["profile_id"], "full", True, "subject-export")
    trust.record(read)
    return Response(msgspec.json.encode(document), media_type="application/json")


ROUTES = [erase_person, export_person]
