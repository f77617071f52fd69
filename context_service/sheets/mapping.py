"""Canonical rows -> payloads -> ``Mapped`` records, for any spreadsheet source.

A row becomes up to four payloads: the person (kind ``row``) and, when the row carries them,
an ``order``, a ``ticket`` and a ``subscription`` owned by that person. Each payload is the
canonical row's own fields plus ``source`` (and, for an activity, its ``owner``), so that
``map_sheet_record`` can re-map a stored payload later with no configuration and no knowledge
of the file's column names. A person's key is its ``external_id``, else a hash of its fields,
so importing the same row twice is a no-op.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from context_service.errors import MappingError
from context_service.identity.normalize import normalize_email
from context_service.models import (
    BUILTIN_SOURCES,
    Activity,
    Address,
    Mapped,
    Order,
    PersonFacet,
    RecordKey,
    Subscription,
    Ticket,
)
from context_service.sheets.fields import (
    ACTIVITIES,
    ADDRESS_FIELDS,
    FIELD_KIND,
    IDENTIFYING_FIELDS,
    LINK_FIELDS,
    MULTI_VALUED,
    PERSON_KIND,
)

Mapper = Callable[[str, Mapping[str, Any]], Mapped]

_SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_DECIMAL_COMMA = re.compile(r"^-?[0-9]+,[0-9]{1,2}$")  # 12,5 or 12,50; never 1,234
# Thousands separators where no other reading exists: a comma group before a decimal point or
# several comma groups (1,234.50, 1,234,567), and dot groups before a decimal comma or several
# dot groups (1.234,50, 1.234.567). One group alone (1,234 or 1.234) is left to the checks below.
_COMMA_GROUPS = re.compile(r"^-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?$")
_DOT_GROUPS = re.compile(r"^-?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?$")
_ONE_GROUP = re.compile(r"^-?[0-9]{1,3},[0-9]{3}$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_SPLIT = {"email": re.compile(r"[;,]"), "phone": re.compile(r";")}
_IDENTIFYING = IDENTIFYING_FIELDS
_ADDRESS = frozenset(ADDRESS_FIELDS)
_LINKS = frozenset(LINK_FIELDS)

_encode = msgspec.json.Encoder(order="deterministic").encode


def check_source_name(source: str) -> str:
    """``source`` if it can name a spreadsheet source; built-in vendor names are refused."""
    if source in BUILTIN_SOURCES:
        raise MappingError(
            f"{source!r} is a built-in source; name the spreadsheet source something else "
            "(for example 'crm-export' or 'events-2026')"
        )
    if not _SOURCE_NAME.fullmatch(source):
        raise MappingError(
            f"source name {source!r}: use 1-40 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return source


# --------------------------------------------------------------------------------------------
# Canonical row -> payloads
# --------------------------------------------------------------------------------------------


def canonical_row(fields: list[str | None], cells: list[str | None]) -> dict[str, str]:
    """The row as ``field -> trimmed value``; empty cells are absent, multi-values joined."""
    row: dict[str, str] = {}
    for field, cell in zip(fields, cells, strict=False):
        if field is None or cell is None:
            continue
        value = cell.strip()
        if not value:
            continue
        if field in row and field in MULTI_VALUED:
            row[field] = f"{row[field]}; {value}"
        else:
            row[field] = value
    return row


_NOT_IN_KEY = frozenset({"source", "birth_date"})


def person_key(person: Mapping[str, Any]) -> str:
    """The row's ``external_id``, else ``sha256:`` + a hash of its person fields."""
    external_id = person.get("external_id")
    if isinstance(external_id, str) and external_id:
        return external_id
    # A date of birth describes the person, not the row: a file that gains or corrects one
    # keeps its rows' keys (and one that held it before it was read keeps them too).
    fields = {k: v for k, v in person.items() if k not in _NOT_IN_KEY}
    return "sha256:" + hashlib.sha256(_encode(fields)).hexdigest()[:32]


