"""Schema migrations, applied in order and recorded in the ``_migrations`` table.

Rules: a migration is never edited once released; new ones are appended. Each runs inside one
transaction together with its ``_migrations`` row, so a crash leaves either both or neither, and
checks that row again inside it, so processes that open one database at once apply it once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from context_service.errors import MigrationError
from context_service.store import migration_scripts as scripts
from context_service.store import migration_steps as steps

# A migration: an SQL script, or a step that reads the stored schema first (``migration_steps``),
# run on the connection inside the migration's transaction.
Migration = str | Callable[[sqlite3.Connection], None]

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

MIGRATIONS: list[tuple[str, Migration]] = [
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
    ("0016_dormant_aliases", scripts.V16_DORMANT_ALIASES),
    ("0017_rebuild_snapshots", scripts.V17_REBUILD_SNAPSHOTS),
    ("0018_drop_stale_summaries", scripts.V18_DROP_STALE_SUMMARIES),
    ("0019_sync_listings", scripts.V19_SYNC_LISTINGS),
    ("0020_inbox_retry", scripts.V20_INBOX_RETRY),
    ("0021_departed_members", scripts.V21_DEPARTED_MEMBERS),
    ("0022_redact_again", scripts.V22_REDACT_AGAIN),
    ("0023_run_liveness", scripts.V23_RUN_LIVENESS),
    ("0024_snapshots_bounded", scripts.V24_SNAPSHOTS_BOUNDED),
    ("0025_posted_notes", scripts.V25_POSTED_NOTES),
    ("0026_run_process_instance", scripts.V26_RUN_PROCESS_INSTANCE),
    ("0027_snapshots_count_what_they_cut", scripts.V27_SNAPSHOTS_COUNT_WHAT_THEY_CUT),
    ("0028_llm_summary_leases", scripts.V28_LLM_SUMMARY_LEASES),
    ("0029_merge_waits", scripts.V29_MERGE_WAITS),
    ("0030_inbox_records", scripts.V30_INBOX_RECORDS),
    ("0031_alias_members_own_records", scripts.V31_ALIAS_MEMBERS_OWN_RECORDS),
    ("0032_redact_and_invoices_again", scripts.V32_REDACT_AND_INVOICES_AGAIN),
    ("0033_mark_unbuilt_identity_index", scripts.V33_MARK_UNBUILT_INDEX),
    ("0034_remap_zendesk", scripts.V34_REMAP_ZENDESK),
    ("0035_snapshot_refresh_at", scripts.V35_SNAPSHOT_REFRESH_AT),
    ("0036_remap_orders_and_charges", scripts.V36_REMAP_ORDERS_AND_CHARGES),
    ("0037_sheet_rows", scripts.V37_SHEET_ROWS),
    ("0038_decision_log", scripts.V38_DECISION_LOG),
    ("0039_redact_dots_and_accounts", scripts.V39_REDACT_DOTS_AND_ACCOUNTS),
    ("0040_sheet_rows_owned", scripts.V40_SHEET_ROWS_OWNED),
    ("0041_posted_notes_confirmed", scripts.V41_POSTED_NOTES_CONFIRMED),
    ("0042_remove_invisible_characters", scripts.V42_REMOVE_INVISIBLE_CHARACTERS),
    ("0043_dormant_alias_host", scripts.V43_DORMANT_ALIAS_HOST),
    ("0044_snapshot_format", scripts.V44_SNAPSHOT_FORMAT),
    ("0045_review_items_autoincrement", steps.review_items_autoincrement),
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


def _apply(db: sqlite_utils.Database, name: str, script: Migration) -> bool:
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
        if callable(script):
            script(conn)
        else:
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
    """The script's statements, split at each ``;`` that ends one (``sqlite3.complete_statement``:
    not one inside a trigger's body or a quoted string)."""
    statements: list[str] = []
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \t\n;"):
        statements.append(pending.strip())
    return statements
