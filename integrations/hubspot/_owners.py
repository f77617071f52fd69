"""The ``owners`` stream: HubSpot users records are assigned to, live and deactivated.

``GET /crm/v3/owners`` paged by ``paging.next.after``, then the deactivated owners, ``GET
/crm/v3/owners?archived=true``, each a deletion notice (so a departed colleague is no longer
shown as an account owner). Owners cannot be filtered by time, so every run lists both lists
and emits the owners whose ``updatedAt`` is at or after the cursor's ``since`` (ms). Cursor
while paging ``{"since", "high", "after", "archived"}`` (``archived``: the archived list is
being read), then ``{"since"}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from context_service.errors import FatalError
from integrations._connector import Page, VendorObject
from integrations._pagination import LoopGuard
from integrations.hubspot._archived import (
    Lister,
    deleted_ms,
    listed_results,
    next_after,
    tombstone,
    with_ids,
)
from integrations.hubspot._search import decode_cursor, encode_cursor, modified_ms

__all__ = ["OwnersStream"]

Json = dict[str, Any]


class _OwnersCursor(msgspec.Struct, omit_defaults=True):
    """Owners updated at or after ``since`` are emitted; while paging, ``high`` is the newest
    ``updatedAt`` seen, ``after`` the next page and ``archived`` which list it is in."""

    since: int = 0
    high: int | None = None
    after: str | None = None
    archived: bool = False


class OwnersStream:
    """All owners each run, live then archived; those updated at or after ``since`` are
    emitted, an archived (deactivated) one as a deletion notice. The live list's last page
    goes out together with the archived list's first, as one page."""

    name = "owners"

    def __init__(self, lister: Lister) -> None:
        self._lister = lister

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Owner pages; the last one's cursor moves ``since`` to the newest ``updatedAt`` seen."""
        state = decode_cursor(cursor, self.name, _OwnersCursor)
        high = state.high if state.high is not None else state.since
        guard = LoopGuard(self.name)
        archived, after = state.archived, state.after
        held: list[VendorObject] = []  # the live list's last page, emitted with the next one
        while True:
            guard.check(f"{archived}:{after}")
            owners, after = self._list(archived, after)
            times = [_owner_ms(owner, archived) for owner in owners]
            high = max([high, *times])
            changed = [o for o, t in zip(owners, times, strict=True) if t >= state.since]
            notices = held + [_owner_notice(o, archived) for o in changed]
            if after is None and not archived:  # the live list is done: the archived one follows
                held, archived = notices, True
                continue
            held = []
            if after is not None:
                yield Page(
                    notices, encode_cursor(_OwnersCursor(state.since, high, after, archived))
                )
            else:
                yield Page(notices, encode_cursor(_OwnersCursor(high)))
                return

    def _list(self, archived: bool, after: str | None) -> tuple[list[Json], str | None]:
        """One page of the live or the archived owners, and the ``after`` of the next one."""
        params = [("limit", str(self._lister.page_size))]
        params += [("archived", "true")] if archived else []
        params += [("after", after)] if after else []
        body = self._lister.get_json("/crm/v3/owners", params)
        owners = listed_results(body, "archived owners" if archived else "owners")
        if archived:  # a deactivation that names no owner deletes nothing (a live one is kept)
            owners, _ = with_ids(owners, "archived owners")
        return owners, next_after(body)


def _owner_ms(owner: Json, archived: bool) -> int:
    """When an owner last changed (ms); an archived one by ``deleted_ms`` (its ``updatedAt``:
    owners carry no ``archivedAt``), which must be readable to date its deletion."""
    if not archived:
        return modified_ms(owner, "updatedAt") or 0
    when = deleted_ms(owner)
    if when is None:
        raise FatalError(f"hubspot archived owners: {owner.get('id')!r} has no updatedAt")
    return when


def _owner_notice(owner: Json, archived: bool) -> VendorObject:
    """A live owner as it is; an archived one as a deletion, stored even for an owner never
    held: contacts still name a colleague deactivated before the first sync, and without
    the deletion the snapshot would show them as "HubSpot owner <id>". (The CRM objects'
    listing deletes only what is held; owners are a few dozen users, not customers, and
    HubSpot lists an archived one only once it is archived, so no new owner is hidden.)
    A re-activated owner, dated later, replaces the deletion."""
    if archived:
        return tombstone("owner", owner)
    return VendorObject("owner", owner)
