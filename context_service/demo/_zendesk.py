"""Zendesk Support shapes: organizations, users (end-users and agents) and tickets.

Every field of the documented JSON formats is written (users: ``GET /api/v2/users``; tickets:
the cursor-based incremental export, which adds ``generated_timestamp``), with ``null`` or
``[]`` where the account has nothing. Tickets carry a non-standard ``comments`` list: the
connector attaches it from ``GET /api/v2/tickets/{id}/comments``, whose items have their
HTML and plain bodies, audit id, channel and request metadata (IPs from the RFC 5737
documentation ranges). Timestamps are ISO-8601 UTC without fractions.
"""

from __future__ import annotations

import html
from typing import Any, NamedTuple

from context_service.demo._data import STORE_DOMAIN, ZENDESK_SUBDOMAIN
from context_service.demo._util import base62, iso_z, mix64
from context_service.demo.people import Company, Person, zendesk_organization_id, zendesk_user_id

_API = f"https://{ZENDESK_SUBDOMAIN}.zendesk.com/api/v2"
GROUP_ID = 360_000_000_001
BRAND_ID = 360_000_000_011
FORM_ID = 360_000_000_021
OPEN_STATUS_IDS = {  # the account's custom ticket statuses (one per status category)
    "new": 360_000_000_101,
    "open": 360_000_000_102,
    "pending": 360_000_000_103,
    "hold": 360_000_000_104,
    "solved": 360_000_000_105,
    "closed": 360_000_000_105,
}
_CLIENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
)
_LOCALE_IDS = {"en-US": 1, "en-GB": 1176, "en-CA": 1277, "en-AU": 1175, "de": 8}
AGENTS: tuple[str, ...] = (
    "Alex Morgan",
    "Rina Takeda",
    "Diego Alves",
    "Fatou Ndiaye",
    "Ben Carter",
)
_ZONES = {
    "US": ("Eastern Time (US & Canada)", "America/New_York", "en-US"),
    "CA": ("Eastern Time (US & Canada)", "America/Toronto", "en-CA"),
    "GB": ("London", "Europe/London", "en-GB"),
    "AU": ("Sydney", "Australia/Sydney", "en-AU"),
    "DE": ("Berlin", "Europe/Berlin", "de"),
}


def agent_id(index: int) -> int:
    return 379_000_000_000 + index * 10 + 1


def organization(c: Company, created: int, updated: int) -> dict[str, Any]:
    """``GET /api/v2/organizations`` item."""
    oid = zendesk_organization_id(c.key)
    return {
        "url": f"{_API}/organizations/{oid}.json",
        "id": oid,
        "name": c.name,
        "shared_tickets": False,
        "shared_comments": False,
        "external_id": None,
        "created_at": iso_z(created),
        "updated_at": iso_z(updated),
        "domain_names": [c.domain],
        "details": "",
        "notes": "",
        "group_id": None,
        "tags": [],
        "organization_fields": {},
    }


def _user(
    uid: int,
    name: str,
    email: str | None,
    phone: str | None,
    role: str,
    country: str,
    created: int,
    updated: int,
) -> dict[str, Any]:
    zone, iana, locale = _ZONES.get(country, _ZONES["US"])
    agent = role != "end-user"
    return {
        "id": uid,
        "url": f"{_API}/users/{uid}.json",
        "name": name,
        "email": email,
        "created_at": iso_z(created),
        "updated_at": iso_z(updated),
        "time_zone": zone,
        "iana_time_zone": iana,
        "phone": phone,
        "shared_phone_number": None if phone is None else False,
        "photo": None,
        "locale_id": _LOCALE_IDS.get(locale, 1),
        "locale": locale,
        "organization_id": None,
        "role": role,
        "verified": email is not None,
        "external_id": None,
        "tags": [],
        "alias": None,
        "active": True,
        "shared": False,
        "shared_agent": False,
        "last_login_at": iso_z(updated) if agent else None,
        "two_factor_auth_enabled": None,
        "signature": f"{name.split(maxsplit=1)[0]}, Lumen Labs support" if agent else None,
        "details": None,
        "notes": None,
        "role_type": None,
        "custom_role_id": None,
        "moderator": agent,
        "ticket_restriction": None if agent else "requested",
        "only_private_comments": False,
        "restricted_agent": not agent,
        "suspended": False,
        "default_group_id": GROUP_ID if agent else None,
        "report_csv": agent,
        "user_fields": {},
    }


def agent(index: int, created: int, updated: int) -> dict[str, Any]:
    """One of the support agents (``role: agent``)."""
    name = AGENTS[index]
    email = f"{name.split()[0].lower()}@{STORE_DOMAIN}"
    user = _user(agent_id(index), name, email, None, "agent", "US", created, updated)
    user["ticket_restriction"] = None
    return user


