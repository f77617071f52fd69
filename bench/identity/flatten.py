"""One flat row per generated record, for a record-linkage library that wants scalar columns.

The row is built through the same path as our import: ``to_raw`` (Shopify nodes in REST shape),
the source's mapper, then the engine's normalizers (``features_of`` and friends), so Splink and
our engine compare the same normalized values:

* ``first_name``: the folded first-name token with an unambiguous nickname resolved (``bob`` to
  ``robert``, as our name blocking key does); ``surname`` the folded last token.
* ``name_pair``: the order-free pair of those tokens (``robert|smith``), our name blocking key.
* ``email`` / ``phone``: the record's primary merge-eligible mailbox (``mailbox_key``: Gmail
  dots and ``+tags`` folded, domain typos fixed) and E.164 phone, in the vendor's order;
  ``emails`` / ``phones`` every one of them (Splink explodes these arrays to block on any
  shared value and compares them by intersection).
* ``email_locals``: the local parts of 6 characters or more (our typo-catching blocking key).
* ``postcode``, ``street`` (abbreviations unified, unit dropped) and ``city`` (folded) of the
  first address.

Generic mailboxes and placeholder phones are dropped, as our engine drops them. Empty values are
``None`` (Splink's null). Cross-system references (Stripe ``metadata``, Zendesk
``external_id``) are not given to Splink: a flat-table user would not have them as a column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bench.identity.generate import GeneratedRecord
from bench.identity.run import to_raw
from context_service.identity.features import features_of
from context_service.identity.normalize import (
    canonical_first,
    fold,
    is_merge_email,
    is_merge_phone,
    mailbox_key,
    normalize_email,
    normalize_phone,
)
from context_service.models import Mapped, PersonFacet, RecordKey

COLUMNS = (
    "unique_id",
    "first_name",
    "surname",
    "name_pair",
    "email",
    "emails",
    "email_locals",
    "phone",
    "phones",
    "postcode",
    "street",
    "city",
)
LOCAL_BLOCK_MIN = 6  # as ``features._LOCAL_BLOCK_MIN``: shorter local parts are too common

Mapper = Callable[[str, Mapping[str, Any]], Mapped]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def ordered_emails(raw: list[str]) -> list[str]:
    """Merge-eligible mailboxes in the vendor's order, without repeats."""
    found = []
    for value in raw:
        email = normalize_email(value)
        if email and is_merge_email(email):
            found.append(mailbox_key(email))
    return _unique(found)


def ordered_phones(raw: list[str], region: str) -> list[str]:
    """Merge-eligible E.164 numbers in the vendor's order, without repeats."""
    found = []
    for value in raw:
        phone = normalize_phone(value, region)
        if phone and is_merge_phone(phone):
            found.append(phone)
    return _unique(found)


def flat_row(uid: int, key: RecordKey, facet: PersonFacet, region: str) -> dict[str, Any]:
    """The flat row of one person facet (see the module docstring)."""
    features = features_of(key, facet, region)
    first = canonical_first(features.first) if features.first else ""
    last = features.last
    emails = ordered_emails(facet.emails)
    phones = ordered_phones(facet.phones, region)
    locals_ = _unique(
        local for local in (e.partition("@")[0] for e in emails) if len(local) >= LOCAL_BLOCK_MIN
    )
    city = fold(facet.addresses[0].city or "").strip() if facet.addresses else ""
    return {
        "unique_id": uid,
        "first_name": first or None,
        "surname": last or None,
        "name_pair": "|".join(sorted((first, canonical_first(last)))) if first and last else None,
        "email": emails[0] if emails else None,
        "emails": emails or None,
        "email_locals": locals_ or None,
        "phone": phones[0] if phones else None,
        "phones": phones or None,
        "postcode": features.postcode or None,
        "street": features.street or None,
        "city": city or None,
    }


def flatten(
    records: Iterable[GeneratedRecord], mappers: Mapping[str, Mapper], region: str
) -> tuple[dict[str, list[Any]], list[tuple[str, str, str]]]:
    """Columns of flat rows (``unique_id`` 0, 1, ...) and each row's record key, in order.

    A record whose mapper yields no person facet gets a row of nulls, so every labelled record
    is in Splink's output (as our engine puts every record in a profile).
    """
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    keys: list[tuple[str, str, str]] = []
    for uid, record in enumerate(records):
        raw = to_raw(record)
        mapped = mappers[raw.source](raw.kind, raw.payload)
        facet = mapped.person or PersonFacet()
        row = flat_row(uid, mapped.key, facet, region)
        for name in COLUMNS:
            columns[name].append(row[name])
        keys.append(record.key)
    return columns, keys
