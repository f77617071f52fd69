"""Schema migrations, applied in order and recorded in the ``_migrations`` table.

Rules: a migration is never edited once released; new ones are appended. Each runs inside one
transaction together with its ``_migrations`` row, so a crash leaves either both or neither, and
checks that row again inside it, so processes that open one database at once apply it once.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import sqlite_utils

from context_service.errors import MigrationError

_V1_CORE = """
CREATE TABLE records (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    external_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    updated_at TEXT,
    fetched_at TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    mapped BLOB,
    error TEXT,
    UNIQUE (source, kind, external_id)
);
CREATE INDEX records_errors ON records (source) WHERE error IS NOT NULL;
CREATE INDEX records_external ON records (source, external_id);

CREATE TABLE identifiers (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    strong INTEGER NOT NULL,
    PRIMARY KEY (kind, value, record_id)
) WITHOUT ROWID;
CREATE INDEX identifiers_record ON identifiers (record_id);

CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE profile_members (
    record_id INTEGER PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL REFERENCES profiles (id)
);
CREATE INDEX profile_members_profile ON profile_members (profile_id);

CREATE TABLE profile_aliases (
    alias TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL REFERENCES profiles (id),
    created_at TEXT NOT NULL
);

CREATE TABLE activities (
    owner_source TEXT NOT NULL,
    owner_kind TEXT NOT NULL,
    owner_external_id TEXT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    PRIMARY KEY (owner_source, owner_kind, owner_external_id, record_id)
) WITHOUT ROWID;
CREATE INDEX activities_record ON activities (record_id);

CREATE TABLE identity_links (
    id INTEGER PRIMARY KEY,
    profile_id TEXT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    other_record_id INTEGER REFERENCES records (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    score REAL NOT NULL,
    evidence TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE INDEX identity_links_profile ON identity_links (profile_id);
CREATE INDEX identity_links_record ON identity_links (record_id);

CREATE TABLE snapshots (
    profile_id TEXT PRIMARY KEY REFERENCES profiles (id),
    version INTEGER NOT NULL,
    generated_at TEXT NOT NULL,
    json BLOB NOT NULL,
    text TEXT NOT NULL
);
"""

_V2_SYNC = """
CREATE TABLE sync_cursors (
    source TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, stream)
);

CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    mode TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    records_seen INTEGER NOT NULL DEFAULT 0,
    records_rejected INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    note TEXT,
    error TEXT
);
CREATE INDEX sync_runs_source ON sync_runs (source, id);

CREATE TABLE webhook_inbox (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    topic TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body BLOB NOT NULL,
    headers TEXT NOT NULL,
    status TEXT NOT NULL,
    applied_at TEXT,
    error TEXT
);
CREATE INDEX webhook_inbox_pending ON webhook_inbox (status) WHERE status = 'pending';

CREATE TABLE webhook_seen (
    source TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    inbox_id INTEGER NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (source, dedup_id)
) WITHOUT ROWID;
"""

_V3_SNAPSHOT_QUEUE = """
CREATE TABLE snapshot_queue (
    profile_id TEXT PRIMARY KEY,
    queued_at TEXT NOT NULL
) WITHOUT ROWID;
"""

_V6_IDENTITY_ENGINE = """
CREATE TABLE identity_features (
    record_id INTEGER PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    features BLOB NOT NULL
);

