"""Which fields each audience and each API key may see: configuration with safe defaults.

Defaults: the chatbot sees contact details masked (``m***@example.com``, ``+1******0134``) and
no postal addresses, vendor record ids, CRM deals or owner, conflicts or freshness; human
audiences see everything. Card data is never more than brand and last four digits, for everyone,
whatever the configuration: the snapshot holds nothing more, and card or bank numbers typed into
free text are removed before a snapshot is stored (``snapshot.redaction``). Hiding
``identity.names`` hides the customer's name itself, not only the other names sources give
(the chatbot reads the name and has no place for other names); a signal about a hidden field
stays without its details (``signal_views.visible_signals``).

A TOML file (``CONTEXT_SERVICE_FIELD_POLICY``) can change an audience or grant a key more or less::

    [audiences.chatbot]
    contact = "full"                      # or "masked" / "none"
    hide = ["identity.addresses", "crm.deals"]

    [keys.3f2a9c0e1b7d4a66]               # first 16 hex digits of the key's SHA-256
    audiences = ["chatbot"]               # audiences this key may ask for ("full": raw snapshot)
    contact = "full"                      # overrides the audience's contact setting
    hide = ["billing.card"]               # hidden on top of the audience's list

Keys are named by fingerprint so the file holds no secret. Scoped keys created with
``context-service keys create --audiences ... --hide ...`` carry their own limits; the app plugs
them in with ``use_key_grants``, and a key's limits combine with its file grant (audiences
both allow, fields either hides).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import msgspec

from context_service.errors import ConfigurationError, ContextServiceError

Audience = Literal["chatbot", "agent", "sidebar", "escalation"]
AUDIENCES: tuple[Audience, ...] = ("chatbot", "agent", "sidebar", "escalation")
FULL = "full"  # the stored, unfiltered snapshot (the default of GET /v1/context)
Contact = Literal["full", "masked", "none"]

FIELDS = frozenset(
    {
        "identity.emails",
        "identity.phones",
        "identity.addresses",
        "identity.names",
        "identity.company",
        "records",
        "orders",
        "orders.line_items",
        "orders.tracking",
        "orders.note",
        "billing.subscriptions",
        "billing.invoices",
        "billing.charges",
        "billing.card",
        "billing.disputes",
        "crm.stage",
        "crm.owner",
        "crm.deals",
        "support.tickets",
        "support.comments",
        "conflicts",
        "freshness",
    }
)


class AudienceRule(msgspec.Struct, forbid_unknown_fields=True):
    """What one audience may see."""

    contact: Contact = "full"
    hide: list[str] = []


class KeyGrant(msgspec.Struct, forbid_unknown_fields=True):
    """What one API key may ask for, on top of the audience rules."""

    audiences: list[str] | None = None
    contact: Contact | None = None
    hide: list[str] = []


class PolicyFile(msgspec.Struct, forbid_unknown_fields=True):
    """The TOML file's shape."""

    audiences: dict[str, AudienceRule] = {}
    keys: dict[str, KeyGrant] = {}


class View(msgspec.Struct, frozen=True):
    """The effective rule for one request: contact handling and hidden fields."""

    contact: Contact
    hidden: frozenset[str]

    def shows(self, field: str) -> bool:
        """Whether ``field`` (or its parent, for ``a.b``) is visible."""
        return field not in self.hidden and field.split(".", maxsplit=1)[0] not in self.hidden


DEFAULT_RULES: dict[str, AudienceRule] = {
    "chatbot": AudienceRule(
        contact="masked",
        hide=[
            "identity.addresses",
            "records",
            "crm.owner",
            "crm.deals",
            "conflicts",
            "freshness",
        ],
    ),
    "agent": AudienceRule(),
    "sidebar": AudienceRule(),
    "escalation": AudienceRule(),
}


class AccessDenied(ContextServiceError):
    """This API key may not ask for this audience."""

    status_code = 403
    title = "Forbidden"


