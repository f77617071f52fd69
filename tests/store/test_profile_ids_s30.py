"""Profile ids minted together are not one another's neighbours: the 80 bits after a ULID's
millisecond are random for each id, so knowing one's own id (``find_customer`` hands it to a
model) gives no way to count to the ids minted beside it. They stay time-ordered by their
millisecond, and which profile is older is still read from creation order."""

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
    # Monotonic ULIDs step by 1; 500 random 80-bit values lie about 2**62 apart at the least,
    # so no id is found by trying the few billion values around another.
    gaps = [later - earlier for earlier, later in itertools.pairwise(randoms)]
    assert min(gaps) > 1 << 32
    # Nor do they share their high bits (monotonic ids all do): the top 16 bits of 500 random
    # values take nearly 500 different values.
    assert len({random >> (RANDOM_BITS - 16) for random in randoms}) > 400


def test_a_batch_of_profiles_made_together_is_not_a_run_of_ids(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _frozen(monkeypatch)
    with store.transaction() as conn:
        made = profiles.create_profiles(conn, 200, NOW)
    randoms = [_parts(pid)[1] for pid in made]
    steps = {later - earlier for earlier, later in itertools.pairwise(randoms)}
    assert all(abs(step) > 1 << 32 for step in steps)


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
        # Ids of one millisecond sort in no particular order; the oldest is the first made.
        assert profiles.oldest(conn, set(made)) == made[0]
        assert profiles.oldest(conn, set(made[1:])) == made[1]
