"""What clustering one large component again costs, in CPU seconds (``time.process_time``).

    .venv/bin/python -m bench.identity.recluster [--size 200] [--grow 300]

Two situations the engine meets when many records share one mailbox:

* **move**: two components of ``--size`` records each (one person's records on one mailbox,
  each with a handle of its own) are clustered; then one record moves from the first to the
  second (its mailbox and name change), and both components are clustered again, as
  ``Engine._recluster`` does after that change;
* **grow**: one component grows one record at a time to ``--grow`` records, clustered again
  after each record, as webhooks adding records to one profile make the engine do.

Both call ``cluster.cluster_component`` directly, with ``DEFAULT_MODEL`` and default thresholds:
no store, so the figures are the clustering alone. A ``digest`` of every result is printed so
that two trees can be shown to give the same clusters, links and reviews.
"""

from __future__ import annotations

import argparse
import hashlib
import time

import msgspec

from context_service.identity.cluster import ComponentResult, cluster_component
from context_service.identity.features import Features
from context_service.identity.model import DEFAULT_MODEL
from context_service.identity.pairs import Thresholds

_encode = msgspec.msgpack.Encoder().encode


def _record(person: str, first: str, last: str, i: int) -> Features:
    return Features(
        emails=(f"{person}@example.com", f"{first}{last}{i:05d}@example.org"),
        first=first,
        last=last,
        own=f"zendesk:user:{i}",
    )


def _cluster(features: dict[int, Features], digest: hashlib._Hash) -> ComponentResult:
    result = cluster_component(features, DEFAULT_MODEL, Thresholds())
    digest.update(_encode(result))
    return result


def move(size: int, digest: hashlib._Hash) -> float:
    """CPU seconds to cluster both components again after one record moved between them."""
    left = {i: _record("ann.lee", "ann", "lee", i) for i in range(size)}
    right = {size + i: _record("bo.park", "bo", "park", size + i) for i in range(size)}
    _cluster(left, digest)
    _cluster(right, digest)
    moved = left.pop(0)
    right[0] = msgspec.structs.replace(
        moved, emails=("bo.park@example.com", *moved.emails[1:]), first="bo", last="park"
    )
    start = time.process_time()
    _cluster(left, digest)
    _cluster(right, digest)
    return time.process_time() - start


def grow(size: int, digest: hashlib._Hash) -> float:
    """CPU seconds to cluster one component again after each of ``size`` records arrives."""
    features: dict[int, Features] = {}
    start = time.process_time()
    for i in range(size):
        features[i] = _record("cy.diaz", "cy", "diaz", i)
        if len(features) > 1:
            _cluster(features, digest)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200, help="records per component (move)")
    parser.add_argument("--grow", type=int, default=300, help="records to grow one cluster to")
    args = parser.parse_args()
    digest = hashlib.sha256()
    moved = move(args.size, digest)
    grown = grow(args.grow, digest)
    print(f"move one record between two {args.size}-record components: {moved:.3f} s CPU")
    print(f"grow one component to {args.grow} records one at a time: {grown:.3f} s CPU")
    print(f"digest {digest.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
