"""Map Zendesk Support users, organizations and tickets to canonical ``Mapped`` records.

Input shapes (Zendesk Support API v2, developer.zendesk.com/api-reference/ticketing):

* users: ``{"id", "name", "email", "phone", "external_id", "organization_id", "role",
  "active", "suspended", "created_at", "updated_at", "tags", ...}``; Zendesk soft-deletes a user
  by setting ``active`` to false, which we treat as a tombstone. The connector attaches the
  user's ``identities`` (side-loaded, ``{"type", "value", "verified", "primary", ...}``): verified
  ``email`` and ``phone_number`` identities are more emails and phones to match on; unverified
  ones (anyone can type an address into a profile) are kept as ``unmatched_emails`` /
  ``unmatched_phones`` attributes, never matched on, as is a primary ``phone`` that Zendesk marks
  ``shared_phone_number`` (one line linked to several end-users). A suspended user
  (``suspended: true``, often a spammer) keeps their record and tickets, but none of their
  contacts or links is matched on (they are kept as the same attributes), and the name says
  "(suspended)", so the context does. The connector also attaches the user's organization
  (side-loaded, ``{"id", "name", "updated_at"}``) as ``organization``: its name is the person's
  company (an attribute only for staff and suspended users), and the record is dated by the
  later of the two ``updated_at`` (renaming an organization does not touch its members'
  ``updated_at``, yet changes their records);
* organizations: ``{"id", "name", "domain_names", "created_at", "updated_at", ...}``;
* tickets: ``{"id", "subject", "description", "status", "priority", "requester_id",
  "created_at", "updated_at", "tags", "via": {"channel"}, "satisfaction_rating": {"score"}}``,
  optionally with a non-standard ``comments`` list that the connector attaches from
  ``GET /api/v2/tickets/{id}/comments`` (``{"body", "public", "created_at", "via", ...}``, oldest
  first). A ticket merged into another is closed with the ``closed_by_merge`` tag and gets a
  system comment whose ``via`` has channel ``merge`` (via type 19) and names the surviving
  ticket in ``via.source.to.ticket_id``; such a ticket is mapped as deleted and ``merged_into``
  the survivor, so its conversation is listed once, under the survivor (its id still finds it).

Each Struct below declares only the fields the mapper reads; anything else in the payload (a
fixture's ``_source`` note included) is skipped while decoding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import msgspec

from context_service.errors import MappingError
from context_service.models import Mapped, PersonFacet, RecordKey, Reference, Ticket
from integrations._convert import clean, decode, iso_utc

SOURCE = "zendesk"
PERSON_KIND = "user"
KINDS = ("user", "organization", "ticket")

# ``external_id`` prefixes that name another system's person-like record: source -> kind.
_EXTERNAL_ID_SOURCES = {"shopify": "customer", "stripe": "customer", "hubspot": "contact"}
_SHOPIFY_GID_PREFIX = "gid://shopify/Customer/"

# User identity types whose values are contacts (developer.zendesk.com/api-reference/ticketing/
# users/user_identities/): the others (twitter, facebook, google, sdk...) are not.
EMAIL_IDENTITY = "email"
PHONE_IDENTITY = "phone_number"
SUSPENDED_MARK = "(suspended)"
# A merge's source ticket: closed, tagged ``closed_by_merge``, with a system comment whose via
# channel is ``merge`` (via type 19; developer.zendesk.com/documentation/ticketing/
# reference-guides/via-types) naming the target in ``via.source.to.ticket_id``. Zendesk's
# default text of that comment names it as well ("... merged into request #123 ...").
MERGE_TAG = "closed_by_merge"
_MERGE_CHANNELS = frozenset({"merge", 19})
_MERGED_INTO_TEXT = re.compile(r"merged into (?:request|ticket) #(\d+)", re.IGNORECASE)

TITLE_MAX_CHARS = 120
COMMENT_MAX_CHARS = 1000
# An attachment's token URL (``https://{sub}.zendesk.com/attachments/token/{token}/?name=x.png``)
# opens the file without signing in; inline images put it in a comment's ``body``.
_ATTACHMENT_TOKEN_URL = re.compile(
    r"https?://[^\s()<>\[\]\"']*/attachments/token/[^\s()<>\[\]\"']*"
)

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# Payload shapes (only the fields we read)
# --------------------------------------------------------------------------------------------


class _Identity(msgspec.Struct):
    """One user identity (``GET /api/v2/users/{id}/identities``), side-loaded by the connector."""

    type: str | None = None
    value: str | int | None = None
    verified: bool | None = None


class _Organization(msgspec.Struct):
    """A user's organization as the connector attaches it (``sideloads.ORGANIZATION_FIELDS``)."""

    id: int | str | None = None
    name: str | None = None
    updated_at: str | None = None


