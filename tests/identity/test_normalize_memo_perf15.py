"""The import path's shortcuts answer exactly what the plain definitions answer.

Memos (``normalize.Memo``) stand in for lru caches, ASCII fast paths skip per-character
loops, and a table stands in for the nickname lookups of blocking: each is checked here
against a copy of the code it replaced.
"""

from __future__ import annotations

import gc
import re
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from context_service.identity import features, names, normalize
from context_service.identity.features import (
    Features,
    blocking_and_name_keys,
    blocking_keys,
    name_keys,
    normalize_company,
    normalize_postcode,
)
from context_service.identity.normalize import (
    MISS,
    NICKNAME_TABLE_NAMES,
    Memo,
    fold,
    generational_suffix,
    is_merge_email,
    is_merge_phone,
    is_placeholder_email,
    name_tokens,
    name_tokens_and_suffix,
    normalize_email,
    normalize_phone,
)

_PHONE_TEXT = st.text(alphabet="0123456789 ()-.+/\tx#٣²e;", max_size=20)
_LOCAL_TEXT = st.text(alphabet="abnr._-+1é٣ ", max_size=12)


def _reference_nanp_national(raw: str) -> str | None:
    """``_nanp_national`` as it was, one loop per character."""
    if any(not ch.isdigit() and ch not in normalize._NANP_PUNCTUATION for ch in raw):
        return None
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw.lstrip().startswith("+") and not digits.startswith("1"):
        return None
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    candidate = "+1" + digits
    return candidate if len(digits) == 10 and normalize._NANP.fullmatch(candidate) else None


def _reference_plain(local: str) -> str:
    base = local.split("+", 1)[0]
    pieces = [piece for piece in re.split(r"[^\w]|_", base) if piece]
    if len(pieces) > 1 and any(len(piece) == 1 for piece in pieces):
        return base
    return "".join(pieces)


def _reference_block_forms(token: str) -> frozenset[str]:
    canonical = normalize.canonical_first(token)
    return frozenset((canonical,)) if canonical != token else normalize.first_name_forms(token)


@given(_PHONE_TEXT)
@example("(415) 555-0134")
@example("1-415-555-0134")
@example("+1 415 555 0134\t")
@example("٣٣٣ 555 0134")
def test_nanp_fast_path_matches_the_loops(raw: str) -> None:
    assert normalize._nanp_national(raw) == _reference_nanp_national(raw)


@given(_PHONE_TEXT, st.sampled_from(["US", "GB", "DE", "CA"]))
def test_remembered_phone_is_the_parsed_one(raw: str, region: str) -> None:
    first = normalize_phone(raw, region)
    assert normalize_phone(raw, region) == first  # from the memo
    assert first == (normalize._normalize_phone(raw, region) if raw else None)
    if first:
        assert is_merge_phone(first) == normalize._is_merge_phone(first)
        assert is_merge_phone(first) == normalize._is_merge_phone(first)


@given(_LOCAL_TEXT)
@example("jamessmith")
@example("n.a")
@example("no_reply+shop")
def test_plain_fast_path_matches_the_split(local: str) -> None:
    assert normalize._plain(local) == _reference_plain(local)


@given(_LOCAL_TEXT, st.sampled_from(["gmail.com", "test.com", "example.org"]))
@example("info", "example.org")
@example("n.a", "example.org")
@example("test", "shop.example")
def test_merge_email_reads_the_placeholder_rules_once(local: str, domain: str) -> None:
    email = normalize_email(f"{local}@{domain}")
    if email is None:
        return
    plain = _reference_plain(email.partition("@")[0])
    expected = not is_placeholder_email(email) and plain not in normalize._GENERIC_PLAIN
    assert is_merge_email(email) == expected
    assert is_merge_email(email) == expected  # from the memo


