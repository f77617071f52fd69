"""The store's later migrations (0016 on), as SQL scripts: ``migrations.MIGRATIONS`` lists them
in order with the earlier ones. Each says above it why it exists."""

# A merged-away id whose records are all gone (or split evenly) stops resolving, but remembers
# its records here instead of forgetting them, so that it names them again when they come back
# (``store.aliases``); a record's deletion (an erasure) removes it from this memory too.
V16_DORMANT_ALIASES = """
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
V17_REBUILD_SNAPSHOTS = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
"""

# The LLM summaries are a cache keyed by profile version; 0017 rebuilds every snapshot at its
# version, so a summary made from a snapshot before it (which may quote a card number) goes.
V18_DROP_STALE_SUMMARIES = """
DELETE FROM llm_summaries;
"""

# A listing of every object of a kind (a full Stripe backfill) that started from the top, and
# when: once it reaches its end, what it did not bring is looked up and retired, also when the
# run that started it was interrupted.
V19_SYNC_LISTINGS = """
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
V20_INBOX_RETRY = """
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
V21_DEPARTED_MEMBERS = """
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
V22_REDACT_AGAIN = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""

# Who runs a sync or an import (process id and host) and when it last showed a sign of life
# (``heartbeat_at``, refreshed as its pages commit): a run killed without a word (SIGKILL, the
# out-of-memory killer) stays ``running`` in this table, and these tell it from a live one.
V23_RUN_LIVENESS = """
ALTER TABLE sync_runs ADD COLUMN pid INTEGER;
ALTER TABLE sync_runs ADD COLUMN host TEXT;
ALTER TABLE sync_runs ADD COLUMN heartbeat_at TEXT;
"""

# Snapshots written before session 13 hold every member record, other people's emails and
# phones quoted in free text, bidi controls and pasted secrets; and LLM summaries made from them
# may quote those. Every snapshot is built again and the summaries are made afresh.
V24_SNAPSHOTS_BOUNDED = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""

# Notes posted on helpdesk tickets, by digest: a retried escalation posts its note once across
# every serve worker and restarts (was process memory).
V25_POSTED_NOTES = """
CREATE TABLE posted_notes (
    digest TEXT PRIMARY KEY,
    posted_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX posted_notes_by_time ON posted_notes (posted_at);
"""

# A process id means something only on one machine since its boot and in one pid namespace: two
# containers may share a host name. A run records which process instance runs it
# (``cursors.process_instance``), so that ``status`` looks its process up only where it ran.
V26_RUN_PROCESS_INSTANCE = """
ALTER TABLE sync_runs ADD COLUMN process_instance TEXT;
"""

# Snapshots count what their bounded lists leave out and keep every signal of a cut item, cap
# long notes and titles, and remove another customer's '+' numbers however valid; cached LLM
# summaries may quote the customer's own email or phone, which a masked view now hides in text.
V27_SNAPSHOTS_COUNT_WHAT_THEY_CUT = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""

# One process at a time makes the LLM call for an uncached summary (API workers and the
# refresher share the store): it holds the summary key's lease (a digest of the key, so no
# profile id) until ``expires_at`` (Unix seconds) or until done; a failed call leaves its
# ``reason`` for the readers that waited on it. Rows done or expired a while ago are swept.
V28_LLM_SUMMARY_LEASES = """
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
V29_MERGE_WAITS = """
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
V30_INBOX_RECORDS = """
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
V31_ALIAS_MEMBERS_OWN_RECORDS = """
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
V32_REDACT_AND_INVOICES_AGAIN = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""

# A store written before the identity engine (0006) holds person records that were never
# indexed: 0006 only created the empty index, so every record arriving since was resolved
# against none of the old customers and became a profile of its own (a second "Maya Patel").
# Such a store (or any whose live person records are not all indexed) is marked here, and the
# next ingest (a sync, an import, a webhook) builds the whole index before it resolves anything
# (``sync.unbuilt_index``), as ``resolve --all`` does; ``doctor`` says so until then.
V33_MARK_UNBUILT_INDEX = """
INSERT OR REPLACE INTO identity_meta (key, value)
SELECT 'index_version', 'unbuilt' WHERE EXISTS (
    SELECT 1 FROM records r
    WHERE r.deleted = 0 AND r.mapped IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM identity_features f WHERE f.record_id = r.id)
    AND json_valid(CAST(r.mapped AS TEXT))
    AND json_type(CAST(r.mapped AS TEXT), '$.person') = 'object'
)
"""

# Records keep the mapped form their release made. Until 2026-11-30 evening a Zendesk agent or
# admin was mapped with their email, phone and links, so one with a customer's email merged
# into that customer's profile (their internal tickets with it), and tickets kept inline-image
# token URLs (which open the file without signing in) and a private first note. An identical
# copy fetched again keeps the old form, so the stored Zendesk users and tickets are queued to
# be mapped again from their raw payloads (``sync.remap``), by the next command that syncs,
# imports, resolves, serves or reads profiles; ``after_id`` is the last record done.
V34_REMAP_ZENDESK = """
CREATE TABLE remap_queue (
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    after_id INTEGER NOT NULL DEFAULT 0,
    queued_at TEXT NOT NULL,
    PRIMARY KEY (source, kind)
) WITHOUT ROWID;
INSERT INTO remap_queue (source, kind, queued_at)
SELECT DISTINCT source, kind, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM records
WHERE source = 'zendesk' AND kind IN ('user', 'ticket') AND deleted = 0
"""


# When a snapshot's time-dependent signals change (an unpaid invoice falls overdue, an order
# not shipped leaves the window of recent ones: ``snapshot.moments``), so that the row is built
# again then, with a new version, on read or by ``serve``'s background pass (the partial index
# finds those due without reading the rows that have none). A row stored before holds no moment:
# one that may show such a signal, or miss one, is marked due now and built again once (the
# JSON is stored as a BLOB, which LIKE does not read: it is read as text).
V35_SNAPSHOT_REFRESH_AT = """
ALTER TABLE snapshots ADD COLUMN refresh_at TEXT;
CREATE INDEX snapshots_refresh_at ON snapshots (refresh_at) WHERE refresh_at IS NOT NULL;
UPDATE snapshots SET refresh_at = generated_at
WHERE CAST(json AS TEXT) LIKE '%"due_date":"%' OR CAST(json AS TEXT) LIKE '%unfulfilled%'
    OR CAST(json AS TEXT) LIKE '%unlisted_invoices%';