CREATE TABLE identity_edges (
    a INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    b INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    link INTEGER NOT NULL,
    probability REAL NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX identity_edges_b ON identity_edges (b);

CREATE TABLE identity_decisions (
    a INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    b INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    decision TEXT NOT NULL CHECK (decision IN ('together', 'apart')),
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX identity_decisions_b ON identity_decisions (b);

CREATE TABLE review_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    a INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    b INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    probability REAL NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    UNIQUE (a, b)
);
CREATE INDEX review_items_open ON review_items (status, id);
CREATE INDEX review_items_b ON review_items (b);

CREATE TABLE identity_model (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    model TEXT NOT NULL,
    trained_at TEXT NOT NULL
);
"""

_V4_LLM_SUMMARIES = """
CREATE TABLE llm_summaries (
    profile_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    audience TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (profile_id, version, audience, prompt_version, model)
) WITHOUT ROWID;
"""

_V7_ACTIVITY_REFS = """
CREATE TABLE activity_refs (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, record_id)
) WITHOUT ROWID;
CREATE INDEX activity_refs_record ON activity_refs (record_id);
"""

_V5_TRUST = """
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    digest TEXT NOT NULL,
    scopes TEXT NOT NULL,
    audiences TEXT,
    hide TEXT NOT NULL DEFAULT '[]',
    trusted_backend INTEGER NOT NULL DEFAULT 0,
    rate_per_minute INTEGER,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE read_audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    key_name TEXT NOT NULL,
    profile_id TEXT,
    audience TEXT NOT NULL,
    verified INTEGER NOT NULL,
    channel TEXT NOT NULL
);
CREATE INDEX read_audit_profile ON read_audit (profile_id, id);
CREATE INDEX read_audit_at ON read_audit (at);

