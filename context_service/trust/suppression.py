"""The suppression list: hashed identifiers of erased people, so a sync cannot re-create them.

Erasing a person stores, for each of their normalized emails, E.164 phones and vendor record
keys (``source/kind/external_id``), an HMAC-SHA256 digest keyed with a random 32-byte key kept
in this database (``trust_meta``). The list holds no identifier in the clear, and without the
key nobody can test guesses against it offline; with the database *and* the key one can, which
is inherent to recognising the person again. Ingestion skips (and reports as ``suppressed``)
every payload whose record key, email, phone or activity owner is on the list, and an activity
no held person owns (a guest checkout) whose text names a listed email or phone. An email is
checked in each form an erasure may have stored it in (``email_forms``: digests made before
normalization folded ``xn--`` domains and accents still match), and by the mailbox it reaches
(``mailbox_entries``: ``+tag`` and Gmail's dots dropped, as the lookup reads it).

To let a person back in (they sign up again and ask for it), ``unsuppress`` removes the digests
of one erasure.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import unicodedata
from collections.abc import Iterable

from context_service.identity.normalize import normalize_email, normalize_phone
from context_service.models import Mapped, RecordKey
from context_service.trust.contacts import emails_in, mailbox_of, phones_in

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


class Guard:
    """Answers "is this payload about a suppressed person?" during one ingest batch."""

    def __init__(self, conn: sqlite3.Connection, key: bytes, region: str) -> None:
        self.conn = conn
        self.key = key
        self.region = region
        # The person records of the batch not blocked (``learn``): they own their activities
        # however the store is (``blocks_ownerless``).
        self.held: set[RecordKey] = set()

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
        self.held.add(mapped.key)
        entries = checked_entries(mapped.person.emails, mapped.person.phones, self.region)
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
        self.held.discard(mapped.key)
        suppress(self.conn, [("record", record_value(mapped.key))], str(row[0]), now)
        return True

    def names_erased(self, key: RecordKey, emails: Iterable[str], phones: Iterable[str]) -> bool:
        """Whether a record key, or one of these emails or phones, is on the list."""
        entries = [("record", record_value(key)), *checked_entries(emails, phones, self.region)]
        digests = [_digest(self.key, kind, value) for kind, value in entries]
        marks = ",".join("?" * len(digests))
        sql = f"SELECT 1 FROM suppressions WHERE digest IN ({marks}) LIMIT 1"
        return self.conn.execute(sql, digests).fetchone() is not None

    def blocks_raw(self, key: RecordKey, text: str) -> bool:
        """Whether a payload that could not be mapped is about a suppressed person: its own
        record key, or an email address or phone number anywhere in its text."""
        return self._listed([("record", record_value(key)), *self._contacts_of(text)])

    def blocks_ownerless(self, mapped: Mapped, text: str) -> bool:
        """Whether ``mapped`` is an activity no held person owns (a guest checkout, a charge
        without a customer, an order that came before its customer) whose payload names a
        suppressed email or phone in its billing or shipping details. The person records of
        the batch that ``learn`` let through own what names them, stored yet or not."""
        if mapped.activity is None or mapped.deleted or self._owned(mapped):
            return False
        return self._listed(self._contacts_of(text))

    def _owned(self, mapped: Mapped) -> bool:
        """Whether one of the activity's owners is a person record of the batch or a stored
        live one."""
        assert mapped.activity is not None
        for owner in mapped.activity.owners:
            if owner in self.held:
                return True
            row = self.conn.execute(
                "SELECT 1 FROM records WHERE source = ? AND kind = ? AND external_id = ? "
                "AND deleted = 0 AND mapped IS NOT NULL",
                (owner.source, owner.kind, owner.external_id),
            ).fetchone()
            if row is not None:
                return True
        return False

    def _contacts_of(self, text: str) -> list[tuple[str, str]]:
        """The entries of the emails and phones written in ``text``."""
        return checked_entries(emails_in(text), (), self.region) + [
            ("phone", phone) for phone in phones_in(text, self.region)
        ]

    def _listed(self, entries: list[tuple[str, str]]) -> bool:
        """Whether one of these (kind, value) entries is on the list."""
        if not entries:
            return False
        digests = [_digest(self.key, kind, value) for kind, value in entries]
        marks = ",".join("?" * len(digests))
        sql = f"SELECT 1 FROM suppressions WHERE digest IN ({marks}) LIMIT 1"
        return self.conn.execute(sql, digests).fetchone() is not None

    def _entries(self, mapped: Mapped) -> list[tuple[str, str]]:
        entries = [("record", record_value(mapped.key))]
        if mapped.person is not None:
            entries += checked_entries(mapped.person.emails, mapped.person.phones, self.region)
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


def checked_entries(
    emails: Iterable[str], phones: Iterable[str], region: str
) -> list[tuple[str, str]]:
    """What the guard looks up for some emails and phones: their ``person_entries`` and the
    mailbox each email reaches (``mailbox_entries``), as the lookup finds it."""
    found = person_entries(emails, phones, region)
    for email in {value for kind, value in found if kind == "email"}:
        found += mailbox_entries(email)
    return found


def mailbox_entries(email: str) -> list[tuple[str, str]]:
    """The entries of the mailbox a normalized email reaches (``contacts.mailbox_of``): the
    ``mailbox`` an erasure suppresses, and the address the mailbox is itself, which an erasure
    suppressed as an ``email`` (also before mailboxes were suppressed): after erasing
    ``maya.patel@example.com``, ``maya.patel+shop@example.com`` is her mailbox too. None for
    an address the lookup never reads by its mailbox."""
    mailbox = mailbox_of(email)
    if mailbox is None:
        return []
    entries = [("mailbox", mailbox)]
    return entries if mailbox == email else [*entries, ("email", mailbox)]


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
