"""The snapshot worker process does not outlive a sync killed with SIGTERM.

``timeout``, systemd or an operator's ``kill`` ends a long ``context-service sync`` with
SIGTERM; the pool is never shut down then, and a worker that did not watch its parent would
wait on its task queue forever, re-parented to init, holding the database open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATIENCE = 30.0  # seconds: a generous bound, not a timing claim


def _children(pid: int) -> list[int]:
    """The ids of the live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_sync_stopped_with_sigterm_leaves_no_snapshot_worker_behind(tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    args = [str(tmp_path / "sync.db"), "12", "8", str(mark)]
    sync = subprocess.Popen([sys.executable, "-m", "tests.snapshot.sync_to_kill", *args], cwd=ROOT)
    helpers: list[int] = []
    try:
        _wait_for(lambda: mark.exists() or sync.poll() is not None, 120)
        assert mark.exists(), "the sync never reached the page where it waits"
        helpers = _children(sync.pid)  # the worker and multiprocessing's resource tracker
        workers = [pid for pid in helpers if _is_worker(pid)]
        assert workers, "the sync started no snapshot worker"
        sync.send_signal(signal.SIGTERM)
        sync.wait(timeout=60)
        _wait_for(lambda: not any(_alive(pid) for pid in workers), PATIENCE)
        assert not any(_alive(pid) for pid in workers)
    finally:
        if sync.poll() is None:
            sync.kill()
            sync.wait()
        for pid in helpers:  # whatever this test started and is still there
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
