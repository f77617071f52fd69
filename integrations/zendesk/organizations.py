"""Zendesk organizations as their members' company: members emitted again when one changes.

The mapper makes a user's organization name, side-loaded with the user (``sideloads``), the
person's company. Renaming an organization changes none of its members' user objects, so no user
export brings them again. ``WithMembers`` wraps the organizations export: on a run that resumes
from a cursor, each organization it brings is followed by its members, listed with
``GET /api/v2/organizations/{id}/users.json`` (cursor pagination, ``page[size]`` 100, with the
users' side-loads), so their records are mapped again with the organization as it is now. The
mapper dates a user by the later of its own and its organization's ``updated_at``: a member
emitted again after a rename is newer than its stored copy, and an older copy that arrives late
(with the old name) is stale.

A first run lists no members: the users export that follows in the same run reads every user,
with the same side-loads. Listing costs one request per changed organization (more past 100
members), counted against the account's per-minute limit, not the exports' 10 a minute. An
organization gone meanwhile (404) lists none. A webhook about an organization refetches the
organization only (a delivery refetches one object per id); its members follow on the next sync.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import msgspec

from context_service.errors import FatalError
from integrations._connector import Page, VendorObject
from integrations.zendesk.api import ZendeskApi
from integrations.zendesk.sideloads import with_user_sideloads
from integrations.zendesk.streams import TimeExportStream, has_id

__all__ = ["MEMBERS_PAGE_SIZE", "WithMembers", "members"]

MEMBERS_PAGE_SIZE = 100  # cursor pagination's page[size] maximum


class _UsersPage(msgspec.Struct):
    users: list[dict[str, Any]]


def _users_page(raw: dict[str, Any], path: str) -> _UsersPage:
    """A page of users; ``FatalError`` when it is not one. A user without an id is kept (the
    list pages by cursor): ingest stores it raw, as a rejected record (``streams._items``)."""
    try:
        return msgspec.convert(raw, _UsersPage)
    except msgspec.ValidationError as exc:
        raise FatalError(f"zendesk {path}: malformed users page: {exc}") from exc


def members(
    api: ZendeskApi, organization_id: str, sideload: tuple[str, str]
) -> list[dict[str, Any]]:
    """The users of an organization, with what ``sideload`` side-loads attached; none when the
    organization is gone (404)."""
    path = f"/api/v2/organizations/{quote(organization_id, safe='')}/users.json"
    params = [("page[size]", str(MEMBERS_PAGE_SIZE)), sideload]
    return [
        with_user_sideloads(user, raw)
        for raw in api.cursor_pages(path, params, f"members of organization {organization_id}")
        for user in _users_page(raw, path).users
    ]


class WithMembers:
    """The organizations export; on a run that resumes from a cursor, each page's
    organizations are followed by their members (see the module's docstring)."""

    def __init__(
        self, export: TimeExportStream, api: ZendeskApi, sideload: tuple[str, str]
    ) -> None:
        self.name = export.name
        self.kind = export.kind
        self.path = export.path
        self._export = export
        self._api = api
        self._sideload = sideload

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """The export's pages, with the members of their organizations unless this is a first
        run (no ``cursor``)."""
        for page in self._export.pages(cursor):
            if cursor is None or not page.objects:
                yield page
            else:
                objects = page.objects + self._members_of(page.objects)
                yield msgspec.structs.replace(page, objects=objects)

    def _members_of(self, organizations: list[VendorObject]) -> list[VendorObject]:
        """The members of ``organizations``, one copy each (a user may be in several); none
        for an organization without an id (kept raw, as a rejected record)."""
        users: dict[str, VendorObject] = {}
        raw: list[VendorObject] = []
        for organization in organizations:
            if not has_id(organization.payload):
                continue
            for user in members(self._api, str(organization.payload["id"]), self._sideload):
                if has_id(user):
                    users[str(user["id"])] = VendorObject("user", user)
                else:
                    raw.append(VendorObject("user", user))
        return list(users.values()) + raw
