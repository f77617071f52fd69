"""Email redaction in free text reads a long run of address characters once (a performance
review, session 28): the pattern could start at each character of a run with no ``@`` after
it, so 30 KB of digits in a ticket subject took 5 s and 100 KB a minute, on every rebuild of
that profile, holding the store's one writer. Addresses are now found from each ``@`` in one
pass; what is found is what the pattern found (checked against it), and free text is cut to
``REDACTION_WINDOW`` characters before it is redacted."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from context_service.snapshot.redaction import (
    REDACTION_WINDOW,
    OwnContacts,
    _redactor,
    emails_in,
    redact_other_contacts,
)

_BEFORE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_ALPHABET = st.sampled_from([*"ab1.-_@+ x<>é", "example.com", "maya.patel@ex.co"])


@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_the_scan_finds_what_the_pattern_found(text: str) -> None:
    assert list(emails_in(text)) == [m.span() for m in _BEFORE.finditer(text)]


def test_addresses_written_one_after_another_are_each_removed() -> None:
    own = OwnContacts.of([], [], "US")
    text = "ask bob@x.com/alice@y.org or a@b.co+c@d.co"
    cleaned = redact_other_contacts(text, own)
    assert "@" not in cleaned, cleaned
    assert cleaned.count("[email removed]") == 4


def test_free_text_is_cut_before_it_is_redacted() -> None:
    own = OwnContacts.of([], [], "US")
    long = "x" * REDACTION_WINDOW + " write to bob@example.com"
    cleaned = _redactor(own)(long)
    assert cleaned == "x" * REDACTION_WINDOW