"""


# Until 2026-12-03 a Shopify test order (bogus gateway) was mapped as a real one (counted in the
# totals, warned about as paid and not shipped), a Shopify refund that moved no money (restock
# only, or its transaction failed) read as "refunded", and a Stripe charge not captured (a hold)
# as "succeeded". Those stored are mapped again from their raw payloads (``sync.remap``).
V36_REMAP_ORDERS_AND_CHARGES = """
INSERT OR IGNORE INTO remap_queue (source, kind, queued_at)
SELECT DISTINCT source, kind, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM records
WHERE ((source = 'shopify' AND kind = 'order') OR (source = 'stripe' AND kind = 'charge'))
AND deleted = 0
"""


# Which files each spreadsheet row's records came from (``sheets.stale``): a row an earlier
# import of a file stored that the file no longer holds (a corrected typo, a removed row) is
# reported, and deleted with ``import --prune``.
V37_SHEET_ROWS = """
CREATE TABLE sheet_rows (
    path TEXT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    PRIMARY KEY (path, record_id)
) WITHOUT ROWID;
CREATE INDEX sheet_rows_record ON sheet_rows (record_id);
"""


# Every person's decision as taken, kept when a later one replaces it (``identity_decisions``
# holds the one in force per pair): a profile's audit lists its history, so a merge that a split
# later undid still shows who merged, when and why. Seeded with the decisions in force.
V38_DECISION_LOG = """
CREATE TABLE identity_decision_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    a INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    b INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    decision TEXT NOT NULL CHECK (decision IN ('together', 'apart')),
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    note TEXT
);
CREATE INDEX identity_decision_log_a ON identity_decision_log (a);
CREATE INDEX identity_decision_log_b ON identity_decision_log (b);
INSERT INTO identity_decision_log (a, b, decision, decided_by, decided_at, note)
SELECT a, b, decision, decided_by, decided_at, note FROM identity_decisions
ORDER BY decided_at, a, b;
"""


# Snapshots stored before 2026-12-03 evening may hold a card number whose groups a customer
# separated by dots (``4111.1111.1111.1111``) or a number named as a bank account or routing
# number (``routing 021000021``), which redaction now removes: every profile is queued once
# more, and the LLM summaries made from the old snapshots go (as 0022 and 0032 did).
V39_REDACT_DOTS_AND_ACCOUNTS = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""


# Whether a spreadsheet row's record was first stored by an import of the file that notes it
# (``sheets.stale``): ``import --prune`` deletes only those. A record stored before (by another
# file, or by any import before 0037) may be held by a file whose rows were never noted.
V40_SHEET_ROWS_OWNED = """
ALTER TABLE sheet_rows ADD COLUMN owned INTEGER NOT NULL DEFAULT 0;
"""

# Whether a claimed helpdesk note was posted (``store.notes``): a claim not yet confirmed is a
# note being posted, and a retry meanwhile hears so instead of "already posted". Claims stored
# before were taken only for notes posted or being posted then: counted as posted.
V41_POSTED_NOTES_CONFIRMED = """
ALTER TABLE posted_notes ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1;
"""

# Snapshots stored before 2026-12-03 night may hold characters no reader sees that a model
# reads (``snapshot.invisible``): Unicode tag characters spelling words after a ticket subject,
# zero-width characters and bidirectional marks; a build now removes them from every string.
# Every profile is queued once more, and the LLM summaries made from the old snapshots, which
# a model wrote after reading those words, go (as 0039 did).
V42_REMOVE_INVISIBLE_CHARACTERS = """
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
DELETE FROM llm_summaries;
"""

# A dormant alias remembers the profile it named when it went to sleep (``host``): the records
# it remembers as taken over are not that profile's own, so a split never leaves that profile's
# id naming only records it took over from the sleeping id (``aliases.remembered_for``). Rows
# from before stay NULL (nothing is known of where they pointed) and count for no profile.
V43_DORMANT_ALIAS_HOST = """
ALTER TABLE dormant_alias_members ADD COLUMN host TEXT;
CREATE INDEX dormant_alias_members_host ON dormant_alias_members (host);
"""

# Which release wrote each snapshot (``snapshots.SNAPSHOT_FORMAT``; 0: an older one) and a
# digest of its content (``stamp``), which only this code writes. An older ``serve`` left
# running on the file during an upgrade drains the queue this and earlier migrations filled with
# its own code (a card number it does not redact kept): its new rows take the default 0, and
# its upserts, which leave ``format`` and ``stamp`` as they were, are marked 0 by the trigger
# (and the stamp cleared: a row without one was last written by an older release, so any write
# that leaves it without one is too, whatever it holds; this code's next write of the content it
# wrote before then differs from NULL, and is not taken for an older release's).
# This code finds such rows on opening the store and on its next write after another process
# committed (``store.db``), and builds them again. Every row is queued, as 0042 did, and marked
# -1: an older release's content that this one has queued (``snapshots.requeue_stale``).
V44_SNAPSHOT_FORMAT = """
ALTER TABLE snapshots ADD COLUMN format INTEGER NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN stamp INTEGER;
CREATE INDEX snapshots_format ON snapshots (format);
CREATE TRIGGER snapshots_written_elsewhere AFTER UPDATE OF json, text ON snapshots
WHEN NEW.stamp IS OLD.stamp
    AND (OLD.stamp IS NULL OR NEW.json IS NOT OLD.json OR NEW.text IS NOT OLD.text)
BEGIN
    UPDATE snapshots SET format = 0, stamp = NULL WHERE profile_id = NEW.profile_id;
END;
INSERT OR IGNORE INTO snapshot_queue (profile_id, queued_at)
SELECT profile_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM snapshots;
UPDATE snapshots SET format = -1;
DELETE FROM llm_summaries;
"""