class ZendeskUser(msgspec.Struct):
    """A user (end-user, agent or admin) as returned by ``GET /api/v2/users``."""

    id: int | str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    shared_phone_number: bool | None = None
    external_id: str | int | None = None
    organization_id: int | None = None
    role: str | None = None
    active: bool | None = None
    suspended: bool | None = None
    tags: list[str] | None = None
    identities: list[_Identity] | None = None
    organization: _Organization | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ZendeskOrganization(msgspec.Struct):
    """An organization as returned by ``GET /api/v2/organizations``."""

    id: int | str
    name: str | None = None
    domain_names: list[str] | None = None
    created_at: str | None = None
    updated_at: str | None = None


class _Via(msgspec.Struct):
    channel: str | int | None = None
    source: Any = None  # ``{"from", "to", "rel"}``, shaped by the channel: read defensively


class _SatisfactionRating(msgspec.Struct):
    score: str | None = None


class _Comment(msgspec.Struct):
    body: str | None = None
    public: bool = False
    via: _Via | None = None


class ZendeskTicket(msgspec.Struct):
    """A ticket as returned by ``GET /api/v2/tickets``, plus the connector's ``comments``."""

    id: int | str
    url: str | None = None
    subject: str | None = None
    description: str | None = None
    status: str | None = None
    priority: str | None = None
    is_public: bool | None = None
    requester_id: int | None = None
    tags: list[str] | None = None
    via: _Via | None = None
    satisfaction_rating: _SatisfactionRating | None = None
    comments: list[_Comment] | None = None
    created_at: str | None = None
    updated_at: str | None = None


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _decode(payload: Mapping[str, Any], kind: str, shape: type[_T]) -> _T:
    """Decode ``payload`` into ``shape``; any mismatch becomes a ``MappingError``."""
    return decode(payload, shape, SOURCE, kind, kind=kind)


def _key(kind: str, raw_id: int | str) -> RecordKey:
    """The record key; an empty id is unmappable."""
    external_id = clean(str(raw_id))
    if external_id is None:
        raise MappingError(f"zendesk {kind}: field 'id' is empty", source=SOURCE, kind=kind)
    return RecordKey(SOURCE, kind, external_id)


def _timestamp(key: RecordKey, field: str, value: str | None) -> str | None:
    """``value`` as ISO-8601 UTC; a failure names the field and the record."""
    try:
        return iso_utc(clean(value))
    except (MappingError, ArithmeticError, ValueError) as exc:
        raise MappingError(
            f"zendesk {key.kind} {key.external_id}: field {field!r}: "
            f"unparseable timestamp {value!r}",
            source=SOURCE,
            kind=key.kind,
            external_id=key.external_id,
            field=field,
        ) from exc


def _non_empty(pairs: Mapping[str, str | None]) -> dict[str, str]:
    """Drop entries whose value is ``None`` or blank."""
    return {name: cleaned for name, value in pairs.items() if (cleaned := clean(value))}


def _joined(values: Iterable[str] | None) -> str:
    """Non-empty values joined with commas."""
    return ",".join(cleaned for value in values or () if (cleaned := clean(value)))


def _attachment_label(match: re.Match[str]) -> str:
    """``[attachment: box.jpg]`` for an attachment's token URL (``[attachment]`` unnamed)."""
    names = parse_qs(urlsplit(match.group(0)).query).get("name")
    return f"[attachment: {names[0]}]" if names and names[0].strip() else "[attachment]"


def _without_attachment_tokens(text: str) -> str:
    """``text`` with every attachment token URL replaced by the attachment's name."""
    return _ATTACHMENT_TOKEN_URL.sub(_attachment_label, text)


def _cut(text: str | None, limit: int) -> str | None:
    """Stripped ``text``, attachment tokens removed, cut to ``limit`` characters, or ``None``
    when blank."""
    cleaned = clean(_without_attachment_tokens(text) if text else text)
    return cleaned[:limit].rstrip() if cleaned else None


# --------------------------------------------------------------------------------------------
# Mappers
# --------------------------------------------------------------------------------------------


