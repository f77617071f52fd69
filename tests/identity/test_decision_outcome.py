"""What a merge, split or review decision answers: ``changed`` lists live profiles only.

A caller refreshes every id in ``changed`` (reads its context, re-keys a cache). An id that a
decision merged away is no longer a profile: reading it answers an alias or a 404. Such ids are
answered apart, in ``merged_away``, each with the live profile it now resolves to. The HTTP
answers are tested in ``tests/api/test_profiles_merged_away.py``.
"""

from __future__ import annotations

import pytest

from context_service.cli import main
from context_service.identity.decisions import merge_profiles, split_profile
from context_service.store import Store
from context_service.store.profiles import canonical_id, version_of
from tests.conftest import Ingest
from tests.identity.split_world import CHRIS, CHRIS_CRM, FATHER, NOW, desai_held_together
from tests.identity_helpers import pid, write
from tests.payloads import hubspot_contact, shopify_customer


def _all_live(store: Store, ids: list[str]) -> None:
    for profile_id in ids:
        assert version_of(store.conn, profile_id) is not None, profile_id


def test_a_merge_answers_live_profiles_in_changed_and_the_old_ids_apart(
    store: Store, ingest: Ingest
) -> None:
    ingest(shopify_customer(1, "ann.lee@example.com", "Ann", "Lee"))
    ingest(hubspot_contact("2", "cal.moss@example.com", "Cal", "Moss"))
    ann, cal = pid(store, CHRIS), pid(store, FATHER)

    result = write(store, merge_profiles, [cal, ann], "t", NOW, "US")

    gone = cal if result.profile_id == ann else ann
    assert result.changed == [result.profile_id]
    _all_live(store, result.changed)
    assert [(m.id, m.resolves_to) for m in result.merged_away] == [(gone, result.profile_id)]


def test_a_split_that_lets_the_rest_join_another_profile_answers_it_as_merged_away(
    store: Store, ingest: Ingest
) -> None:
    merged, alone = desai_held_together(store, ingest)

    result = write(store, split_profile, merged, [FATHER], "t", NOW, "US")

    assert pid(store, CHRIS) == pid(store, CHRIS_CRM) == merged
    assert alone not in result.changed
    _all_live(store, result.changed)
    assert set(result.changed) == {merged, pid(store, FATHER)}
    assert [(m.id, m.resolves_to) for m in result.merged_away] == [(alone, merged)]
    assert canonical_id(store.conn, alone) == merged


def test_the_command_line_names_the_merged_away_profile(
    store: Store,
    ingest: Ingest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONTEXT_SERVICE_DB", store.path)
    monkeypatch.setenv("USER", "tester")
    merged, alone = desai_held_together(store, ingest)

    code = main(["profiles", "split", merged, "--record", "hubspot:contact:2"])

    out = capsys.readouterr().out
    assert code == 0
    assert f"the rest is in {merged}" in out
    assert f"{alone} was merged into {merged} (it keeps resolving)" in out
