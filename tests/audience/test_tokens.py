"""The offline tokenizer: the vendored o200k_base data, exact counts."""

from __future__ import annotations

from context_service.audience.tokens import ENCODING_NAME, count_tokens, encoding


def test_counts_match_known_o200k_values() -> None:
    assert ENCODING_NAME == "o200k_base"
    assert count_tokens("hello world") == 2
    assert count_tokens("") == 0
    # Round-trips, so the ranks are the real ones and not an approximation.
    text = 'Customer: customer-written "Maya Patel", m***@example.com; 49.00 USD past_due'
    assert encoding().decode(encoding().encode_ordinary(text)) == text


def test_special_tokens_are_counted_as_text() -> None:
    assert count_tokens("<|endoftext|>") > 1
