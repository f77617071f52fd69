"""Query plans of statements that run per request: each starts from the few rows it concerns.

SQLite plans these without statistics (the product never runs ANALYZE), so a low-selectivity
prefix of an index (``kind = ?``, ``status = ?``) can look as good to it as the selective
index, and it then reads every email and phone of the store, or every open review item, for
one person. Each test asserts the plan the statement gets, on the product's own schema.
"""

from __future__ import annotations

from context_service.store import Store


def _plan(store: Store, sql: str, params: tuple[object, ...]) -> list[str]:
    rows = store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return [str(row[-1]) for row in rows]


def test_erasure_reads_the_identifiers_of_the_persons_records_only(store: Store) -> None:
    """Erasing a person lists the emails and phones of their records: by record id, not by
    reading every email and phone row of the store (the identifier key's ``kind`` prefix)."""
    from context_service.trust.erasure import CONTACT_IDENTIFIERS_SQL

    for ids in ([1], [1, 2, 3]):
        sql = CONTACT_IDENTIFIERS_SQL.format(marks=", ".join("?" * len(ids)))
        steps = _plan(store, sql, tuple(ids))
        assert any("identifiers_record (record_id=?" in step for step in steps), steps
        assert not any("PRIMARY KEY (kind=?)" in step for step in steps), steps


def test_profile_audit_reads_the_review_items_of_the_members_only(store: Store) -> None:
    """A profile's audit lists the open review items naming one of its records: through the
    ``a`` and ``b`` indexes, not by reading every open item of the review queue."""
    from context_service.identity.audit import OPEN_REVIEWS_TOUCHING_SQL

    for ids in ([1], [1, 2, 3]):
        sql = OPEN_REVIEWS_TOUCHING_SQL.format(marks=", ".join("?" * len(ids)))
        steps = _plan(store, sql, tuple(ids * 2))
        assert "MULTI-INDEX OR" in steps, steps
        assert any("(a=?)" in step for step in steps), steps
        assert any("review_items_b (b=?)" in step for step in steps), steps
        assert not any("(status=?)" in step for step in steps), steps


def test_a_batch_finds_the_merges_waiting_for_its_records_by_survivor(store: Store) -> None:
    """Each batch asks which stored merges wait for the records it brings (a survivor that
    arrived after its merge): by the survivor keys, never by reading every wait."""
    from context_service.sync.merge_wait import WAITS_FOR_SQL

    for n in (1, 3, 300):
        sql = WAITS_FOR_SQL.format(marks=", ".join(["(?, ?, ?)"] * n))
        steps = _plan(store, sql, ("hubspot", "contact", "1") * n)
        assert any(
            step.startswith("SEARCH w USING PRIMARY KEY (survivor_source=?") for step in steps
        )
        assert not any(step.split()[:2] == ["SCAN", "w"] for step in steps), steps
