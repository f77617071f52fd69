"""Token counting with OpenAI's ``o200k_base`` encoding, offline.

``tiktoken`` normally downloads its BPE rank file on first use; this service vendors the file
(``audience/data/o200k_base.tiktoken.gz``), checks its SHA-256 against the hash ``tiktoken``
expects, and builds the encoding from it once per process. Counts are exact for GPT-4o-family
models and a close proxy for other modern BPE tokenizers.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from functools import cache
from pathlib import Path

import tiktoken

from context_service.errors import ConfigurationError

ENCODING_NAME = "o200k_base"
_DATA = Path(__file__).with_name("data") / "o200k_base.tiktoken.gz"
_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
# The pre-tokenizer pattern of o200k_base, as in tiktoken_ext/openai_public.py (MIT).
_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_SPECIAL = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}


@cache
def encoding() -> tiktoken.Encoding:
    """The ``o200k_base`` encoding, built from the vendored rank file (once per process)."""
    raw = gzip.decompress(_DATA.read_bytes())
    if hashlib.sha256(raw).hexdigest() != _SHA256:
        raise ConfigurationError(f"tokenizer data {_DATA} does not match its expected hash")
    ranks = {base64.b64decode(token): int(rank) for token, rank in _pairs(raw)}
    return tiktoken.Encoding(
        name=ENCODING_NAME, pat_str=_PATTERN, mergeable_ranks=ranks, special_tokens=_SPECIAL
    )


def _pairs(raw: bytes) -> list[tuple[bytes, bytes]]:
    return [(parts[0], parts[1]) for parts in (line.split() for line in raw.splitlines()) if parts]


def count_tokens(text: str) -> int:
    """How many ``o200k_base`` tokens ``text`` costs (special tokens count as plain text)."""
    return len(encoding().encode_ordinary(text))
