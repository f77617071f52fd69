"""Splink's peak RSS is its own process's, not the parent's that started it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.identity.splink_runner import peak_rss_mb

ROOT = Path(__file__).resolve().parents[2]
_CHILD = "from bench.identity.splink_runner import peak_rss_mb; print(peak_rss_mb())"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc only")
def test_a_child_started_by_a_larger_parent_reports_its_own_peak() -> None:
    ballast = bytearray(256 * 1024 * 1024)
    ballast[::4096] = b"1" * len(range(0, len(ballast), 4096))  # touch every page
    assert peak_rss_mb() > 256
    child = subprocess.run(
        [sys.executable, "-c", _CHILD], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert float(child.stdout) < 200  # a bare interpreter; ru_maxrss would say > 256
    del ballast
