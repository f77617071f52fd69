"""Clustering a large component again decides only the pairs it has not decided before.

One record joining or leaving a component of hundreds re-clusters it whole; every pair that did
not change is taken from a bounded memo of ``pairs.decide`` results, keyed by everything the
decision reads, so the result is the same as deciding every pair afresh."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from context_service.identity import cluster
from context_service.identity.cluster import ComponentResult, cluster_component
from context_service.identity.features import Features
from context_service.identity.model import DEFAULT_MODEL
from context_service.identity.pairs import PairResult, Thresholds, decide


def _record(i: int, mailbox: str = "ann.lee@example.com", first: str = "ann") -> Features:
    return Features(
        emails=(mailbox, f"{first}.handle{i:04d}@example.org"),
        first=first,
        last="lee" if first == "ann" else "park",
        own=f"zendesk:user:{i}",
    )


@pytest.fixture(autouse=True)
def _cold_memo() -> Iterator[None]:
    cluster._memo.clear()
    cluster._conflicts.clear()
    yield
    cluster._memo.clear()
    cluster._conflicts.clear()


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]

    def counted(*args: Any, **kwargs: Any) -> PairResult:
        calls[0] += 1
        return decide(*args, **kwargs)

    monkeypatch.setattr(cluster, "decide", counted)
    return calls


def _fresh(features: dict[int, Features], thresholds: Thresholds | None = None) -> ComponentResult:
    cluster._memo.clear()
    cluster._conflicts.clear()
    return cluster_component(features, DEFAULT_MODEL, thresholds or Thresholds())


def test_one_record_more_decides_only_its_own_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    features = {i: _record(i) for i in range(40)}
    cluster_component(features, DEFAULT_MODEL, Thresholds())
    calls = _counting(monkeypatch)
    features[40] = _record(40)
    result = cluster_component(features, DEFAULT_MODEL, Thresholds())
    assert calls[0] == 40
    assert result == _fresh(features)


def test_a_mailbox_turning_shared_decides_its_pairs_again() -> None:
    features = {i: _record(i) for i in range(30)}
    cluster_component(features, DEFAULT_MODEL, Thresholds())
    features[30] = _record(30, first="bo")  # Bo Park on Ann Lee's mailbox: now shared
    warm = cluster_component(features, DEFAULT_MODEL, Thresholds())
    assert warm == _fresh(features)


def test_other_thresholds_are_not_answered_from_the_memo() -> None:
    features = {i: _record(i) for i in range(30)}
    cluster_component(features, DEFAULT_MODEL, Thresholds())
    strict = Thresholds(link=1.0, review=0.999)
    warm = cluster_component(features, DEFAULT_MODEL, strict)
    assert warm == _fresh(features, strict)


def test_the_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "_MEMO_SIZE", 100)
    features = {i: _record(i) for i in range(40)}  # 780 pairs
    result = cluster_component(features, DEFAULT_MODEL, Thresholds())
    assert len(cluster._memo) <= 100
    assert len(cluster._conflicts) <= 100
    assert result == _fresh(features)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.sampled_from(["ann", "bo", "anne"]), min_size=24, max_size=34),
    mailboxes=st.lists(st.integers(0, 2), min_size=34, max_size=34),
    moved=st.integers(0, 23),
)
def test_a_warm_memo_gives_what_deciding_afresh_gives(
    names: list[str], mailboxes: list[int], moved: int
) -> None:
    def component(which: list[str]) -> dict[int, Features]:
        return {
            i: _record(i, f"shared{mailboxes[i]}@example.com", first=name)
            for i, name in enumerate(which)
        }

    cluster_component(component(names), DEFAULT_MODEL, Thresholds())
    changed = list(names)
    changed[moved] = "bo" if names[moved] != "bo" else "ann"
    features = component(changed)
    del features[(moved + 1) % len(changed)]
    warm = cluster_component(features, DEFAULT_MODEL, Thresholds())
    assert warm == _fresh(features)
