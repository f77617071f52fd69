"""A snapshot's emails keep the record's own order (its primary email first), in every process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from context_service.store import Store
from tests.audience.helpers import snapshot_of
from tests.conftest import Ingest
from tests.payloads import hubspot_contact

_PROGRAM = """
import sys
from context_service.snapshot.assemble import _emails, _Person
from context_service.models import PersonFacet
people = [_Person(None, PersonFacet(emails=sys.argv[1:]))]
print(",".join(_emails(people)))
"""


def test_the_primary_email_comes_first(store: Store, ingest: Ingest) -> None:
    ingest(
        hubspot_contact(
            "609",
            "larry_bernard69@mail.example.com",
            "Larry",
            "Bernard",
            hs_additional_emails="larry.bernard.69@old.example",
        )
    )
    snap = snapshot_of(store, "larry_bernard69@mail.example.com")
    assert snap.identity.emails == [
        "larry_bernard69@mail.example.com",
        "larry.bernard.69@old.example",
    ]


def test_email_order_does_not_depend_on_the_process_hash_seed() -> None:
    emails = ["zed@example.com", "amy@example.com", "kim@example.com", "bob@example.com"]
    seen = set()
    for seed in range(8):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        out = subprocess.run(
            [sys.executable, "-c", _PROGRAM, *emails],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        seen.add(out.stdout.strip())
    assert seen == {",".join(emails)}
