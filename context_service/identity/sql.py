"""Small helpers for the engine's set-based queries: ids in chunks, one placeholder each."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

CHUNK = 400  # ids per ``IN (...)``: well under SQLite's parameter limit


def chunks(items: Iterable[int] | Iterable[str]) -> Iterator[list]:  # type: ignore[type-arg]
    """``items`` in lists of at most ``CHUNK``."""
    batch: list = []  # type: ignore[type-arg]
    for item in items:
        batch.append(item)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def placeholders(chunk: list) -> str:  # type: ignore[type-arg]
    """``?,?,...``: one placeholder per item of ``chunk``."""
    return ",".join("?" * len(chunk))