CREATE TABLE suppressions (
    digest TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    erasure_id TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE erasures (
    id TEXT PRIMARY KEY,
    requested_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    erased_at TEXT NOT NULL,
    records INTEGER NOT NULL,
    identifiers INTEGER NOT NULL
);

CREATE TABLE trust_meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
"""

# Foreign keys whose child column had no index: deleting a profile or a record made SQLite
# scan the whole child table (every alias, every identity link) to enforce them.
_V8_FK_INDEXES = """
CREATE INDEX IF NOT EXISTS profile_aliases_profile ON profile_aliases (profile_id);
CREATE INDEX IF NOT EXISTS identity_links_other ON identity_links (other_record_id)
    WHERE other_record_id IS NOT NULL;
"""

# A cached LLM summary is only valid for the field view it was written from: a key that may
# see less must never be served a summary made from a wider view. The table is a cache, so it is
# rebuilt empty with the view in its key.
_V9_SUMMARY_VIEW = """
DROP TABLE llm_summaries;
CREATE TABLE llm_summaries (
    profile_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    audience TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    view TEXT NOT NULL,
    PRIMARY KEY (profile_id, version, audience, view, prompt_version, model)
) WITHOUT ROWID;
"""

# Facts about the identity index itself (which version of the blocking keys built it).
_V10_IDENTITY_META = """
CREATE TABLE identity_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

# A vendor id typed into a chat (a Zendesk ticket number) is looked up without its source or
# kind: index the id alone (it also serves lookups by source and id, which read the few rows
# with that id). Before, a ticket id scanned every record (25 ms at 28k records).
_V11_EXTERNAL_ID_INDEX = """
DROP INDEX records_external;
CREATE INDEX records_external_id ON records (external_id);
"""

# A payload that cannot be mapped, for a record whose good version is stored: the good
# version stays in effect (its profile keeps its data) and the raw payload is kept here, with
# its reason in ``error``, until a newer good version replaces both.
_V12_REJECTED_PAYLOAD = """
ALTER TABLE records ADD COLUMN rejected_payload TEXT;
"""


# Inbox counts (``GET /v1/sync``, ``context-service status``) and the retention purge read
# only the status, source and time, but those follow the body in each row, so without an index
# every count read every stored body: about a second at 200,000 deliveries, 50 ms with it.
_V13_INBOX_STATUS_INDEX = """
CREATE INDEX webhook_inbox_status ON webhook_inbox (status, source, received_at);
"""

# Which records each merged-away profile id held when it became an alias, so that the id
# follows its records when a split or new evidence moves them to another profile.
_V14_ALIAS_MEMBERS = """
CREATE TABLE profile_alias_members (
    alias TEXT NOT NULL REFERENCES profile_aliases (alias) ON DELETE CASCADE,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    PRIMARY KEY (alias, record_id)
) WITHOUT ROWID;
CREATE INDEX profile_alias_members_record ON profile_alias_members (record_id);
"""

# Requests for a person's data passed on by a vendor (Shopify ``customers/data_request``), kept
# until the operator has answered them; a vendor's request id is recorded once.
_V15_ACCESS_REQUESTS = """
CREATE TABLE access_requests (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    request_id TEXT,
    account TEXT,
    kind TEXT NOT NULL,
    external_id TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    records TEXT NOT NULL,
    received_at TEXT NOT NULL,
    inbox_id INTEGER,
    status TEXT NOT NULL DEFAULT 'open',
    closed_at TEXT
);
CREATE UNIQUE INDEX access_requests_vendor_id ON access_requests (source, request_id)
    WHERE request_id IS NOT NULL;
CREATE INDEX access_requests_status ON access_requests (status, source);
"""

# A merged-away id whose records are all gone (or split evenly) stops resolving, but remembers
# its records here instead of forgetting them, so that it names them again when they come back
# (``store.aliases``); a record's deletion (an erasure) removes it from this memory too.
_V16_DORMANT_ALIASES = """
CREATE TABLE dormant_alias_members (
    alias TEXT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    alias_created_at TEXT NOT NULL,
    PRIMARY KEY (alias, record_id)
) WITHOUT ROWID;
CREATE INDEX dormant_alias_members_record ON dormant_alias_members (record_id);
"""

# Snapshots stored before 2026-11-30 may hold card numbers a customer typed (redaction moved
# to before a snapshot is stored) and older wording: every profile is queued once, and the
# queue is built by the next ``serve`` start-up, sync or import.
_V17_REBUILD_SNAPSHOTS = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
"""

# The LLM summaries are a cache keyed by profile version; 0017 rebuilds every snapshot at its
# version, so a summary made from a snapshot before it (which may quote a card number) goes.
_V18_DROP_STALE_SUMMARIES = """
DELETE FROM llm_summaries;
"""

# A listing of every object of a kind (a full Stripe backfill) that started from the top, and
# when: once it reaches its end, what it did not bring is looked up and retired, also when the
# run that started it was interrupted.
_V19_SYNC_LISTINGS = """
CREATE TABLE sync_listings (
    source TEXT NOT NULL,
    stream TEXT NOT NULL,
    kind TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (source, stream)
) WITHOUT ROWID;
"""

# A delivery that waits for its vendor (a refetch answered 429/503) is tried again after a
# growing delay, not on every pass: each pass takes the oldest pending deliveries, so without
# it a hundred waiting ones would hold up every newer delivery and call the vendor a hundred
# times each pass. The pending index gains the time, so a pass skips the waiting ones in it.
_V20_INBOX_RETRY = """
ALTER TABLE webhook_inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_inbox ADD COLUMN next_attempt_at TEXT;
DROP INDEX webhook_inbox_pending;
CREATE INDEX webhook_inbox_pending ON webhook_inbox (status, next_attempt_at)
    WHERE status = 'pending';
"""

# The profile a person record left when its source deleted it (``profiles.remove_member``), so
# an erasure request that comes after the deletion (Shopify ``customers/redact`` after
# ``customers/delete``, HubSpot ``privacyDeletion`` after ``deletion``) still reaches the person.
# A profile id is all it holds; the row goes with its record.
_V21_DEPARTED_MEMBERS = """
CREATE TABLE departed_members (
    record_id INTEGER PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    profile_id TEXT NOT NULL
);
CREATE INDEX departed_members_profile ON departed_members (profile_id);
"""

# Snapshots stored before 2026-11-30 evening may hold a card number typed beside other digits
# (an expiry, an order number) or a lower-case IBAN, which redaction now finds, and show
# conflicting names unquoted: every profile is queued once more, and the LLM summaries made
# from the old snapshots go (as 0017 and 0018 did).
_V22_REDACT_AGAIN = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""

# Who runs a sync or an import (process id and host) and when it last showed a sign of life
# (``heartbeat_at``, refreshed as its pages commit): a run killed without a word (SIGKILL, the
# out-of-memory killer) stays ``running`` in this table, and these tell it from a live one.
_V23_RUN_LIVENESS = """
ALTER TABLE sync_runs ADD COLUMN pid INTEGER;
ALTER TABLE sync_runs ADD COLUMN host TEXT;
ALTER TABLE sync_runs ADD COLUMN heartbeat_at TEXT;
"""

# Snapshots written before session 13 hold every member record, other people's emails and
# phones quoted in free text, bidi controls and pasted secrets; and LLM summaries made from them
# may quote those. Every snapshot is built again and the summaries are made afresh.
_V24_SNAPSHOTS_BOUNDED = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""

# Notes posted on helpdesk tickets, by digest: a retried escalation posts its note once across
# every serve worker and restarts (was process memory).
_V25_POSTED_NOTES = """
CREATE TABLE posted_notes (
    digest TEXT PRIMARY KEY,
    posted_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX posted_notes_by_time ON posted_notes (posted_at);
"""

# A process id means something only on one machine since its boot and in one pid namespace: two
# containers may share a host name. A run records which process instance runs it
# (``cursors.process_instance``), so that ``status`` looks its process up only where it ran.
_V26_RUN_PROCESS_INSTANCE = """
ALTER TABLE sync_runs ADD COLUMN process_instance TEXT;
"""

# Snapshots count what their bounded lists leave out and keep every signal of a cut item, cap
# long notes and titles, and remove another customer's '+' numbers however valid; cached LLM
# summaries may quote the customer's own email or phone, which a masked view now hides in text.
_V27_SNAPSHOTS_COUNT_WHAT_THEY_CUT = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""

# One process at a time makes the LLM call for an uncached summary (API workers and the
# refresher share the store): it holds the summary key's lease (a digest of the key, so no
# profile id) until ``expires_at`` (Unix seconds) or until done; a failed call leaves its
# ``reason`` for the readers that waited on it. Rows done or expired a while ago are swept.
_V28_LLM_SUMMARY_LEASES = """
CREATE TABLE llm_summary_leases (
    key TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    reason TEXT
) WITHOUT ROWID;
CREATE INDEX llm_summary_leases_by_expiry ON llm_summary_leases (expires_at);
"""

# A vendor merge whose survivor is not stored yet: the merged-away records (tombstones), by the
# survivor they wait for, so its arrival finds them by an index (``sync.merge_wait``).
_V29_MERGE_WAITS = """
CREATE TABLE merge_waits (
    survivor_source TEXT NOT NULL,
    survivor_kind TEXT NOT NULL,
    survivor_external_id TEXT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    PRIMARY KEY (survivor_source, survivor_kind, survivor_external_id, record_id)
) WITHOUT ROWID;
CREATE INDEX merge_waits_record ON merge_waits (record_id);
"""

# The records each applied webhook delivery named (``suppression.record_value``): an erasure
# blanks the deliveries that named one of the person's records, also those that name it only
# by a short id (a HubSpot ``objectId``) that a search of the bodies' text cannot tell apart.
_V30_INBOX_RECORDS = """
CREATE TABLE webhook_inbox_records (
    record TEXT NOT NULL,
    inbox_id INTEGER NOT NULL REFERENCES webhook_inbox (id) ON DELETE CASCADE,
    PRIMARY KEY (record, inbox_id)
) WITHOUT ROWID;
CREATE INDEX webhook_inbox_records_inbox ON webhook_inbox_records (inbox_id);
"""

# Which records an alias remembers as taken over (``taken_over``: the profile it merged into
# took them over from it, so they count for the alias, not that profile) and which it only
# follows (0: the survivor of a vendor merge of one of its records, which stays its profile's
# own). Stores written before this knew no difference; they are repaired as far as SQL can:
# - an alias remembering the survivor of a vendor merge (a tombstone of its source and kind
#   names it in ``merged_into``) follows it (an alias that held that survivor itself cannot be
#   told apart, and follows it too);
# - an alias made by merging a profile that had taken records over from an earlier alias
#   remembered those too: where an earlier alias pointing at the same profile remembers a
#   record as well, the later one forgets it (unless that leaves it nothing), and such an
#   alias is pointed at the one profile holding most of what it remembers now (where none or
#   several do, it stays until the next change to its profiles moves it or puts it to sleep);
# - a record deleted at its source that an alias pointing at its profile remembers as taken
#   over counts for that alias (the innermost), as ``profiles.remove_member`` now records. One
#   deleted before a split that has since moved that alias still counts for the profile
#   it left: nothing recorded tells the two apart.
_V31_ALIAS_MEMBERS_OWN_RECORDS = """
ALTER TABLE profile_alias_members ADD COLUMN taken_over INTEGER NOT NULL DEFAULT 1;
ALTER TABLE dormant_alias_members ADD COLUMN taken_over INTEGER NOT NULL DEFAULT 1;
CREATE TEMP TABLE _v31_survivors AS
SELECT DISTINCT s.id AS record_id FROM records m JOIN records s
    ON s.source = m.source AND s.kind = m.kind
    AND s.external_id = json_extract(CAST(m.mapped AS TEXT), '$.merged_into')
WHERE m.deleted = 1 AND m.mapped IS NOT NULL AND json_valid(CAST(m.mapped AS TEXT))
    AND json_extract(CAST(m.mapped AS TEXT), '$.merged_into') IS NOT NULL;
UPDATE profile_alias_members SET taken_over = 0
WHERE record_id IN (SELECT record_id FROM _v31_survivors);
UPDATE dormant_alias_members SET taken_over = 0
WHERE record_id IN (SELECT record_id FROM _v31_survivors);
DROP TABLE _v31_survivors;
CREATE TEMP TABLE _v31_inner AS
SELECT x.alias, x.record_id FROM profile_alias_members x
JOIN profile_aliases ax ON ax.alias = x.alias
WHERE x.taken_over = 1 AND EXISTS (
    SELECT 1 FROM profile_alias_members y JOIN profile_aliases ay ON ay.alias = y.alias
    WHERE y.record_id = x.record_id AND y.alias != x.alias AND y.taken_over = 1
    AND ay.profile_id = ax.profile_id
    AND (ay.created_at < ax.created_at OR (ay.created_at = ax.created_at AND ay.rowid < ax.rowid))
);
DELETE FROM profile_alias_members
WHERE (alias, record_id) IN (
    SELECT d.alias, d.record_id FROM _v31_inner d
    WHERE (SELECT count(*) FROM profile_alias_members k WHERE k.alias = d.alias)
        > (SELECT count(*) FROM _v31_inner e WHERE e.alias = d.alias)
);
WITH held AS (
    SELECT am.alias, m.profile_id, count(*) AS n FROM profile_alias_members am
    JOIN profile_members m ON m.record_id = am.record_id
    WHERE am.alias IN (SELECT alias FROM _v31_inner) GROUP BY am.alias, m.profile_id
), top AS (
    SELECT alias, max(n) AS n FROM held GROUP BY alias
), heir AS (
    SELECT h.alias, min(h.profile_id) AS profile_id FROM held h
    JOIN top t ON t.alias = h.alias AND t.n = h.n GROUP BY h.alias HAVING count(*) = 1
)
UPDATE profile_aliases SET profile_id = (
    SELECT heir.profile_id FROM heir WHERE heir.alias = profile_aliases.alias
) WHERE alias IN (SELECT alias FROM heir);
DROP TABLE _v31_inner;
UPDATE departed_members SET profile_id = (
    SELECT a.alias FROM profile_aliases a JOIN profile_alias_members m ON m.alias = a.alias
    WHERE m.record_id = departed_members.record_id AND m.taken_over = 1
    AND a.alias != departed_members.profile_id
    AND a.profile_id = coalesce(
        (SELECT p.profile_id FROM profile_aliases p WHERE p.alias = departed_members.profile_id),
        departed_members.profile_id
    )
    ORDER BY a.created_at, a.rowid LIMIT 1
) WHERE EXISTS (
    SELECT 1 FROM profile_aliases a JOIN profile_alias_members m ON m.alias = a.alias
    WHERE m.record_id = departed_members.record_id AND m.taken_over = 1
    AND a.alias != departed_members.profile_id
    AND a.profile_id = coalesce(
        (SELECT p.profile_id FROM profile_aliases p WHERE p.alias = departed_members.profile_id),
        departed_members.profile_id
    )
)
"""

# Snapshots stored before 2026-12-02 may hold a card number whose groups a customer separated
# by something else than one space or dash (a no-break space, a line break, " - ", "/"), a
# dashed IBAN, a PIN, a URL password or a newer token shape, which redaction now removes; they
# also leave out unpaid invoices older than the newest six and overdue ones, and print
# satisfaction nowhere in the text. Every profile is queued once more, and the LLM summaries
# made from the old snapshots go (as 0022 and 0024 did).
_V32_REDACT_AND_INVOICES_AGAIN = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_core", _V1_CORE),
    ("0002_sync", _V2_SYNC),
    ("0003_snapshot_queue", _V3_SNAPSHOT_QUEUE),
    ("0004_llm_summaries", _V4_LLM_SUMMARIES),
    ("0006_identity_engine", _V6_IDENTITY_ENGINE),
    ("0007_activity_refs", _V7_ACTIVITY_REFS),
    ("0005_trust", _V5_TRUST),
    ("0008_fk_indexes", _V8_FK_INDEXES),
    ("0009_summary_view", _V9_SUMMARY_VIEW),
    ("0010_identity_meta", _V10_IDENTITY_META),
    ("0011_external_id_index", _V11_EXTERNAL_ID_INDEX),
    ("0012_rejected_payload", _V12_REJECTED_PAYLOAD),
    ("0013_inbox_status_index", _V13_INBOX_STATUS_INDEX),
    ("0014_alias_members", _V14_ALIAS_MEMBERS),
    ("0015_access_requests", _V15_ACCESS_REQUESTS),
    ("0016_dormant_aliases", _V16_DORMANT_ALIASES),
    ("0017_rebuild_snapshots", _V17_REBUILD_SNAPSHOTS),
    ("0018_drop_stale_summaries", _V18_DROP_STALE_SUMMARIES),
    ("0019_sync_listings", _V19_SYNC_LISTINGS),
    ("0020_inbox_retry", _V20_INBOX_RETRY),
    ("0021_departed_members", _V21_DEPARTED_MEMBERS),
    ("0022_redact_again", _V22_REDACT_AGAIN),
    ("0023_run_liveness", _V23_RUN_LIVENESS),
    ("0024_snapshots_bounded", _V24_SNAPSHOTS_BOUNDED),
    ("0025_posted_notes", _V25_POSTED_NOTES),
    ("0026_run_process_instance", _V26_RUN_PROCESS_INSTANCE),
    ("0027_snapshots_count_what_they_cut", _V27_SNAPSHOTS_COUNT_WHAT_THEY_CUT),
    ("0028_llm_summary_leases", _V28_LLM_SUMMARY_LEASES),
    ("0029_merge_waits", _V29_MERGE_WAITS),
    ("0030_inbox_records", _V30_INBOX_RECORDS),
    ("0031_alias_members_own_records", _V31_ALIAS_MEMBERS_OWN_RECORDS),
    ("0032_redact_and_invoices_again", _V32_REDACT_AND_INVOICES_AGAIN),
]


def applied(db: sqlite_utils.Database) -> list[str]:
    """Names of the migrations already applied, in order."""
    if "_migrations" not in db.table_names():
        return []
    return [row["name"] for row in db["_migrations"].rows_where(order_by="id")]


def pending(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations not applied to this database yet, in the order ``migrate``
    would apply them; reads only."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone()
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")} if has_table else set()
    return [name for name, _ in MIGRATIONS if name not in done]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply every pending migration; return the names applied now."""
    if "_migrations" not in db.table_names():
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations "
            "(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, applied_at TEXT NOT NULL)"
        )
    done = set(applied(db))
    ran: list[str] = []
    for name, script in MIGRATIONS:
        if name not in done and _apply(db, name, script):
            ran.append(name)
    return ran


def _apply(db: sqlite_utils.Database, name: str, script: str) -> bool:
    """Apply one migration and record it, in one transaction; return whether it ran here.

    What was applied is read again once the write lock is held: another process opening the
    same database at the same time (``serve`` and ``sync`` after an upgrade, two workers) may
    have applied it since ``migrate`` looked, and running it twice would fail.
    """
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
            conn.execute("ROLLBACK")
            return False
        for statement in _statements(script):
            conn.execute(statement)
        conn.execute(
            "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
            (name, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        )
        conn.execute("COMMIT")
        return True
    except Exception as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise MigrationError(f"migration {name} failed: {exc}") from exc


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