def user(p: Person, created: int, updated: int) -> dict[str, Any]:
    """``GET /api/v2/users?role=end-user`` item."""
    uid = zendesk_user_id(p.g)
    name = p.zendesk_name or p.name
    payload = _user(
        uid, name, p.zendesk_email, p.zendesk_phone, "end-user", p.country, created, updated
    )
    payload["external_id"] = p.external_id
    if p.household and p.zendesk_phone:
        payload["shared_phone_number"] = True
    if p.company is not None and p.company.has_organization:
        payload["organization_id"] = zendesk_organization_id(p.company.key)
    if p.junk:
        payload["tags"] = ["spam_check"]
    return payload


class CommentSpec(NamedTuple):
    author: int  # a Zendesk user id
    body: str
    public: bool
    created: int


class TicketSpec(NamedTuple):
    n: int
    subject: str
    status: str
    priority: str | None
    channel: str
    created: int
    updated: int
    assignee: int | None  # agent index
    tags: tuple[str, ...]
    comments: tuple[CommentSpec, ...]
    satisfaction: str | None = None


def ticket_id(n: int) -> int:
    return 1001 + n


def _source(channel: str, p: Person | None) -> dict[str, Any]:
    """``via.source``: who wrote in by email, nothing for the web and chat."""
    if channel != "email" or p is None or not p.zendesk_email:
        return {"from": {}, "to": {}, "rel": None}
    return {
        "from": {"address": p.zendesk_email, "name": p.zendesk_name or p.name},
        "to": {"name": "Lumen Labs", "address": f"support@{STORE_DOMAIN}"},
        "rel": None,
    }


def _comment(cid: int, c: CommentSpec, channel: str, requester: int, p: Person) -> dict[str, Any]:
    """One comment as ``GET /api/v2/tickets/{id}/comments`` returns it."""
    by_customer = c.author == requester
    via = channel if by_customer else "web"
    if via == "email":
        system: dict[str, Any] = {
            "message_id": f"<{mix64(cid):016x}@mail.{STORE_DOMAIN}>",
            "email_id": f"01J{base62(mix64(cid ^ 0xE3), 11).upper()}{base62(cid, 12).upper()}",
        }
    else:
        system = {
            "client": _CLIENTS[mix64(c.author) % len(_CLIENTS)],
            "ip_address": f"198.51.100.{mix64(c.author) % 254 + 1}",
        }
    paragraphs = "".join(f'<p dir="auto">{line}</p>' for line in html.escape(c.body).split("\n"))
    return {
        "id": cid,
        "type": "Comment",
        "author_id": c.author,
        "body": c.body,
        "html_body": f'<div class="zd-comment" dir="auto">{paragraphs}</div>',
        "plain_body": c.body,
        "public": c.public,
        "attachments": [],
        "audit_id": cid + 3,
        "via": {"channel": via, "source": _source(via, p if by_customer else None)},
        "created_at": iso_z(c.created),
        "metadata": {"system": system, "custom": {}},
    }


def ticket(t: TicketSpec, p: Person, first_comment_id: int) -> dict[str, Any]:
    """An item of ``GET /api/v2/incremental/tickets/cursor`` (every field of a ticket, plus
    ``generated_timestamp``) with the ``comments`` list the connector attaches, oldest first."""
    tid = ticket_id(t.n)
    requester = zendesk_user_id(p.g)
    organization = None
    if p.company is not None and p.company.has_organization:
        organization = zendesk_organization_id(p.company.key)
    comments = [
        _comment(first_comment_id + index, c, t.channel, requester, p)
        for index, c in enumerate(t.comments)
    ]
    rating = None
    if t.satisfaction is not None:
        rating = {"id": 9_800_000_000 + tid, "score": t.satisfaction, "comment": None}
    return {
        "url": f"{_API}/tickets/{tid}.json",
        "id": tid,
        "external_id": None,
        "via": {"channel": t.channel, "source": _source(t.channel, p)},
        "created_at": iso_z(t.created),
        "updated_at": iso_z(t.updated),
        "generated_timestamp": t.updated,
        "type": "question" if "billing" in t.tags else "incident",
        "subject": t.subject,
        "raw_subject": t.subject,
        "description": t.comments[0].body if t.comments else "",
        "priority": t.priority,
        "status": t.status,
        "recipient": f"support@{STORE_DOMAIN}" if t.channel == "email" else None,
        "requester_id": requester,
        "submitter_id": requester,
        "assignee_id": agent_id(t.assignee) if t.assignee is not None else None,
        "organization_id": organization,
        "group_id": GROUP_ID,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": list(t.tags),
        "custom_fields": [],
        "satisfaction_rating": rating,
        "sharing_agreement_ids": [],
        "custom_status_id": OPEN_STATUS_IDS.get(t.status, OPEN_STATUS_IDS["open"]),
        "fields": [],
        "followup_ids": [],
        "ticket_form_id": FORM_ID,
        "brand_id": BRAND_ID,
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": t.channel == "chat",
        "comments": comments,
    }