class FieldPolicy:
    """Audience rules and key grants; ``view(audience, key)`` answers one request."""

    def __init__(self, config: PolicyFile | None = None) -> None:
        config = config or PolicyFile()
        self.rules = {**DEFAULT_RULES, **config.audiences}
        self.grants = _by_fingerprint(config.keys)
        self.key_grants: Callable[[str], KeyGrant | None] | None = None
        _validate(self)

    def use_key_grants(self, source: Callable[[str], KeyGrant | None]) -> None:
        """Also apply the limits ``source`` returns for a key (the scoped keys' own)."""
        self.key_grants = source

    def restricts_keys(self) -> bool:
        """Whether any key may have a grant (else no request needs its key fingerprinted)."""
        return bool(self.grants) or self.key_grants is not None

    def allows(self, audience: str, key: str | None) -> bool:
        """Whether the key may ask for ``audience`` (``full``: the stored snapshot)."""
        grant = self._grant(key)
        return grant is None or grant.audiences is None or audience in grant.audiences

    def view(self, audience: str, key: str | None) -> View:
        """The effective rule for an audience and key; raises ``AccessDenied`` if not allowed."""
        if not self.allows(audience, key):
            raise AccessDenied(f"this API key may not ask for audience '{audience}'")
        rule = self.rules.get(audience, AudienceRule())
        grant = self._grant(key)
        contact = grant.contact if grant and grant.contact else rule.contact
        hidden = set(rule.hide) | set(grant.hide if grant else [])
        if audience == FULL and (hidden or contact != "full"):
            # The stored snapshot is served as is, so it cannot honour a hidden field or masked
            # contacts: such a key reads the audiences, which apply them.
            raise AccessDenied(
                "this API key hides fields or masks contacts, so it may not read the full "
                "snapshot; ask for an audience (audience=agent, chatbot, sidebar or escalation)"
            )
        return View(contact=contact, hidden=frozenset(hidden))

    def _grant(self, key: str | None) -> KeyGrant | None:
        if key is None:
            return None
        from_file = self.grants.get(fingerprint(key)) if self.grants else None
        own = self.key_grants(key) if self.key_grants is not None else None
        return combine(from_file, own)


def combine(first: KeyGrant | None, second: KeyGrant | None) -> KeyGrant | None:
    """Two grants for one key as one: audiences both allow, fields either hides."""
    if first is None or second is None:
        return first or second
    audiences = first.audiences
    if second.audiences is not None:
        base = audiences if audiences is not None else second.audiences
        audiences = [a for a in base if a in second.audiences]
    return KeyGrant(
        audiences=audiences,
        contact=first.contact or second.contact,
        hide=sorted({*first.hide, *second.hide}),
    )


def fingerprint(key: str) -> str:
    """How a policy file names an API key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def load_policy(path: str | None) -> FieldPolicy:
    """The policy from a TOML file, or the defaults when ``path`` is ``None``.

    Errors say the file and, where the offending name can be found in it, its line.
    """
    if not path:
        return FieldPolicy()
    try:
        text = Path(path).read_bytes().decode()
        raw = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read field policy {path}: {exc}") from exc
    try:
        return FieldPolicy(msgspec.convert(raw, PolicyFile))
    except msgspec.ValidationError as exc:
        names = _UNKNOWN_FIELD.findall(str(exc))
        raise ConfigurationError(_located(path, text, names, str(exc))) from exc
    except ConfigurationError as exc:
        names = exc.extra.get("names", [])
        raise ConfigurationError(_located(path, text, names, exc.detail)) from exc


_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")


def _located(path: str, text: str, names: list[str], message: str) -> str:
    """``message`` prefixed with the file and the line of the first of ``names`` in it."""
    line = next((n for n in (_line_of(text, name) for name in names) if n is not None), None)
    where = f"{path}, line {line}" if line is not None else path
    return f"field policy {where}: {message.removeprefix('field policy: ')}"


def _line_of(text: str, name: str) -> int | None:
    """The 1-based line where ``name`` first appears as a whole key or value."""
    pattern = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line):
            return number
    return None


_FINGERPRINT = re.compile(r"[0-9a-f]{16}")


def _by_fingerprint(grants: dict[str, KeyGrant]) -> dict[str, KeyGrant]:
    """The grants keyed by lowercase fingerprint; a table named otherwise is an error (it would
    match no key and so leave the key it meant to limit unlimited), which never repeats the
    name, in case it is a key itself."""
    out: dict[str, KeyGrant] = {}
    for name, grant in grants.items():
        key = name.lower()
        if not _FINGERPRINT.fullmatch(key) or key in out:
            raise ConfigurationError(
                "field policy: a [keys.*] table is not named by a distinct key fingerprint "
                "(the first 16 hex digits of the key's SHA-256)",
                names=[name],
            )
        out[key] = grant
    return out


def _validate(policy: FieldPolicy) -> None:
    for name, rule in policy.rules.items():
        if name not in AUDIENCES:
            raise ConfigurationError(
                f"field policy: unknown audience '{name}'", names=[f"audiences.{name}", name]
            )
        _check_fields(rule.hide, f"audience {name}")
    for key, grant in policy.grants.items():
        _check_fields(grant.hide, f"key {key}")
        unknown = sorted(set(grant.audiences or []) - {*AUDIENCES, FULL})
        if unknown:
            raise ConfigurationError(
                f"field policy: key {key} names unknown audiences {unknown}", names=unknown
            )


def _check_fields(fields: list[str], where: str) -> None:
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        raise ConfigurationError(
            f"field policy: {where} hides unknown fields {unknown}", names=unknown
        )
