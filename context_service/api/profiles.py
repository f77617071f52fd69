"""Audit and control of identity resolution: who is merged with whom, and why; people's fixes.

``GET /v1/profiles/{id}/audit``, ``POST /v1/profiles/merge``, ``POST /v1/profiles/{id}/split``,
``GET /v1/review`` and ``POST /v1/review/{item_id}``. Each write records binding decisions
(``identity.decisions``), re-clusters, bumps the versions of the changed profiles and rebuilds
their snapshots in one transaction, so the answer's profile ids already serve fresh context.
Every id in an answer's ``changed`` is a live profile; ids merged away are in ``merged_away``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from context_service.api.auth import limited_principal
from context_service.api.params import InvalidQuery, whole_number
from context_service.identity import decisions
from context_service.identity.audit import (
    AuditLink,
    DecisionView,
    Member,
    ProfileAudit,
    RecordRef,
    ReviewPage,
    ReviewStatus,
    ReviewView,
    check_profile_id,
    list_review,
    profile_audit,
)
from context_service.models import RecordKey
from context_service.store import Store
from context_service.sync import IngestContext
from context_service.sync.decide import apply_decision
from context_service.trust import ADMIN, Principal

ProfileId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Part = Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
Revision = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
SQLITE_MAX_INT = 2**63 - 1  # a larger id or offset cannot even be bound to a query
CALLER_STATE_KEY = "caller"  # set by an auth layer that knows who holds the key, e.g. "support-bot"


class MergeBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Profiles (ids or aliases) that are one customer; the oldest id survives."""

    profile_ids: Annotated[
        list[ProfileId], msgspec.Meta(min_length=2, max_length=decisions.MAX_MERGE)
    ]
    note: Note | None = None


class RecordBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One vendor record, by its key."""

    source: Part
    kind: Part
    external_id: Part


class SplitBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Member records that are someone else: they leave together into a profile of their own."""

    records: Annotated[list[RecordBody], msgspec.Meta(min_length=1, max_length=500)]
    note: Note | None = None


class ReviewBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``accept``: the two records are one person; ``reject``: they are not. ``revision``: the
    item's ``revision`` as read, so that an item whose question changed since is refused."""

    decision: Literal["accept", "reject"]
    note: Note | None = None
    revision: Revision | None = None


# A record's display name is its person's name, else their first email: a key that hides
# either, or is limited to audiences (whose views may mask them), is shown no names.
_NAME_FIELDS = ("identity.names", "identity.emails")


def hides_names(principal: Principal) -> bool:
    """Whether records' display names are withheld from this key (``name`` is ``null``)."""
    return principal.audiences is not None or any(f in principal.hide for f in _NAME_FIELDS)


def _names_shown(request: Request[Any, Any, Any]) -> bool:
    """Whether a refused decision's text (409) may name the records' people to this key: it
    withholds them from the keys a successful answer's ``name`` is withheld from."""
    return not hides_names(limited_principal(request))


def _ref(ref: RecordRef) -> RecordRef:
    return msgspec.structs.replace(ref, name=None)


def _item(item: ReviewView) -> ReviewView:
    return msgspec.structs.replace(item, a=_ref(item.a), b=_ref(item.b))


def _decision(view: DecisionView) -> DecisionView:
    return msgspec.structs.replace(view, a=_ref(view.a), b=_ref(view.b))


def _link(link: AuditLink) -> AuditLink:
    other = None if link.other is None else _ref(link.other)
    return msgspec.structs.replace(link, record=_ref(link.record), other=other)


def _member(member: Member) -> Member:
    return msgspec.structs.replace(member, record=_ref(member.record))


def _audit_shown(audit: ProfileAudit, principal: Principal) -> ProfileAudit:
    if not hides_names(principal):
        return audit
    return msgspec.structs.replace(
        audit,
        members=[_member(m) for m in audit.members],
        links=[_link(link) for link in audit.links],
        decisions=[_decision(d) for d in audit.decisions],
        open_reviews=[_item(i) for i in audit.open_reviews],
        history=[_decision(d) for d in audit.history],
    )


def caller(request: Request[Any, Any, Any]) -> str:
    """Who decided, for the audit: ``api`` or, once keys are named, ``api:<name>``."""
    name = request.state.get(CALLER_STATE_KEY)
    return f"api:{name}" if name else "api"


@get(
    "/v1/profiles/{profile_id:str}/audit",
    sync_to_thread=False,
    summary="Why a profile holds its records",
    opt={"scope": ADMIN},
)
def get_profile_audit(
    request: Request[Any, Any, Any],
    store: NamedDependency[Store],
    profile_id: Annotated[str, PathParameter(max_length=64)],
) -> ProfileAudit:
    """Members, every link (rule, probability, per-field evidence, who or what decided and
    when), people's decisions touching its records (those in force, and ``history``: every one
    taken, also those a later decision replaced), and open review items. An alias answers
    with the profile it was merged into (``requested_id`` keeps what was asked). Records'
    names are ``null`` for a key that hides names or emails or is limited to audiences."""
    audit = profile_audit(store.conn, check_profile_id(profile_id))
    return _audit_shown(audit, limited_principal(request))


