"""Profile ids minted together are not one another's neighbours: within a millisecond each id
steps up from the last by a random amount below 2**64, so knowing one's own id
(``find_customer`` hands it to a model) gives no way to count to the ids minted beside it.
They stay ordered by creation (candidates sorted by id list the older first)."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from ulid import ULID

from context_service.identity.audit import PROFILE_ID_FORM
from context_service.store import Store, profiles

NOW = "2026-12-01T00:00:00Z"
RANDOM_BITS = 80


def _parts(profile_id: str) -> tuple[int, int]:
    """A profile id's millisecond and its 80 random bits."""
    ulid = ULID.from_str(profile_id.removeprefix("prof_"))
    return ulid.milliseconds, int(ulid) & ((1 << RANDOM_BITS) - 1)


def _frozen(monkeypatch: pytest.MonkeyPatch) -> int:
    """Stop the clock: every id minted from here on falls in one millisecond."""
    frozen = time.time_ns()
    monkeypatch.setattr(time, "time_ns", lambda: frozen)
    return frozen // 1_000_000


def test_ids_minted_in_one_millisecond_are_not_neighbours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    millisecond = _frozen(monkeypatch)
    ids = [profiles.new_profile_id() for _ in range(500)]
    assert all(re.fullmatch(PROFILE_ID_FORM, pid) for pid in ids)
    parts = [_parts(pid) for pid in ids]
    assert {ms for ms, _ in parts} == {millisecond}
    randoms = sorted(random for _, random in parts)
    assert len(set(randoms)) == len(randoms)
    # Monotonic ULIDs step by 1; these step by a random amount below 2**64, so no id is found
    # by trying the few billion values around another.
    gaps = [later - earlier for earlier, later in itertools.pairwise(randoms)]
    assert min(gaps) > 1 << 32
    # The steps are random, not one stride an attacker could learn from two ids.
    assert len(set(gaps)) == len(gaps)
    assert [_parts(pid)[1] for pid in ids] == randoms  # in creation order


def test_a_batch_of_profiles_made_together_is_not_a_run_of_ids(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _frozen(monkeypatch)
    with store.transaction() as conn:
        made = profiles.create_profiles(conn, 200, NOW)
    randoms = [_parts(pid)[1] for pid in made]
    steps = [later - earlier for earlier, later in itertools.pairwise(randoms)]
    assert all(step > 1 << 32 for step in steps)
    assert made == sorted(made)  # the first made sorts first


def test_ids_stay_time_ordered_and_the_first_made_is_the_oldest(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = profiles.new_profile_id()
    time.sleep(0.002)
    later = profiles.new_profile_id()
    assert _parts(earlier)[0] < _parts(later)[0]
    assert earlier < later  # an older millisecond sorts first
    _frozen(monkeypatch)
    with store.transaction() as conn:
        made = profiles.create_profiles(conn, 50, NOW)
        assert made == sorted(made)  # ids of one millisecond sort in creation order too
        assert profiles.oldest(conn, set(made)) == made[0]
        assert profiles.oldest(conn, set(made[1:])) == made[1]
