"""Zendesk Support shapes: organizations, users (end-users and agents) and tickets.

Tickets carry a non-standard ``comments`` list: the connector attaches it from
``GET /api/v2/tickets/{id}/comments``. Timestamps are ISO-8601 UTC without fractions.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from context_service.demo._data import STORE_DOMAIN, ZENDESK_SUBDOMAIN
from context_service.demo._util import iso_z
from context_service.demo.people import Company, Person, zendesk_organization_id, zendesk_user_id

_API = f"https://{ZENDESK_SUBDOMAIN}.zendesk.com/api/v2"
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
    return {
        "id": uid,
        "url": f"{_API}/users/{uid}.json",
        "name": name,
        "email": email,
        "phone": phone,
        "shared_phone_number": None if phone is None else False,
        "external_id": None,
        "organization_id": None,
        "role": role,
        "active": True,
        "verified": email is not None,
        "suspended": False,
        "time_zone": zone,
        "iana_time_zone": iana,
        "locale": locale,
        "created_at": iso_z(created),
        "updated_at": iso_z(updated),
        "last_login_at": iso_z(updated) if role == "agent" else None,
        "tags": [],
        "user_fields": {},
        "ticket_restriction": "requested" if role == "end-user" else None,
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


def ticket(t: TicketSpec, p: Person, first_comment_id: int) -> dict[str, Any]:
    """``GET /api/v2/tickets`` item plus the connector's ``comments`` list (oldest first)."""
    tid = ticket_id(t.n)
    requester = zendesk_user_id(p.g)
    organization = None
    if p.company is not None and p.company.has_organization:
        organization = zendesk_organization_id(p.company.key)
    comments = [
        {
            "id": first_comment_id + index,
            "type": "Comment",
            "author_id": c.author,
            "body": c.body,
            "public": c.public,
            "attachments": [],
            "via": {"channel": t.channel if index == 0 else "web"},
            "created_at": iso_z(c.created),
        }
        for index, c in enumerate(t.comments)
    ]
    rating = None
    if t.satisfaction is not None:
        rating = {"id": 9_800_000_000 + tid, "score": t.satisfaction, "comment": None}
    return {
        "url": f"{_API}/tickets/{tid}.json",
        "id": tid,
        "external_id": None,
        "via": {"channel": t.channel, "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": iso_z(t.created),
        "updated_at": iso_z(t.updated),
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
        "group_id": 360_000_000_001,
        "collaborator_ids": [],
        "follower_ids": [],
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": list(t.tags),
        "custom_fields": [],
        "satisfaction_rating": rating,
        "comments": comments,
    }