def row_payloads(source: str, row: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """``(kind, payload)`` for the person and each activity the row carries, person first."""
    person: dict[str, Any] = {"source": source}
    groups: dict[str, dict[str, Any]] = {}  # the activities' fields, by kind
    for field, value in row.items():
        kind = FIELD_KIND[field]
        if kind == PERSON_KIND:  # most of a row: no group to look up
            person[field] = value
            continue
        group = groups.get(kind)
        if group is None:
            group = groups[kind] = {"source": source}
        group[field] = value
    _read_back_numbers(person, _PERSON_NUMBERS)
    out: list[tuple[str, dict[str, Any]]] = [(PERSON_KIND, person)]
    if not groups:
        return out
    owner = person_key(person)
    for kind, (_, marker) in ACTIVITIES.items():
        present = groups.get(kind)
        if present is None or present.keys() == {"source", "currency"}:
            continue
        if marker in _ACTIVITY_NUMBERS:
            _read_back_numbers(present, (marker,))
        if marker not in present:
            named = ", ".join(sorted(present.keys() - {"source"}))
            raise MappingError(f"{kind} column(s) {named} need a {marker} column in the same row")
        present["owner"] = owner
        out.append((kind, present))
    return out


# Fields holding a number that a spreadsheet or pandas may have written as a float: ids (keys,
# and links to built-in sources) and a postcode. Only ids may be in exponent form: a postcode
# is too short for a spreadsheet to write it so.
_PERSON_NUMBERS = ("external_id", *LINK_FIELDS, "postcode")
_ACTIVITY_NUMBERS = frozenset({"order_number", "ticket_id"})
_FLOAT_TAIL = re.compile(r"([0-9]+)\.00?")
_EXPONENT = re.compile(r"([0-9])(?:\.([0-9]+))?[eE]\+([0-9]{1,2})")


def _read_back_numbers(fields: dict[str, Any], names: Iterable[str]) -> None:
    """Each of ``names`` in ``fields`` as the number it was before a numeric column wrote it as
    a float: ``1001`` for ``1001.0`` (pandas) or ``1001.00``, and an id in exponent form
    (``3.61234567890E+11``) when every digit is still there. An id whose exponent form lost
    digits (``3.61235E+11``: Excel's General format) raises: the id cannot be told back, and
    rows whose ids rounded alike would be one person."""
    for name in names:
        value = fields.get(name)
        if value is None or ("." not in value and "+" not in value):  # most values
            continue
        found = _FLOAT_TAIL.fullmatch(value)
        if found is not None:
            fields[name] = found.group(1)
            continue
        found = _EXPONENT.fullmatch(value) if name != "postcode" else None
        if found is None:
            continue
        first, rest, power = found.group(1), found.group(2) or "", int(found.group(3))
        if len(rest) == power:
            fields[name] = first + rest
        elif len(rest) < power:
            raise MappingError(
                f"{name}: {value!r} is a number in exponent form that lost its last "
                f"{power - len(rest)} digits (a spreadsheet kept only its first "
                f"{len(rest) + 1}); format the column as text or as a number without "
                "decimals in the spreadsheet, then save or export the file again"
            )


def rejected_payload(source: str, line: int, reason: str, raw: Any) -> dict[str, Any]:
    """The payload that keeps an unreadable or invalid row raw, with the reason. Its ``id``
    (the record's key) is ``rejected_row_key``: the reason is left out of it, so the same row
    imported again after its reason was reworded replaces its record instead of adding one."""
    return {
        "id": rejected_row_key(source, line, raw),
        "source": source,
        "line": line,
        "rejected": reason,
        "raw": raw,
    }


def rejected_row_key(source: str, line: int, raw: Any) -> str:
    """The key of a rejected row's record: a hash of its source, line and original content."""
    digest = hashlib.sha256(_encode({"source": source, "line": line, "raw": raw})).hexdigest()
    return "rejected:" + digest[:32]


# --------------------------------------------------------------------------------------------
# Value checks
# --------------------------------------------------------------------------------------------


def iso_utc(field: str, value: str | None) -> str | None:
    """An ISO-8601 date or date-time as ``YYYY-MM-DDTHH:MM:SSZ`` (no offset means UTC)."""
    if value is None:
        return None
    try:
        if len(value) == 10:  # a plain date, the common case in sheets
            return date.fromisoformat(value).isoformat() + "T00:00:00Z"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
    except ValueError as exc:
        raise MappingError(_not_a_date(field, value)) from exc
    except OverflowError as exc:  # year 1 or 9999 with an offset that moves it past its end
        raise MappingError(f"{field}: {value!r} is out of range once moved to UTC") from exc
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


_SERIAL = re.compile(r"[0-9]{4,7}(?:\.[0-9]+)?")
_SERIAL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's (and LibreOffice's) date numbers
_SERIALS = range(3000, 2958466)  # 1908-03-18 to 9999-12-31: shorter numbers are rather years


