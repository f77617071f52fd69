"""Account owners (a HubSpot contact's owner): which profiles a change of an owner's record
must rebuild. The snapshot reads the owner's name at build time, so a colleague renamed, or
deactivated and so no longer anyone's owner, shows only once the profiles they own are built
again. A person record's owner is indexed in ``activity_refs`` (kind ``account_owner``)."""

from __future__ import annotations

import sqlite3

from context_service.models import Mapped
from context_service.store import activities, profiles

_KIND = "account_owner"


def is_reference(mapped: Mapped, previous: Mapped | None) -> bool:
    """Whether the record is neither a person's nor an activity (an owner, a company), also
    as a deletion notice of one."""
    if mapped.person is not None or mapped.activity is not None:
        return False
    return previous is None or (previous.person is None and previous.activity is None)


def owner_ref(source: str, owner_id: str) -> str:
    """How an owner is indexed: its source and id."""
    return f"{source}/{owner_id}"


def _account_owner(mapped: Mapped | None) -> str | None:
    """The account owner a person record names (its ``owner_id`` attribute), as a ref."""
    person = None if mapped is None or mapped.deleted else mapped.person
    owner_id = person.attributes.get("owner_id") if person is not None else None
    return owner_ref(mapped.key.source, owner_id) if mapped and owner_id else None


def index_account_owner(
    conn: sqlite3.Connection, record_id: int, mapped: Mapped, previous: Mapped | None
) -> None:
    """Index the account owner a person record names (only when it changed)."""
    new, old = _account_owner(mapped), _account_owner(previous)
    if new != old:
        refs = [(_KIND, new)] if new else []
        activities.replace_refs(conn, record_id, refs, had_refs=old is not None)


def profiles_owned_by(conn: sqlite3.Connection, refs: list[str]) -> set[str]:
    """The profiles whose person records name one of these account owners (``owner_ref``)."""
    ids = [rid for ref in set(refs) for rid in activities.records_with_ref(conn, _KIND, ref)]
    return set(profiles.profiles_of(conn, ids).values()) if ids else set()
