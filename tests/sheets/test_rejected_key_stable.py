"""A rejected row keeps one record across imports, whatever its reason's wording."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import msgspec
import pytest

from context_service.errors import MappingError
from context_service.identity.normalize import normalize_email
from context_service.sheets import mapping
from context_service.store import Store
from context_service.store.records import rejected
from context_service.sync import IngestContext, RawPayload, ingest_batch
from tests.sheets.helpers import Importer

_CSV = "email,name\nann@example.com,Ann\nnot-an-email,Bob\n"
_BAD_LINE = 3
_BAD_RAW = {"email": "not-an-email", "name": "Bob"}


def _reworded(fields: Mapping[str, str]) -> list[str]:
    """``_emails`` after an upgrade that words its reason differently."""
    emails = mapping._values(fields, "email")
    for email in emails:
        if normalize_email(email) is None:
            raise MappingError(f"email: {email!r} is not a valid email address")
    return emails


def _rejected_reasons(store: Store, source: str = "crm") -> list[str]:
    """The reason each rejected record of ``source`` carries in its stored payload."""
    return [msgspec.json.decode(r.payload)["rejected"] for r in rejected(store.conn, source)]


def test_reworded_reason_replaces_the_rejected_row(
    store: Store,
    import_sheet: Importer,
    write: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write("people.csv", _CSV)
    first = import_sheet(path)
    assert first.rows_rejected == 1
    monkeypatch.setattr(mapping, "_emails", _reworded)
    second = import_sheet(path)
    assert second.rows_rejected == 1
    reasons = _rejected_reasons(store)
    assert reasons == [second.rejections[0].reason]
    assert "is not a valid email address" in reasons[0]


def test_a_rejected_row_stored_under_its_old_key_is_replaced(
    store: Store,
    ctx: IngestContext,
    import_sheet: Importer,
    write: Callable[[str, str], Path],
) -> None:
    old_style = {"source": "crm", "line": _BAD_LINE, "rejected": "old wording", "raw": _BAD_RAW}
    ingest_batch(store, [RawPayload("crm", "row", old_style)], mapping_context(ctx))
    assert len(_rejected_reasons(store)) == 1
    report = import_sheet(write("people.csv", _CSV))
    assert report.rows_rejected == 1
    assert _rejected_reasons(store) == [report.rejections[0].reason]


def test_other_rejected_rows_of_the_source_stay(
    store: Store,
    ctx: IngestContext,
    import_sheet: Importer,
    write: Callable[[str, str], Path],
) -> None:
    other = {"source": "crm", "line": 9, "rejected": "old wording", "raw": {"email": "x"}}
    ingest_batch(store, [RawPayload("crm", "row", other)], mapping_context(ctx))
    import_sheet(write("people.csv", _CSV))
    assert sorted(_rejected_reasons(store)) == sorted(
        ["old wording", "email: not an email address 'not-an-email'"]
    )


def mapping_context(ctx: IngestContext) -> IngestContext:
    """``ctx`` with the spreadsheet mapper registered for source ``crm``."""
    from context_service.sheets.importer import sheet_context

    return sheet_context(ctx, "crm")