def _not_a_date(field: str, value: str) -> str:
    """Why ``value`` is no date; for a number that a spreadsheet would store for a date (a
    column formatted as a number, so the sheet exported 45231 for 2023-11-01), what it looks
    like and how to fix it. It is never read as that date: a number may mean anything else."""
    text = value.strip()
    if _SERIAL.fullmatch(text) and int(float(text)) in _SERIALS:
        day = _SERIAL_EPOCH + timedelta(days=int(float(text)))
        return (
            f"{field}: {value!r} looks like a spreadsheet date serial (the number a spreadsheet "
            f"keeps for {day.isoformat()}), not a date: format the column as a date in the "
            "spreadsheet, then save or export the file again (or write dates as 2026-11-18)"
        )
    return f"{field}: not an ISO-8601 date {value!r} (use 2026-11-18)"


def amount(field: str, value: str | None) -> str | None:
    """A decimal amount in major units, at least two places: ``"160.9"`` -> ``"160.90"``;
    more places are kept as written (``"1.234"`` for a three-decimal currency), never rounded.

    A decimal comma is accepted when it cannot be a thousands separator (``12,5``, ``12,50``),
    and thousands separators when they cannot be a decimal mark (``1,234.50``, ``1,234,567``,
    ``1.234,50``, ``1.234.567``). ``1,234`` could be either, so it is refused with that reason.
    The rule reads the value alone, so a stored payload maps again to the same amount.
    """
    if value is None:
        return None
    value = _without_thousands(field, value)
    if _DECIMAL_COMMA.match(value):
        value = value.replace(",", ".")
    if not _AMOUNT.match(value) or len(value) > 18:
        raise MappingError(f"{field}: not a decimal amount {value!r} (use digits and a dot)")
    whole, _, cents = value.partition(".")
    if len(cents) <= 2 and not value.startswith("-"):
        return f"{int(whole)}.{cents.ljust(2, '0')}"
    exact = Decimal(value)
    return str(exact if len(cents) > 2 else exact.quantize(Decimal("0.01")))


def _without_thousands(field: str, value: str) -> str:
    """``value`` without its thousands separators, when they cannot be anything else."""
    if _ONE_GROUP.match(value):
        whole, fraction = value.replace(",", ""), value.replace(",", ".")
        raise MappingError(
            f"{field}: {value!r} is ambiguous ({whole} with a thousands separator, or "
            f"{fraction} with a decimal comma); write {whole} or {value}.00, or {fraction}"
        )
    if _COMMA_GROUPS.match(value) and "," in value:
        return value.replace(",", "")
    if _DOT_GROUPS.match(value) and (value.count(".") > 1 or "," in value):
        return value.replace(".", "").replace(",", ".")
    return value


def currency(value: str | None) -> str | None:
    """An ISO-4217 code in upper case."""
    if value is None:
        return None
    if not _CURRENCY.match(value):
        raise MappingError(f"currency: not a three-letter currency code {value!r}")
    return value.upper()


def _strings(payload: Mapping[str, Any]) -> dict[str, str]:
    """The payload's non-empty string values (a stored payload holds nothing else)."""
    return {k: v for k, v in payload.items() if isinstance(v, str) and v}


# What Excel, LibreOffice and Google Sheets show (and export) in a cell whose formula failed.
_FORMULA_ERRORS = frozenset(
    "#N/A #NULL! #DIV/0! #VALUE! #REF! #NAME? #NUM! #SPILL! #CALC! #GETTING_DATA #FIELD! "
    "#BLOCKED! #CONNECT! #BUSY! #UNKNOWN! #ERROR!".split()
)
_LIBREOFFICE_ERROR = re.compile(r"Err:[0-9]{3}")


