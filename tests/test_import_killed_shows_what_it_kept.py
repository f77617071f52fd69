"""An import killed without a word (SIGKILL, out of memory) shows in ``status`` what it had
committed: its run counts each batch's rows as the batch commits (``records_seen: 0, pages: 0``
was all it showed, the counts being written only at its end), and says that importing the file
again reads it from the start (an import has no cursor to resume from).

The import kills itself with SIGKILL right after its first batch commits: a real process's
death at a known point, with no timing to race."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from context_service.sheets.importer import BATCH_ROWS
from tests.cli_process import ROOT, cli_env, run_cli

ROWS = BATCH_ROWS + 500  # one whole batch, then a part of the next
BAD_EVERY = 50  # every 50th row's email is no email: kept raw, rejected

KILLED_AFTER_FIRST_BATCH = (
    "import os, signal, sys\n"
    "import context_service.sheets.importer as importer\n"
    "flush = importer._Flusher.flush\n"
    "def flush_then_die(self, *args):\n"
    "    flush(self, *args)\n"
    "    if self.batches == 1:\n"
    "        os.kill(os.getpid(), signal.SIGKILL)\n"
    "importer._Flusher.flush = flush_then_die\n"
    "import context_service.cli as cli\n"
    "sys.exit(cli.main())\n"
)


def _people(path: Path) -> Path:
    lines = ["email,first_name,last_name"]
    for i in range(ROWS):
        email = "not-an-email" if i % BAD_EVERY == 0 else f"person{i}@example.org"
        lines.append(f"{email},First{i},Last{i}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_killed_import_shows_what_it_committed_and_how_to_finish(tmp_path: Path) -> None:
    db = tmp_path / "import.db"
    people = _people(tmp_path / "people.csv")
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_AFTER_FIRST_BATCH,
            "import",
            str(people),
            "--source",
            "legacy",
        ],
        cwd=ROOT,
        env=cli_env(db),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    done = run_cli("status", "--json", db=db)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)["legacy"]["last_run"]
    assert (run["mode"], run["status"]) == ("import", "interrupted")
    assert run["records_seen"] == BATCH_ROWS  # the first batch's rows, all committed
    assert run["records_rejected"] == BATCH_ROWS // BAD_EVERY
    assert run["pages"] == 1
    assert "resumes from the last committed page" not in run["error"]
    assert "importing the file again reads it from the start" in run["error"]
    text = run_cli("status", db=db).stdout
    assert "importing the file again reads it from the start" in text


def test_a_whole_import_counts_every_row_once(tmp_path: Path) -> None:
    db = tmp_path / "import.db"
    people = _people(tmp_path / "people.csv")
    done = run_cli("import", str(people), "--source", "legacy", db=db, timeout=300)
    assert done.returncode == 0, done.stderr
    run = json.loads(run_cli("status", "--json", db=db).stdout)["legacy"]["last_run"]
    assert (run["status"], run["records_seen"]) == ("ok", ROWS)
    assert run["records_rejected"] == len(range(0, ROWS, BAD_EVERY))
    assert run["pages"] == 2  # one per batch