@given(st.text(max_size=12))
@example("Tomás")
@example("ÆSIR")
def test_fold_memo_and_ascii_path(text: str) -> None:
    expected = (
        text.lower()
        if text.isascii()
        else "".join(
            ch
            for ch in unicodedata.normalize("NFKD", text.casefold())
            .casefold()
            .translate(names._NO_DECOMPOSITION)
            if not unicodedata.combining(ch)
        ).casefold()
    )
    assert fold(text) == expected
    assert fold(text) == expected


@given(st.one_of(st.none(), st.text(alphabet="ab1 -٣Éé", max_size=8)))
@example("sw1a 1aa")
@example("10001")
def test_postcode_fast_path(raw: str | None) -> None:
    text = (raw or "").upper()
    assert normalize_postcode(raw) == "".join(ch for ch in text if ch.isalnum())


@given(st.one_of(st.none(), st.text(alphabet="Acme, Inc.&'() LTDé", max_size=16)))
def test_company_memo(raw: str | None) -> None:
    words = re.split(r"[\s,.&'()-]+", fold(raw or ""))
    expected = " ".join(w for w in words if w and w not in features._COMPANY_SUFFIXES)
    assert normalize_company(raw) == expected
    assert normalize_company(raw) == expected


def test_block_forms_table_matches_the_nickname_rules() -> None:
    for token in [*sorted(NICKNAME_TABLE_NAMES), "zed", "micheal", "", "sam", "bob"]:
        assert features._block_forms(token) == _reference_block_forms(token)


@given(
    st.sampled_from(["sam", "bob", "kenneth", "chris", "", "jo"]),
    st.sampled_from(["harrison", "kwon", "", "al"]),
    st.sampled_from(["", "BT7 1NN"]),
    st.sampled_from(["", "acme"]),
)
def test_blocking_and_name_keys_in_one(first: str, last: str, postcode: str, company: str) -> None:
    record = Features(
        emails=("kenneth.kwon2282@example.com",),
        first=first,
        last=last,
        postcode=postcode,
        street="12 high st",
        company=company,
    )
    blocks, names = blocking_and_name_keys(record)
    assert list(blocks) == list(blocking_keys(record))  # the same keys, in the same order
    assert names == name_keys(record)


@given(st.text(max_size=20), st.text(max_size=20), st.text(max_size=30))
def test_name_tokens_and_suffix_in_one(first: str, last: str, full: str) -> None:
    assert name_tokens_and_suffix(first, last, full) == (
        name_tokens(first, last, full),
        generational_suffix(first, last, full),
    )


def test_memo_empties_when_full_and_is_left_to_the_collector() -> None:
    memo: Memo[str | None] = Memo(size=2)
    assert memo.get("a") is MISS
    memo.put("a", "x")
    memo.put("b", None)
    assert memo.get("b") is None
    memo.put("c", "z")  # full: emptied first
    assert memo.get("a") is MISS
    assert memo.get("c") == "z"
    # Strings and None only: the dict is never tracked, so full collections do not walk it.
    assert not gc.is_tracked(memo._values)


def _reference_name_sets(first: str, last: str) -> tuple[set[str], set[str]]:
    """``name_keys`` and ``_initials`` as they were: every form against every form."""
    if not (first and last):
        return set(), set()
    pairs = {
        "|".join(sorted((one, other)))
        for one in _reference_block_forms(first)
        for other in _reference_block_forms(last)
    }
    initials = {
        "".join(sorted((one[0], other[0])))
        for one in _reference_block_forms(first)
        for other in _reference_block_forms(last)
    }
    return pairs, initials


def test_one_pair_shortcut_matches_every_form_against_every_form() -> None:
    tokens = [*sorted(NICKNAME_TABLE_NAMES)[::7], "zed", "aaron", "sam", "bob", "al", "a", ""]
    for first in tokens:
        for last in tokens:
            record = Features(first=first, last=last)
            pairs, initials = _reference_name_sets(first, last)
            assert list(name_keys(record)) == list(pairs)  # the same order too
            assert list(features._initials(record)) == list(initials)