def _refuse_formula_errors(fields: Mapping[str, str]) -> None:
    """Raise for a field holding a failed formula's error (a VLOOKUP's ``#N/A``): it is no
    value of the row, and as a key it would join every row where the same formula failed."""
    for field, value in fields.items():
        if "#" not in value and "Err:" not in value:  # most cells: no error can be there
            continue
        text = value.strip()
        if text.upper() in _FORMULA_ERRORS or _LIBREOFFICE_ERROR.fullmatch(text):
            raise MappingError(
                f"{field}: {value!r} is the error of a spreadsheet formula, not a value; "
                "fix the formula, or clear the cell"
            )


def _values(fields: Mapping[str, str], field: str) -> list[str]:
    raw = fields.get(field)
    if raw is None:
        return []
    if ";" not in raw and "," not in raw:  # one value (most cells): what the split would give
        value = raw.strip()
        return [value] if value else []
    return [v for part in _SPLIT[field].split(raw) if (v := part.strip())]


_FLOAT_WRITTEN_PHONE = re.compile(r"(\+?\d{7,15})\.0+")
_EXPONENT_WRITTEN_PHONE = re.compile(r"(\+?)(\d)\.(\d{6,14})[eE]\+?(\d{1,2})")


def _without_float_tail(phone: str) -> str:
    """A phone that a numeric column wrote as a float without what it gained: the ``.0`` of
    ``4155550123.0`` (pandas), or the exponent of ``4.155550123E9`` (Java, JavaScript) when
    every digit is still there; ``4.15555E+11`` lost digits and is left as it is."""
    if "." not in phone:  # both forms hold a dot: most phones are neither
        return phone
    found = _FLOAT_WRITTEN_PHONE.fullmatch(phone)
    if found:
        return found.group(1)
    found = _EXPONENT_WRITTEN_PHONE.fullmatch(phone)
    if found and len(found.group(3)) == int(found.group(4)):
        sign, first, rest, _ = found.groups()
        return sign + first + rest
    return phone


def _emails(fields: Mapping[str, str]) -> list[str]:
    emails = _values(fields, "email")
    for email in emails:
        if normalize_email(email) is None:
            raise MappingError(f"email: not an email address {email!r}")
    return emails


def _status(fields: Mapping[str, str], field: str) -> str | None:
    value = fields.get(field)
    return value.lower() if value else None


# --------------------------------------------------------------------------------------------
# Payload -> Mapped
# --------------------------------------------------------------------------------------------


def _addresses(fields: Mapping[str, str]) -> list[Address]:
    if fields.keys().isdisjoint(_ADDRESS):
        return []
    return [Address(**{f: fields.get(f) for f in ADDRESS_FIELDS})]


def _links(fields: Mapping[str, str]) -> list[RecordKey]:
    if fields.keys().isdisjoint(_LINKS):
        return []
    return [
        RecordKey(link_source, kind, fields[field])
        for field, (link_source, kind) in LINK_FIELDS.items()
        if field in fields
    ]


def map_person(source: str, fields: Mapping[str, str]) -> Mapped:
    """A row's person fields -> a person-like record of kind ``row``."""
    if fields.keys().isdisjoint(_IDENTIFYING):
        raise MappingError(
            "the row has no email, phone, name, external_id or linked id to identify a person"
        )
    key = RecordKey(source, PERSON_KIND, person_key(fields))
    get = fields.get
    person = PersonFacet(
        emails=_emails(fields),
        phones=[_without_float_tail(phone) for phone in _values(fields, "phone")],
        first_name=get("first_name"),
        last_name=get("last_name"),
        name=get("name"),
        company=get("company"),
        addresses=_addresses(fields),
        links=_links(fields),
        created_at=iso_utc("customer_since", get("customer_since")),
        birth_date=_birth_date(get("birth_date")),
    )
    return Mapped(key=key, updated_at=iso_utc("updated_at", get("updated_at")), person=person)


