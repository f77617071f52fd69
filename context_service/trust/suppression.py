"""The suppression list: hashed identifiers of erased people, so a sync cannot re-create them.

Erasing a person stores, for each of their normalized emails, E.164 phones and vendor record
keys (``source/kind/external_id``), an HMAC-SHA256 digest keyed with a random 32-byte key kept
in this database (``trust_meta``). The list holds no identifier in the clear, and without the
key nobody can test guesses against it offline; with the database *and* the key one can, which
is inherent to recognising the person again. Ingestion skips (and reports as ``suppressed``)
every payload whose record key, email, phone or activity owner is on the list. An email is
checked in each form an erasure may have stored it in (``email_forms``: digests made before
normalization folded ``xn--`` domains and accents still match).

To let a person back in (they sign up again and ask for it), ``unsuppress`` removes the digests
of one erasure.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import unicodedata
from collections.abc import Iterable

from context_service.identity.normalize import normalize_email, normalize_phone
from context_service.models import Mapped, RecordKey

_KEY_NAME = "suppression_key"


def _key(conn: sqlite3.Connection) -> bytes:
    row = conn.execute("SELECT value FROM trust_meta WHERE name = ?", (_KEY_NAME,)).fetchone()
    if row is not None:
        return bytes(row[0])
    key = secrets.token_bytes(32)
    conn.execute("INSERT INTO trust_meta (name, value) VALUES (?, ?)", (_KEY_NAME, key))
    return key


def _digest(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def keyed_digest(conn: sqlite3.Connection, kind: str, value: str) -> str:
    """The digest the suppression list keeps of ``kind`` ``value`` (keyed by the store's own
    secret, so it names nothing to whoever lacks the store): what an erasure leaves in place of
    a vendor id it must not keep in the clear."""
    return _digest(_key(conn), kind, value)


def record_value(key: RecordKey) -> str:
    """How a vendor record is named on the list."""
    return f"{key.source}/{key.kind}/{key.external_id}"


def suppress(
    conn: sqlite3.Connection, entries: Iterable[tuple[str, str]], erasure_id: str, now: str
) -> int:
    """Add (kind, normalized value) entries; how many were new. Call inside a transaction."""
    key = _key(conn)
    rows = {(_digest(key, kind, value), kind) for kind, value in entries}
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO suppressions (digest, kind, created_at, erasure_id) "
        "VALUES (?, ?, ?, ?)",
        [(digest, kind, now, erasure_id) for digest, kind in sorted(rows)],
    )
    return conn.total_changes - before


def unsuppress(conn: sqlite3.Connection, erasure_id: str) -> int:
    """Remove one erasure's entries; how many."""
    return conn.execute("DELETE FROM suppressions WHERE erasure_id = ?", (erasure_id,)).rowcount


