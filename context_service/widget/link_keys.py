"""The two keyed values behind a widget link: the key that signs it, and ``by``, which names
the API key that minted it.

A link is made to travel (helpdesk iframes, proxies' access logs, browser history), so nothing
in it may let its reader test guesses of an API key offline; a bootstrap key is chosen by an
operator and holds every scope. Hence:

- Without ``CONTEXT_SERVICE_WIDGET_SECRET``, links are signed with a random 32-byte secret made
  when the first link is minted and kept in the store (``trust_meta``, beside the suppression
  list's key), never with a key derived from an API key, whose every link's signature would
  confirm a guess of it. Every process serving the store (the server, ``widget-url``, the demo)
  reads the same secret, and rotating API keys leaves open links working.
- ``by`` is an HMAC, under the signing key, of the minting key's fingerprint (the first 16 hex
  digits of its SHA-256, as the field-policy file names a key), not the fingerprint itself (one
  SHA-256 a guess). Opening a link works out the tag of each live key (the configured ones and
  the unrevoked stored ones: a handful) to learn which one minted it, for the revocation check,
  that key's policy limits and the read audit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections.abc import Iterable
from typing import NamedTuple

from context_service.audience.policy import fingerprint
from context_service.store import Store
from context_service.widget.signing import signing_key

OPERATOR_LINK = "cli"  # the read audit's name for a link no API key minted (widget-url, demo)
_META_NAME = "widget_link_key"  # its row in ``trust_meta``
_SECRET_BYTES = 32
_BY_LABEL = b"context-service widget link minter\n"
_BY_HEX = 16  # 64 bits: tells a handful of live keys apart; ``sig`` covers it against forgery


class Minter(NamedTuple):
    """The live API key a link names in ``by``."""

    name: str  # as the read audit names the key: ``bootstrap-N`` or the stored key's name
    fingerprint: str  # as the field-policy file names it


def link_key(widget_secret: str | None, store: Store, *, mint: bool) -> bytes:
    """The key that signs (``mint``) or checks widget links: ``CONTEXT_SERVICE_WIDGET_SECRET``
    when it is set, else the store's own random secret, made by the first link minted."""
    if widget_secret:
        return signing_key(widget_secret, None)
    if mint:
        return signing_key(None, kept_secret(store))
    # A store that has minted no link checks against a key nothing was signed with: a forged
    # link is refused (403), a malformed one still told apart (400), and a GET that anyone
    # may send writes nothing.
    return signing_key(None, stored_secret(store.conn) or secrets.token_bytes(_SECRET_BYTES))


def stored_secret(conn: sqlite3.Connection) -> bytes | None:
    """The store's widget-link secret, if a link was ever minted with it."""
    row = conn.execute("SELECT value FROM trust_meta WHERE name = ?", (_META_NAME,)).fetchone()
    return None if row is None else bytes(row[0])


def kept_secret(store: Store) -> bytes:
    """The store's widget-link secret, made and kept the first time it is needed.

    ``INSERT OR IGNORE`` and the read back run in one write transaction, so two processes
    minting their first link at once end up with the one secret that was kept."""
    found = stored_secret(store.conn)
    if found is not None:
        return found
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO trust_meta (name, value) VALUES (?, ?)",
            (_META_NAME, secrets.token_bytes(_SECRET_BYTES)),
        )
        row = conn.execute("SELECT value FROM trust_meta WHERE name = ?", (_META_NAME,)).fetchone()
    return bytes(row[0])


def minter_tag(key: bytes, api_key: str) -> str:
    """The ``by`` of a link that ``api_key`` mints under the signing ``key``."""
    return _tag(key, fingerprint(api_key))


def live_minter(
    conn: sqlite3.Connection, key: bytes, by: str, configured: Iterable[str]
) -> Minter | None:
    """The live key whose tag under ``key`` is ``by``: a configured key (``bootstrap-N``,
    numbered as the API names it) or an unrevoked stored key; ``None`` when no live key has
    that tag (it was revoked, or the link was minted before ``by`` was keyed)."""
    candidates = [
        Minter(f"bootstrap-{number}", fingerprint(api_key))
        for number, api_key in enumerate((k for k in configured if k), start=1)
    ]
    rows = conn.execute(
        "SELECT name, substr(digest, 1, 16) FROM api_keys WHERE revoked_at IS NULL "
        "ORDER BY created_at, name"
    )
    candidates += [Minter(str(name), str(print_)) for name, print_ in rows]
    found = None
    for candidate in candidates:  # every one compared, whichever matches first
        if hmac.compare_digest(_tag(key, candidate.fingerprint).encode(), by.encode()):
            found = found or candidate
    return found


def _tag(key: bytes, key_fingerprint: str) -> str:
    digest = hmac.new(key, _BY_LABEL + key_fingerprint.encode(), hashlib.sha256).hexdigest()
    return digest[:_BY_HEX]