@post(
    "/v1/profiles/merge",
    sync_to_thread=True,
    status_code=200,
    summary="Merge profiles",
    opt={"scope": ADMIN},
)
def merge_profiles(
    request: Request[Any, Any, Any],
    store: NamedDependency[Store],
    data: JSONBody[MergeBody],
) -> decisions.MergeResult:
    """Make two or more profiles one. The oldest id survives; the others keep resolving as its
    aliases. Later automatic runs keep them together. ``changed`` lists the live profiles
    whose members changed; ``merged_away`` each id that is no longer a profile, with the one
    it resolves to. 400 for fewer than two different profiles, 404 for an unknown id."""
    ctx: IngestContext = request.app.state.ingest_context
    who, names = caller(request), _names_shown(request)
    ids = [check_profile_id(profile_id) for profile_id in data.profile_ids]
    return apply_decision(
        store,
        ctx,
        lambda conn, now: decisions.merge_profiles(
            conn, ids, who, now, ctx.region, ctx.thresholds, data.note, with_names=names
        ),
    )


@post(
    "/v1/profiles/{profile_id:str}/split",
    sync_to_thread=True,
    status_code=200,
    summary="Split records out of a profile",
    opt={"scope": ADMIN},
)
def split_profile(
    request: Request[Any, Any, Any],
    store: NamedDependency[Store],
    profile_id: Annotated[str, PathParameter(max_length=64)],
    data: JSONBody[SplitBody],
) -> decisions.SplitResult:
    """The records named leave the profile together; they are never linked to the rest again
    by an automatic run. The larger part keeps the id. The rest may then join another profile:
    ``changed`` lists live profiles only, ``merged_away`` each id that stopped being one, with
    the profile it resolves to. 404 for an unknown profile, 409 for a record that is not a
    member, 422 when no record would remain."""
    check_profile_id(profile_id)
    ctx: IngestContext = request.app.state.ingest_context
    who, names = caller(request), _names_shown(request)
    keys = [RecordKey(r.source, r.kind, r.external_id) for r in data.records]
    return apply_decision(
        store,
        ctx,
        lambda conn, now: decisions.split_profile(
            conn,
            profile_id,
            keys,
            who,
            now,
            ctx.region,
            ctx.thresholds,
            data.note,
            with_names=names,
        ),
    )


@get("/v1/review", sync_to_thread=False, summary="The review queue", opt={"scope": ADMIN})
def get_review(
    request: Request[Any, Any, Any],
    store: NamedDependency[Store],
    status: FromQuery[ReviewStatus] = "open",
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=SQLITE_MAX_INT)] = 0,
    after: Annotated[int, QueryParameter(ge=0, le=SQLITE_MAX_INT)] = 0,
) -> ReviewPage:
    """Pairs of records a person should decide about, oldest first, with both records' keys,
    names and profiles, the match probability, the reason and the per-field evidence. Page
    with ``after`` (the previous page's ``next_after``): an offset skips items when the pages
    before it are decided meanwhile; both at once is a 400 (which would apply?). Records' names
    are ``null`` for a key that hides names or emails or is limited to audiences (``revision``
    is the item's all the same)."""
    if "offset" in request.query_params and "after" in request.query_params:
        message = "give offset or after, not both"
        raise InvalidQuery(
            f"invalid request: {message}",
            errors=[{"key": "after", "source": "query", "message": message}],
        )
    page = list_review(store.conn, status, limit, offset, after)
    if not hides_names(limited_principal(request)):
        return page
    return msgspec.structs.replace(page, items=[_item(i) for i in page.items])


@post(
    # Read as text and checked by ``whole_number``: litestar's ``:int`` converter is Python's
    # ``int()``, which took ``1_0`` for item 10 and `` 1``, ``+1`` or an Arabic-Indic one (U+0661)
    # for item 1.
    "/v1/review/{item_id:str}",
    sync_to_thread=True,
    status_code=200,
    summary="Decide a review item",
    opt={"scope": ADMIN},
)
def decide_review(
    request: Request[Any, Any, Any],
    store: NamedDependency[Store],
    item_id: Annotated[
        str,
        PathParameter(
            description="The review item's id: a whole number in ASCII digits "
            "(no sign, space, underscore or leading zero)",
            examples=[Example(value="42")],
        ),
    ],
    data: JSONBody[ReviewBody],
) -> decisions.ReviewResult:
    """Accept (one person: their records join) or reject (two people: kept apart for good).
    ``changed`` and ``merged_away`` as for a merge. 400 for an id that is not a whole number
    in ASCII digits, 404 for an unknown item, 409 for one already decided or, with
    ``revision``, one whose question changed since it was read (its records are named without
    their people's names for a key that hides names or emails or is limited to audiences)."""
    number = whole_number(item_id, "item_id", 1, SQLITE_MAX_INT)
    ctx: IngestContext = request.app.state.ingest_context
    who, names = caller(request), _names_shown(request)
    accept = data.decision == "accept"
    result = apply_decision(
        store,
        ctx,
        lambda conn, now: decisions.decide_review(
            conn,
            number,
            accept,
            who,
            now,
            ctx.region,
            ctx.thresholds,
            data.note,
            data.revision,
            with_names=names,
        ),
    )
    if names:
        return result
    return msgspec.structs.replace(result, item=_item(result.item))


ROUTES = [get_profile_audit, merge_profiles, split_profile, get_review, decide_review]
