"""Run the real ``context-service`` command in a subprocess against a real SQLite file, with
only the settings a test names (none of the developer's ``CONTEXT_SERVICE_*`` variables)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli_env(db: Path, **settings: str) -> dict[str, str]:
    """The environment of a CLI subprocess: this tree's code, the store ``db`` and
    ``settings`` (``CONTEXT_SERVICE_`` names)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXT_SERVICE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["CONTEXT_SERVICE_DB"] = str(db)
    env.update(settings)
    return env


def command(*args: str) -> list[str]:
    """The argument list that runs ``context-service ARGS`` from this tree."""
    return [sys.executable, "-m", "context_service.cli", *args]


def command_patched(constants: dict[str, int], *args: str) -> list[str]:
    """``command(*args)`` with module constants set first, as ``{"module.NAME": value}``: a
    test's shorter wait (``store.db.BUSY_TIMEOUT_MS``, ``cli.WORKER_STOP_SECONDS``) where a user
    has no setting for it."""
    lines = ["import importlib, sys"]
    for name, value in constants.items():
        module, _, attribute = name.rpartition(".")
        lines.append(f"setattr(importlib.import_module({module!r}), {attribute!r}, {value!r})")
    lines += ["import context_service.cli as cli", "sys.exit(cli.main())"]
    return [sys.executable, "-c", "; ".join(lines), *args]


def run_cli(
    *args: str, db: Path, timeout: float = 120, **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run ``context-service ARGS`` to its end; its output as text."""
    return subprocess.run(
        command(*args),
        cwd=ROOT,
        env=cli_env(db, **settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for_committed_page(db: Path, proc: subprocess.Popen[str], limit: float = 120) -> None:
    """Wait until the sync running in ``proc`` has committed a page of its run."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                row = conn.execute(
                    "SELECT pages FROM sync_runs WHERE status = 'running'"
                ).fetchone()
            conn.close()
            if row and row[0] >= 1:
                return
        except sqlite3.Error:  # not created or migrated yet
            pass
        time.sleep(0.1)
    raise AssertionError(f"the sync committed no page (exit status {proc.poll()})")