def _external_link(external_id: str) -> RecordKey | None:
    """``shopify:207119551`` -> the Shopify customer it names; ``None`` if not such a link."""
    prefix, colon, rest = external_id.partition(":")
    source = prefix.strip().lower()
    kind = _EXTERNAL_ID_SOURCES.get(source)
    value = rest.strip()
    if source == "shopify" and value.startswith(_SHOPIFY_GID_PREFIX):
        value = value.removeprefix(_SHOPIFY_GID_PREFIX)
    if not colon or kind is None or not value:
        return None
    return RecordKey(source, kind, value)


def _identities(user: ZendeskUser, kind: str, *, verified: bool) -> list[str]:
    """The values of the user's identities of ``kind``, verified or not as asked."""
    found = []
    for identity in user.identities or ():
        value = clean(None if identity.value is None else str(identity.value))
        if identity.type == kind and (identity.verified is True) == verified and value:
            found.append(value)
    return found


def _unique(values: Iterable[str | None], *, fold_case: bool) -> list[str]:
    """Non-empty ``values`` once each, in order (emails compared without case)."""
    kept: dict[str, str] = {}
    for value in values:
        if value:
            kept.setdefault(value.casefold() if fold_case else value, value)
    return list(kept.values())


def _without(values: list[str], known: list[str], *, fold_case: bool) -> list[str]:
    """``values`` not already in ``known``."""
    seen = {v.casefold() if fold_case else v for v in known}
    return [v for v in values if (v.casefold() if fold_case else v) not in seen]


class _Contacts(msgspec.Struct):
    """A user's emails and phones: those to match on, and those only kept for reading."""

    emails: list[str]
    phones: list[str]
    unmatched_emails: list[str]
    unmatched_phones: list[str]


def _contacts(user: ZendeskUser) -> _Contacts:
    """The primary email and phone plus the verified identities (matched on) and the
    unverified ones (kept only), each once. A primary phone Zendesk marks as shared
    (``shared_phone_number``: an office line or a household's, linked to several end-users,
    where only a direct line identifies one) is kept only, like an unverified one, even when
    its phone identity is verified."""
    primary_phone = clean(user.phone)
    shared = [primary_phone] if primary_phone and user.shared_phone_number is True else []
    emails = _unique(
        [clean(user.email), *_identities(user, EMAIL_IDENTITY, verified=True)], fold_case=True
    )
    phones = _without(
        _unique(
            [primary_phone, *_identities(user, PHONE_IDENTITY, verified=True)], fold_case=False
        ),
        shared,
        fold_case=False,
    )
    unverified_emails = _unique(_identities(user, EMAIL_IDENTITY, verified=False), fold_case=True)
    unverified_phones = _unique(
        [*shared, *_identities(user, PHONE_IDENTITY, verified=False)], fold_case=False
    )
    return _Contacts(
        emails=emails,
        phones=phones,
        unmatched_emails=_without(unverified_emails, emails, fold_case=True),
        unmatched_phones=_without(unverified_phones, phones, fold_case=False),
    )


def _withheld(contacts: _Contacts) -> _Contacts:
    """Every contact kept for reading, none matched on (a suspended user's)."""
    return _Contacts(
        emails=[],
        phones=[],
        unmatched_emails=contacts.emails + contacts.unmatched_emails,
        unmatched_phones=contacts.phones + contacts.unmatched_phones,
    )


def _display_name(name: str | None, suspended: bool) -> str | None:
    """The name, marked ``(suspended)`` for a suspended user so that the context says so."""
    if not suspended:
        return name
    return f"{name} {SUSPENDED_MARK}" if name else f"Zendesk user {SUSPENDED_MARK}"


def _own_organization(user: ZendeskUser, organization_id: str | None) -> _Organization | None:
    """The attached organization when it is the one the user belongs to (``organization_id``)."""
    attached = user.organization
    if attached is None or organization_id is None or str(attached.id) != organization_id:
        return None
    return attached


def _updated_at(
    key: RecordKey, user: ZendeskUser, organization: _Organization | None
) -> str | None:
    """The later of the user's and its organization's ``updated_at``: the record shows both."""
    stamps = [_timestamp(key, "updated_at", user.updated_at)]
    if organization is not None:
        stamps.append(_timestamp(key, "organization.updated_at", organization.updated_at))
    known = [stamp for stamp in stamps if stamp]
    return max(known) if known else None