_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class Guard:
    """Answers "is this payload about a suppressed person?" during one ingest batch."""

    def __init__(self, conn: sqlite3.Connection, key: bytes, region: str) -> None:
        self.conn = conn
        self.key = key
        self.region = region

    @classmethod
    def load(cls, conn: sqlite3.Connection, region: str) -> Guard | None:
        """A guard when the list holds anything, else ``None`` (nothing to check)."""
        if conn.execute("SELECT 1 FROM suppressions LIMIT 1").fetchone() is None:
            return None
        return cls(conn, _key(conn), region)

    def blocks(self, mapped: Mapped) -> bool:
        """Whether ``mapped`` names a suppressed record, email, phone or activity owner."""
        digests = [_digest(self.key, kind, value) for kind, value in self._entries(mapped)]
        marks = ",".join("?" * len(digests))
        sql = f"SELECT 1 FROM suppressions WHERE digest IN ({marks}) LIMIT 1"
        return self.conn.execute(sql, digests).fetchone() is not None

    def learn(self, mapped: Mapped, now: str) -> bool:
        """Whether ``mapped`` is a person record blocked for an erased person's email, phone or
        record (a link: a re-created Stripe customer whose metadata names her Shopify
        customer); if so its own key goes on the list too (under the same erasure), so that
        activities naming only that key (a spreadsheet order on the row's new content key, a
        vendor order or charge of a re-created customer) are blocked with it, in this batch and
        later ones."""
        if mapped.person is None:
            return False
        entries = person_entries(mapped.person.emails, mapped.person.phones, self.region)
        entries += [("record", record_value(link)) for link in mapped.person.links]
        digests = [_digest(self.key, kind, value) for kind, value in entries]
        if not digests:
            return False
        marks = ",".join("?" * len(digests))
        row = self.conn.execute(
            f"SELECT erasure_id FROM suppressions WHERE digest IN ({marks}) LIMIT 1", digests
        ).fetchone()
        if row is None:
            return False
        suppress(self.conn, [("record", record_value(mapped.key))], str(row[0]), now)
        return True

    def names_erased(self, key: RecordKey, emails: Iterable[str], phones: Iterable[str]) -> bool:
        """Whether a record key, or one of these emails or phones, is on the list."""
        entries = [("record", record_value(key)), *person_entries(emails, phones, self.region)]
        digests = [_digest(self.key, kind, value) for kind, value in entries]
        marks = ",".join("?" * len(digests))
        sql = f"SELECT 1 FROM suppressions WHERE digest IN ({marks}) LIMIT 1"
        return self.conn.execute(sql, digests).fetchone() is not None

    def blocks_raw(self, key: RecordKey, text: str) -> bool:
        """Whether a payload that could not be mapped is about a suppressed person: its own
        record key, or an email address anywhere in its text."""
        emails = _EMAIL_IN_TEXT.findall(text)
        entries = [("record", record_value(key)), *person_entries(emails, (), self.region)]
        digests = [_digest(self.key, kind, value) for kind, value in entries]
        marks = ",".join("?" * len(digests))
        sql = f"SELECT 1 FROM suppressions WHERE digest IN ({marks}) LIMIT 1"
        return self.conn.execute(sql, digests).fetchone() is not None

    def _entries(self, mapped: Mapped) -> list[tuple[str, str]]:
        entries = [("record", record_value(mapped.key))]
        if mapped.person is not None:
            entries += person_entries(mapped.person.emails, mapped.person.phones, self.region)
            entries += [("record", record_value(link)) for link in mapped.person.links]
        if mapped.activity is not None:
            entries += [("record", record_value(owner)) for owner in mapped.activity.owners]
        return entries


def person_entries(
    emails: Iterable[str], phones: Iterable[str], region: str
) -> list[tuple[str, str]]:
    """The normalized (kind, value) entries of some emails and phones, an email in each form
    a digest may have been stored in (``email_forms``)."""
    found: list[tuple[str, str]] = []
    for raw in emails:
        found += [("email", email) for email in email_forms(raw)]
    for raw in phones:
        phone = normalize_phone(raw, region)
        if phone:
            found.append(("phone", phone))
    return found


def email_forms(raw: str) -> list[str]:
    """``raw`` normalized (first), then the other forms of the same address that an erasure may
    have stored: before normalization read ``xn--`` domains as Unicode and composed accents
    (NFC), an address was kept as written, lower-cased (``maya@xn--mnchen-3ya.de``, a
    decomposed ``josé``). A plain ASCII address has one form."""
    email = normalize_email(raw)
    if email is None:
        return []
    if email.isascii():
        return [email]
    local, _, domain = email.rpartition("@")
    locals_ = (local, unicodedata.normalize("NFD", local))
    domains = (domain, unicodedata.normalize("NFD", domain), _ascii_domain(domain))
    forms = [email]
    for other in (f"{lp}@{dp}" for lp in locals_ for dp in domains):
        if other not in forms:
            forms.append(other)
    return forms


def _ascii_domain(domain: str) -> str:
    """A Unicode domain in its ``xn--`` (ACE) form, label by label, as ``normalize_email``
    reads it back."""
    return ".".join(
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        for label in domain.split(".")
    )
