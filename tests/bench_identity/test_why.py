"""Why a missed pair was missed: the reasons in the order the breakdown checks them."""

from __future__ import annotations

from bench.identity.why import _one_group, _reason
from context_service.identity.features import Features
from context_service.identity.model import DEFAULT_MODEL
from context_service.identity.pairs import Thresholds, decide


def _why(a: Features, b: Features) -> str:
    result = decide(a, b, DEFAULT_MODEL, Thresholds())
    return _reason(a, b, (result.link, result.review, result.levels))


def test_names_alone_are_name_only_even_when_other_fields_differ() -> None:
    a = Features(emails=("ann.lee1@example.com",), first="ann", last="lee")
    b = Features(phones=("+14155550134",), first="ann", last="lee")
    assert _why(a, b) == "name only"
    c = Features(emails=("a.lee77@example.org",), first="ann", last="lee")
    assert _why(a, c) == "name only"


def test_related_mailboxes_under_no_common_key_are_not_a_candidate() -> None:
    a = Features(emails=("annlee1234@example.com",), first="ann", last="lee")
    b = Features(emails=("mrs.ann.lee1234@example.org",))  # starts with neither name
    assert _why(a, b) == "not a candidate"


def test_a_pair_that_links_on_its_own_was_refused_by_the_cluster() -> None:
    a = Features(emails=("ann.lee1@example.com",), first="ann", last="lee")
    assert _why(a, a) == "refused by the cluster"


def test_bridges_make_a_split_person_whole_only_when_they_join_every_profile() -> None:
    a, b, c = ("shopify", "customer", "1"), ("stripe", "customer", "2"), ("zendesk", "user", "3")
    predicted = {a: "p1", b: "p2", c: "p3"}
    assert not _one_group([a, b, c], predicted, [])
    assert not _one_group([a, b, c], predicted, [(a, b)])  # c stays apart
    assert _one_group([a, b, c], predicted, [(a, b), (c, b)])
    assert _one_group([a, b], {a: "p1", b: "p1"}, [])  # already whole