def map_user(payload: Mapping[str, Any]) -> Mapped:
    """Map a Zendesk user to a person-like record (agents too, without the contacts and links
    that would merge them into a customer; ``attributes['role']`` tells).

    Verified identities add emails and phones; unverified ones and a suspended user's contacts
    are kept as ``unmatched_emails`` / ``unmatched_phones`` and never matched on. The attached
    organization's name is the company (for staff and suspended users, only the
    ``organization`` attribute).
    """
    user = _decode(payload, "user", ZendeskUser)
    key = _key("user", user.id)
    external_id = clean(None if user.external_id is None else str(user.external_id))
    link = _external_link(external_id) if external_id else None
    organization_id = None if user.organization_id is None else str(user.organization_id)
    organization = _own_organization(user, organization_id)
    suspended = user.suspended is True
    # Staff (agents, admins) are no customers: their email, phone and links would merge their
    # record (and the internal tickets they open) into a customer's profile with the same
    # address. They stay one name-only record each, their role kept. A suspended end-user
    # (often a spammer) keeps their record and tickets; their contacts are kept, not matched.
    # Nor is their company (matching weighs it): Zendesk puts anyone writing from an address of
    # an organization's domain into it, a spammer using a customer's domain included.
    customer = user.role in (None, "end-user")
    contacts = _contacts(user)
    if suspended:
        contacts = _withheld(contacts)
    matching = customer and not suspended
    company = clean(organization.name) if organization else None
    person = PersonFacet(
        emails=contacts.emails if customer else [],
        phones=contacts.phones if customer else [],
        name=_display_name(clean(user.name), suspended),
        company=company if matching else None,
        links=[link] if link and matching else [],
        attributes=_non_empty(
            {
                "role": user.role,
                "suspended": "true" if suspended else None,
                "organization_id": organization_id,
                "organization": None if matching else company,
                "tags": _joined(user.tags),
                "external_id": external_id if link is None or (customer and suspended) else None,
                "unmatched_emails": _joined(contacts.unmatched_emails) if customer else None,
                "unmatched_phones": _joined(contacts.unmatched_phones) if customer else None,
            }
        ),
        created_at=_timestamp(key, "created_at", user.created_at),
    )
    return Mapped(
        key=key,
        updated_at=_updated_at(key, user, organization),
        deleted=user.active is False,
        person=person,
    )


def map_organization(payload: Mapping[str, Any]) -> Mapped:
    """Map a Zendesk organization to a reference labelled with its name."""
    organization = _decode(payload, "organization", ZendeskOrganization)
    key = _key("organization", organization.id)
    reference = Reference(
        label=clean(organization.name) or f"Organization {key.external_id}",
        attributes=_non_empty({"domains": _joined(organization.domain_names)}),
    )
    updated_at = _timestamp(key, "updated_at", organization.updated_at)
    return Mapped(key=key, updated_at=updated_at, reference=reference)


def _ticket_title(ticket: ZendeskTicket) -> str | None:
    """The subject, else the first non-blank line of the description, cut to 120 characters,
    when the description is known to be public: it is the ticket's first comment, which is an
    internal note when an agent opened the ticket with one, and a title is shown to bots."""
    subject = _cut(ticket.subject, TITLE_MAX_CHARS)
    if subject:
        return subject
    if not _description_is_public(ticket):
        return None
    lines = (ticket.description or "").splitlines()
    return next((line for raw in lines if (line := _cut(raw, TITLE_MAX_CHARS))), None)


def _description_is_public(ticket: ZendeskTicket) -> bool:
    """Whether the comments list shows the description as a public comment (its first)."""
    first = ticket.comments[0] if ticket.comments else None
    return (
        first is not None
        and first.public is True
        and clean(first.body) == clean(ticket.description)
    )


def _last_public_comment(ticket: ZendeskTicket) -> str | None:
    """The newest public comment's body; without a comments list, the description.

    When the connector attached the comments list it is authoritative: if none of them is
    public (an agent opened the ticket with a private note) there is no public comment. Without
    it, Zendesk's ``is_public: false`` (no comment of the ticket is public) says the same.
    """
    if ticket.comments is None:
        return None if ticket.is_public is False else _cut(ticket.description, COMMENT_MAX_CHARS)
    public = [comment for comment in ticket.comments if comment.public and clean(comment.body)]
    return _cut(public[-1].body, COMMENT_MAX_CHARS) if public else None


