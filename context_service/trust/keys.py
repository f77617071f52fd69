"""Scoped API keys: created once, stored as a hash, listed, revoked, checked on every request
(through ``keyring.Keyring``, which caches live keys).

A key reads ``csk_<id>_<secret>``: ``id`` (12 hex digits) names the row, ``secret`` is 32 random
bytes (``secrets.token_urlsafe``). Only the SHA-256 of the whole key is stored. A plain,
unsalted hash is enough here because the key is 256 bits of randomness: there is nothing to
guess, so slow password hashes (bcrypt, argon2) would only slow every request down. The
presented key's digest is compared with ``hmac.compare_digest``.

Keys from ``CONTEXT_SERVICE_API_KEYS`` (bootstrap keys) keep working: they hold every scope, may
ask for every audience and count as trusted backends. They exist for ``make demo``, tests and a
first ``keys create``; a deployment should replace them with scoped keys. One the field-policy
file limits (by fingerprint) creates and revokes keys only within those limits (``bound``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
import sqlite3
from collections.abc import Iterable
from typing import TypeGuard

import msgspec

from context_service.errors import ContextServiceError
from context_service.store import Store
from context_service.trust.scopes import SCOPES, check_scopes

PREFIX = "csk_"
_ID_HEX = 12
# A stored key's name: safe in a URL path (``DELETE /v1/keys/{name}``), a log line and a
# terminal, and never a bootstrap key's (``bootstrap-<n>``), whose rate-limit bucket and audit
# identity it would share. Checked when a key is created; older keys keep their names.
NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
RESERVED_PREFIX = "bootstrap-"


class _Changes:
    """Counts the keys this process created or revoked, for ``keyring.Keyring``'s cache."""

    def __init__(self) -> None:
        self.value = 0
        self._count = itertools.count(1)

    def bump(self) -> None:
        self.value = next(self._count)  # one atomic step under the GIL


_CHANGES = _Changes()


def generation() -> int:
    """A number that changes whenever this process creates or revokes a key (cache checks)."""
    return _CHANGES.value


def _changed() -> None:
    _CHANGES.bump()


class InvalidKey(ContextServiceError):
    """A key cannot be created as asked: unknown scope, audience or field, or a name in use."""

    status_code = 400
    title = "Invalid key"


class BeyondCaller(ContextServiceError):
    """A key bound by its limits asked to create or revoke a key allowed more than itself."""

    status_code = 403
    title = "Forbidden"


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the key's name and everything it is allowed."""

    name: str
    scopes: frozenset[str]
    audiences: tuple[str, ...] | None = None
    hide: tuple[str, ...] = ()
    trusted_backend: bool = False
    rate_per_minute: int | None = None
    key_id: str | None = None  # None for bootstrap keys

    def limited(self) -> bool:
        """Whether the key is limited to some audiences or hides some fields."""
        return self.audiences is not None or bool(self.hide)


class KeyInfo(msgspec.Struct):
    """A stored key as ``keys list`` shows it (never the key itself)."""

    id: str
    name: str
    scopes: list[str]
    audiences: list[str] | None
    hide: list[str]
    trusted_backend: bool
    rate_per_minute: int | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class NewKey(msgspec.Struct):
    """A key just created: ``key`` is shown once and never stored."""

    key: str
    info: KeyInfo


