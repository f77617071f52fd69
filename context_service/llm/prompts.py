"""Versioned prompt templates from ``prompts/``, and fences for untrusted text inside them.

A template file ``prompts/<name>.v<N>.md`` has a ``## system`` and a ``## user`` section;
``{{placeholder}}`` marks where the caller's (already fenced) blocks go. Its version
``<name>.v<N>`` is part of every cache key, so a released template is never edited: a change is
a new file with the next number.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

import msgspec

from context_service.errors import ConfigurationError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
_FILE = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<number>\d+)\.md$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class Prompt(msgspec.Struct, frozen=True):
    """A system and a user template, and their version."""

    version: str
    system: str
    user: str

    def render(self, **blocks: str) -> tuple[str, str]:
        """``(system, user)`` with every ``{{name}}`` replaced; a missing block is an error."""
        return self.system, _fill(self.user, blocks)


def fence(label: str, text: str) -> str:
    """Untrusted text as a labelled block whose boundary the text cannot forge.

    The boundary carries a hash of the content, which the content cannot contain.
    """
    tag = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f'<untrusted-data id="{tag}" label="{label}">\n{text}\n</untrusted-data id="{tag}">'


@cache
def latest(name: str, directory: Path = PROMPTS_DIR) -> Prompt:
    """The highest-numbered version of a template."""
    versions = [
        (int(m.group("number")), path)
        for path in directory.glob(f"{name}.v*.md")
        if (m := _FILE.match(path.name)) and m.group("name") == name
    ]
    if not versions:
        raise ConfigurationError(f"no prompt template {name}.v<N>.md in {directory}")
    number, path = max(versions)
    return parse(f"{name}.v{number}", path.read_text(encoding="utf-8"))


def parse(version: str, text: str) -> Prompt:
    """A template file's ``## system`` and ``## user`` sections."""
    parts = re.split(r"^## (system|user)\s*$", text, flags=re.MULTILINE)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if set(sections) != {"system", "user"}:
        raise ConfigurationError(f"prompt {version} needs a '## system' and a '## user' section")
    return Prompt(version=version, system=sections["system"], user=sections["user"])


def _fill(template: str, blocks: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in blocks:
            raise ConfigurationError(f"prompt placeholder {{{{{name}}}}} has no value")
        return blocks[name]

    return _PLACEHOLDER.sub(replace, template)
