"""What every request for Zendesk users side-loads, and how it is attached to each user.

Zendesk answers a request for users with ``include=...`` by adding top-level lists next to the
users (developer.zendesk.com/documentation/api-basics/working-with-data/side-loading): one
request per page instead of one per user. Every request for users asks for the same ones (the
incremental export, a user's refetch, an organization's member list), so a user reads the same
whichever of them brought it (one without the other would add and drop fields in turn):

* ``identities`` (when the connector asks for them): the user's email and phone identities,
  attached as ``identities`` for the mapper's extra emails and phones;
* ``organizations``: the organizations the users belong to, the user's own (``organization_id``)
  attached as ``organization``, for the mapper's company.

Each attached object is trimmed to the fields the mapper and a reader need. A body that
side-loads nothing leaves the users as they are.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "IDENTITY_FIELDS",
    "ORGANIZATION_FIELDS",
    "user_sideloads",
    "with_identities",
    "with_organization",
    "with_user_sideloads",
]

# The identity fields kept on a user's attached ``identities`` (what the mapper and a reader need).
IDENTITY_FIELDS = ("id", "type", "value", "verified", "primary")
# The organization fields kept on a user's attached ``organization``: its name is the company,
# its ``updated_at`` dates the name (see ``mapping.map_user``).
ORGANIZATION_FIELDS = ("id", "name", "updated_at")


def user_sideloads(identities: bool) -> tuple[str, str]:
    """The ``include`` parameter of every request for users: ``organizations``, and
    ``identities`` first when they are asked for (Zendesk takes a comma-separated list)."""
    return ("include", "identities,organizations" if identities else "organizations")


def with_identities(user: dict[str, Any], identities: Any) -> dict[str, Any]:
    """``user`` with the side-loaded ``identities`` that name it attached, trimmed to
    ``IDENTITY_FIELDS``; unchanged when nothing was side-loaded (``identities`` not a list) or
    the user has no id to match them on (it is kept raw, as a rejected record)."""
    owner = user.get("id")
    if not isinstance(identities, list) or not isinstance(owner, int | str) or owner == "":
        return user
    own = [
        {name: identity[name] for name in IDENTITY_FIELDS if name in identity}
        for identity in identities
        if isinstance(identity, dict) and str(identity.get("user_id")) == str(owner)
    ]
    return {**user, "identities": own}


def with_organization(user: dict[str, Any], organizations: Any) -> dict[str, Any]:
    """``user`` with its own organization (``organization_id``) from the side-loaded
    ``organizations`` attached as ``organization``, trimmed to ``ORGANIZATION_FIELDS``;
    unchanged when nothing was side-loaded, the user has no organization or it is not listed
    (deleted meanwhile)."""
    wanted = user.get("organization_id")
    if not isinstance(organizations, list) or wanted is None:
        return user
    own = next(
        (
            organization
            for organization in organizations
            if isinstance(organization, dict) and str(organization.get("id")) == str(wanted)
        ),
        None,
    )
    if own is None:
        return user
    return {
        **user,
        "organization": {name: own[name] for name in ORGANIZATION_FIELDS if name in own},
    }


def with_user_sideloads(user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """``user`` with what ``body`` (the answer that listed it) side-loads attached."""
    return with_organization(
        with_identities(user, body.get("identities")), body.get("organizations")
    )