def _agent_url(api_url: str | None, external_id: str) -> str | None:
    """The agent-interface link ``https://{sub}.zendesk.com/agent/tickets/{id}``.

    Derived from the ticket's API ``url`` (``https://{sub}.zendesk.com/api/v2/tickets/{id}.json``);
    ``None`` when that is missing or shaped differently.
    """
    base, marker, _ = (api_url or "").partition("/api/v2/tickets/")
    if not marker or not base.startswith("https://"):
        return None
    return f"{base}/agent/tickets/{external_id}"


def _satisfaction(ticket: ZendeskTicket) -> str | None:
    """The satisfaction score (``offered``, ``good``, ``bad``...), unless never offered."""
    rating = ticket.satisfaction_rating
    score = clean(rating.score) if rating else None
    return None if score is None or score.lower() == "unoffered" else score


def _is_merge(comment: _Comment) -> bool:
    """Whether Zendesk wrote this comment for a merge (via channel ``merge`` or rel ``merge``)."""
    via = comment.via
    source = via.source if via and isinstance(via.source, dict) else {}
    return (via is not None and via.channel in _MERGE_CHANNELS) or source.get("rel") == "merge"


def _merge_target(comment: _Comment) -> str | None:
    """The ticket a merge comment says this one went into: ``via.source.to.ticket_id``, else
    the number in Zendesk's default text."""
    source = comment.via.source if comment.via and isinstance(comment.via.source, dict) else {}
    to = source.get("to")
    raw = to.get("ticket_id") if isinstance(to, dict) else None
    if isinstance(raw, int | str) and not isinstance(raw, bool) and str(raw).strip().isdigit():
        return str(raw).strip()
    found = _MERGED_INTO_TEXT.search(comment.body or "")
    return found.group(1) if found else None


def _merged_into(ticket: ZendeskTicket, external_id: str) -> str | None:
    """The surviving ticket when this one was closed by a merge into it and says which.

    Both marks are required: the ``closed_by_merge`` tag on a closed ticket, and a merge
    comment naming another ticket (the newest: a ticket that absorbed others before being
    merged itself carries their merge comments too, which name itself as the target).
    """
    if clean(ticket.status) != "closed" or MERGE_TAG not in (ticket.tags or ()):
        return None
    merges = [comment for comment in ticket.comments or () if _is_merge(comment)]
    target = _merge_target(merges[-1]) if merges else None
    return target if target != external_id else None


def map_ticket(payload: Mapping[str, Any]) -> Mapped:
    """Map a Zendesk ticket to a ``Ticket`` activity owned by its requester; a ticket closed by
    a merge is deleted and ``merged_into`` the survivor (when its comments name it)."""
    ticket = _decode(payload, "ticket", ZendeskTicket)
    key = _key("ticket", ticket.id)
    updated_at = _timestamp(key, "updated_at", ticket.updated_at)
    channel = ticket.via.channel if ticket.via else None
    status = clean(ticket.status)
    activity = Ticket(
        owners=(
            [RecordKey(SOURCE, PERSON_KIND, str(ticket.requester_id))]
            if ticket.requester_id is not None
            else []
        ),
        external_id=key.external_id,
        url=_agent_url(ticket.url, key.external_id),
        status=status,
        title=_ticket_title(ticket),
        created_at=_timestamp(key, "created_at", ticket.created_at),
        updated_at=updated_at,
        priority=clean(ticket.priority),
        channel=None if channel is None else clean(str(channel)),
        satisfaction=_satisfaction(ticket),
        last_public_comment=_last_public_comment(ticket),
        tags=[cleaned for tag in ticket.tags or () if (cleaned := clean(tag))],
    )
    survivor = _merged_into(ticket, key.external_id)
    return Mapped(
        key=key,
        updated_at=updated_at,
        deleted=status == "deleted" or survivor is not None,
        activity=activity,
        merged_into=survivor,
    )


_MAPPERS: dict[str, Callable[[Mapping[str, Any]], Mapped]] = {
    "user": map_user,
    "organization": map_organization,
    "ticket": map_ticket,
}


def map_record(kind: str, payload: Mapping[str, Any]) -> Mapped:
    """Map one Zendesk object of ``kind`` (one of ``KINDS``) to a canonical record."""
    mapper = _MAPPERS.get(kind)
    if mapper is None:
        raise MappingError(
            f"zendesk: unknown kind {kind!r}; expected one of {', '.join(KINDS)}",
            source=SOURCE,
            kind=kind,
        )
    return mapper(payload)