def _birth_date(value: str | None) -> str | None:
    """An ISO date, or the date part of an ISO date-time (what an XLSX date cell reads as)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise MappingError(f"birth_date: not an ISO-8601 date {value!r} (use 1984-03-09)") from exc
    return moment.date().isoformat()


def _owner(fields: Mapping[str, str], source: str) -> list[RecordKey]:
    owner = fields.get("owner")
    if owner is None:
        raise MappingError("spreadsheet activity without an 'owner'")
    return [RecordKey(source, PERSON_KIND, owner)]


def _order(fields: Mapping[str, str], source: str) -> tuple[str, Activity]:
    number = fields.get("order_number", "")
    status = _status(fields, "order_status")
    order = Order(
        owners=_owner(fields, source),
        external_id=number,
        title=number if number.startswith("#") else f"#{number}",
        number=number.lstrip("#"),
        status="cancelled" if status in {"cancelled", "canceled"} else None,
        financial_status=status,
        fulfillment_status=_status(fields, "fulfillment_status"),
        created_at=iso_utc("ordered_at", fields.get("ordered_at")),
        amount=amount("order_total", fields.get("order_total")),
        currency=currency(fields.get("currency")),
    )
    return number, order


def _ticket(fields: Mapping[str, str], source: str) -> tuple[str, Activity]:
    ticket_id = fields.get("ticket_id", "")
    ticket = Ticket(
        owners=_owner(fields, source),
        external_id=ticket_id,
        title=fields.get("ticket_subject"),
        status=_status(fields, "ticket_status"),
        priority=_status(fields, "ticket_priority"),
        created_at=iso_utc("opened_at", fields.get("opened_at")),
    )
    return ticket_id, ticket


def _subscription(fields: Mapping[str, str], source: str) -> tuple[str, Activity]:
    owners = _owner(fields, source)
    plan = fields.get("plan", "")
    external_id = f"{owners[0].external_id}:{plan}"
    subscription = Subscription(
        owners=owners,
        external_id=external_id,
        title=plan,
        plan=plan,
        status=_status(fields, "plan_status"),
        interval=_status(fields, "plan_interval"),
        current_period_end=iso_utc("renews_at", fields.get("renews_at")),
    )
    return external_id, subscription


_ACTIVITY_MAPPERS: dict[str, Callable[[Mapping[str, Any], str], tuple[str, Activity]]] = {
    "order": _order,
    "ticket": _ticket,
    "subscription": _subscription,
}
KINDS = (PERSON_KIND, *_ACTIVITY_MAPPERS)


def map_sheet_record(kind: str, payload: Mapping[str, Any]) -> Mapped:
    """Map one stored spreadsheet payload of ``kind`` (``row``, ``order``, ``ticket``,
    ``subscription``) to a canonical record; a payload kept for a rejected row raises again."""
    if type(payload) is not dict and not isinstance(payload, Mapping):  # a dict: no ABC check
        raise MappingError(f"spreadsheet {kind}: payload must be a JSON object")
    rejected = payload.get("rejected")
    if rejected is not None:
        raise MappingError(str(rejected))
    fields = _strings(payload)
    _refuse_formula_errors(fields)
    source = fields.pop("source", None)
    if source is None:
        raise MappingError("spreadsheet payload without a 'source'")
    if kind == PERSON_KIND:
        return map_person(source, fields)
    mapper = _ACTIVITY_MAPPERS.get(kind)
    if mapper is None:
        raise MappingError(f"spreadsheet: unknown kind {kind!r}; expected one of {KINDS}")
    external_id, activity = mapper(fields, source)
    return Mapped(key=RecordKey(source, kind, external_id), activity=activity)


class WithSheetSources(Mapping[str, Mapper]):
    """Mappers keyed by source, where any source without its own mapper is a spreadsheet.

    ``IngestContext(mappers=WithSheetSources(default_mappers()))`` lets every ingest path (and
    a later re-mapping of stored records) handle imported sources by whatever name they got.
    """

    def __init__(self, base: Mapping[str, Mapper]) -> None:
        self._base = dict(base)

    def __getitem__(self, source: str) -> Mapper:
        return self._base.get(source, map_sheet_record)

    def __iter__(self) -> Iterator[str]:
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)