def digest(key: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def _parse(key: str) -> str | None:
    if not key.startswith(PREFIX):
        return None
    key_id, sep, secret = key[len(PREFIX) :].partition("_")
    return key_id if sep and len(key_id) == _ID_HEX and secret else None


class Bootstrap:
    """The keys of ``CONTEXT_SERVICE_API_KEYS``, held as digests: full-scope admin keys."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = [hashlib.sha256(k.encode()).digest() for k in keys if k]

    def match(self, presented: str) -> Principal | None:
        """The bootstrap principal if ``presented`` is one of the keys (constant time per key)."""
        presented_digest = hashlib.sha256(presented.encode()).digest()
        index = -1
        for i, known in enumerate(self._digests):
            if hmac.compare_digest(presented_digest, known):
                index = i
        if index < 0:
            return None
        return Principal(
            name=f"bootstrap-{index + 1}", scopes=frozenset(SCOPES), trusted_backend=True
        )


_COLUMNS = (
    "id, name, scopes, audiences, hide, trusted_backend, rate_per_minute, created_at, "
    "last_used_at, revoked_at"
)
_decode_list = msgspec.json.Decoder(list[str]).decode


def _info(row: tuple[object, ...]) -> KeyInfo:
    audiences = row[3]
    return KeyInfo(
        id=str(row[0]),
        name=str(row[1]),
        scopes=_decode_list(str(row[2])),
        audiences=None if audiences is None else _decode_list(str(audiences)),
        hide=_decode_list(str(row[4])),
        trusted_backend=bool(row[5]),
        rate_per_minute=None if row[6] is None else int(str(row[6])),
        created_at=str(row[7]),
        last_used_at=None if row[8] is None else str(row[8]),
        revoked_at=None if row[9] is None else str(row[9]),
    )


def _principal(info: KeyInfo) -> Principal:
    return Principal(
        name=info.name,
        scopes=frozenset(info.scopes),
        audiences=None if info.audiences is None else tuple(info.audiences),
        hide=tuple(info.hide),
        trusted_backend=info.trusted_backend,
        rate_per_minute=info.rate_per_minute,
        key_id=info.id,
    )


class KeySpec(msgspec.Struct, kw_only=True):
    """What ``keys create`` asks for."""

    name: str
    scopes: list[str]
    audiences: list[str] | None = None
    hide: list[str] = []
    trusted_backend: bool = False
    rate_per_minute: int | None = None


class Known(msgspec.Struct, frozen=True):
    """The audiences and fields a key may be limited to (from ``audience.policy``)."""

    audiences: frozenset[str]
    fields: frozenset[str]


def _validate(spec: KeySpec, known: Known) -> KeySpec:
    try:
        scopes = check_scopes(spec.scopes)
    except ValueError as exc:
        raise InvalidKey(str(exc)) from exc
    if not NAME_PATTERN.fullmatch(spec.name) or spec.name.startswith(RESERVED_PREFIX):
        raise InvalidKey(
            "a key name is 1 to 64 letters, digits, '.', '_' or '-', and does not start with "
            f"{RESERVED_PREFIX!r}"
        )
    unknown = set(spec.audiences or []) - known.audiences
    if unknown:
        raise InvalidKey(f"unknown audiences {sorted(unknown)}")
    if set(spec.hide) - known.fields:
        raise InvalidKey(f"unknown fields {sorted(set(spec.hide) - known.fields)}")
    if spec.rate_per_minute is not None and spec.rate_per_minute < 1:
        raise InvalidKey("a rate limit is at least 1 request per minute")
    return msgspec.structs.replace(spec, scopes=scopes)


def beyond(caller: Principal, spec: KeySpec, default_rate: int = 0) -> list[str]:
    """What ``spec`` would allow that ``caller`` is not allowed (empty: nothing).

    ``default_rate`` is the server's rate limit (requests a minute, 0 for none), the limit of
    a caller without one of its own: such a caller may mint keys up to that rate, or keys
    that follow the default as it does.
    """
    wider = [f"scope {s!r}" for s in spec.scopes if s not in caller.scopes]
    if caller.audiences is not None:
        if spec.audiences is None:
            wider.append("every audience")
        else:
            wider += [f"audience {a!r}" for a in spec.audiences if a not in caller.audiences]
    wider += [f"field {f!r} unhidden" for f in caller.hide if f not in spec.hide]
    if spec.trusted_backend and not caller.trusted_backend:
        wider.append("trusted backend")
    wider += _faster(caller.rate_per_minute, spec.rate_per_minute, default_rate)
    return wider


def _faster(own: int | None, asked: int | None, default_rate: int) -> list[str]:
    """``["a rate over N requests a minute"]`` when a key limited to ``own`` (``None``: the
    default) asks for a key limited to ``asked``, else ``[]``."""
    if own is None:
        if default_rate <= 0 or asked is None or asked <= default_rate:
            return []
        return [f"a rate over {default_rate} requests a minute (the server's default)"]
    if asked is None or asked > own:
        return [f"a rate over {own} requests a minute"]
    return []


def bound(caller: Principal | None) -> TypeGuard[Principal]:
    """Whether ``caller`` may create and revoke only keys within its own limits: a stored key,
    or a bootstrap key limited to some audiences or hiding fields (by the field-policy file:
    the caller as ``api.auth.limited_principal`` sees it). An unlimited bootstrap key and the
    CLI (``None``) may create and revoke any key."""
    return caller is not None and (caller.key_id is not None or caller.limited())


def create_key(
    store: Store,
    spec: KeySpec,
    now: str,
    known: Known,
    caller: Principal | None = None,
    default_rate: int = 0,
) -> NewKey:
    """Store a new key's hash and return the key (shown once).

    ``caller``, the key creating this one over HTTP, may only create a key allowed no more
    than itself (``BeyondCaller``, 403) when it is ``bound`` (a stored key, or a bootstrap key
    the field-policy file limits), its rate limit being ``default_rate`` (the server's) when
    it has none of its own; an unlimited bootstrap key and the CLI (``None``) may create any
    key.
    """
    spec = _validate(spec, known)
    wider = []
    if bound(caller):
        wider = beyond(caller, spec, default_rate)
    if wider:
        raise BeyondCaller(
            "a key may not create a key allowed more than itself: " + ", ".join(wider),
            beyond=wider,
        )
    key_id = secrets.token_hex(_ID_HEX // 2)
    key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    audiences = None if spec.audiences is None else msgspec.json.encode(spec.audiences).decode()
    with store.transaction() as conn:
        _refuse_taken(conn, spec.name)
        conn.execute(
            "INSERT INTO api_keys (id, name, digest, scopes, audiences, hide, trusted_backend, "
            "rate_per_minute, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key_id,
                spec.name,
                digest(key),
                msgspec.json.encode(spec.scopes).decode(),
                audiences,
                msgspec.json.encode(spec.hide).decode(),
                int(spec.trusted_backend),
                spec.rate_per_minute,
                now,
            ),
        )
    _changed()
    info = get_key(store.conn, spec.name)
    assert info is not None
    return NewKey(key=key, info=info)


def _refuse_taken(conn: sqlite3.Connection, name: str) -> None:
    """``InvalidKey`` when a key, live or revoked, has ``name``: a name is never reused, so the
    read audit's and ``keys list``'s names always mean one key."""
    row = conn.execute("SELECT revoked_at FROM api_keys WHERE name = ?", (name,)).fetchone()
    if row is None:
        return
    if row[0] is None:
        raise InvalidKey(f"a key named {name!r} exists; pick another name")
    raise InvalidKey(f"a revoked key was named {name!r} and keeps its name; pick another")


def get_key(conn: sqlite3.Connection, name: str) -> KeyInfo | None:
    """The key named ``name`` (revoked or not)."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE name = ?", (name,)).fetchone()
    return None if row is None else _info(row)


def list_keys(conn: sqlite3.Connection) -> list[KeyInfo]:
    """Every stored key, oldest first."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, name").fetchall()
    return [_info(row) for row in rows]


def revoke_key(
    store: Store, name: str, now: str, caller: Principal | None = None, default_rate: int = 0
) -> bool:
    """Revoke the key named ``name`` at once; whether a live key had that name.

    ``caller``, the key revoking over HTTP, may only revoke a key that reads no more than
    itself (``BeyondCaller``, 403) when it is ``bound``: a key limited to some audiences or
    hiding fields (its own limits or the field-policy file's) cannot lock out the wider admin
    that made it. An unlimited bootstrap key and the CLI (``None``) revoke any key."""
    if bound(caller):
        _refuse_wider_target(store.conn, caller, name, default_rate)
    with store.transaction() as conn:
        cursor = conn.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (now, name)
        )
    _changed()  # committed: cached principals of this process are dropped before the next check
    return cursor.rowcount > 0


def _refuse_wider_target(
    conn: sqlite3.Connection, caller: Principal, name: str, default_rate: int
) -> None:
    target = get_key(conn, name)
    if target is None or target.revoked_at is not None:
        return  # nothing live to revoke: the caller answers 404
    # What a key may read is what counts: its audiences and hidden fields. Its scopes, trust
    # and rate do not (an admin revokes keys of any scope, a leaked fast key included).
    spec = KeySpec(
        name=target.name,
        scopes=[],
        audiences=target.audiences,
        hide=target.hide,
        rate_per_minute=caller.rate_per_minute,
    )
    wider = beyond(caller, spec, default_rate)
    if wider:
        raise BeyondCaller(
            "a key may not revoke a key that reads more than itself: " + ", ".join(wider),
            beyond=wider,
        )


def lookup_key(conn: sqlite3.Connection, presented: str) -> Principal | None:
    """The live stored key ``presented`` is, or ``None`` (unknown, malformed or revoked)."""
    key_id = _parse(presented)
    if key_id is None:
        return None
    row = conn.execute(
        f"SELECT {_COLUMNS}, digest FROM api_keys WHERE id = ?", (key_id,)
    ).fetchone()
    if row is None or not hmac.compare_digest(str(row[-1]), digest(presented)):
        return None
    info = _info(row[:-1])
    return None if info.revoked_at is not None else _principal(info)


def touch(store: Store, key_id: str, now: str) -> None:
    """Record that a key was used (``last_used_at``)."""
    with store.transaction() as conn:
        conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now, key_id))
