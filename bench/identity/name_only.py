"""How far a name alone would carry: the precision of linking on a full name held by one person.

    .venv/bin/python -m bench.identity.name_only --records 1000000

Counted on the generator's own truth, without a store: a record that shares no exact identifier
(``View.keys``) with any other record of its person can only be joined to them by name (or by
fuzzy evidence). For each such record, the rule "link when exactly one other person has a record
with this full name" would link it rightly when that person is its own (and no namesake has the
name) and wrongly when the one holder is somebody else. The printed precision is what such a
rule would reach; the resolver does not link on a name alone.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from bench.identity.generate import person_views, plan
from bench.identity.views import View
from context_service.identity.normalize import fold


def _full_name(view: View) -> str | None:
    return fold(f"{view.first} {view.last}") if view.first and view.last else None


def name_only_links(records: int, seed: int = 1) -> tuple[int, int, int]:
    """(records joinable only by name, rightly linked, wrongly linked) under the one-holder rule."""
    the_plan = plan(records, seed)
    holders: defaultdict[str, set[int]] = defaultdict(set)
    views: dict[int, list[View]] = {}
    for person in range(the_plan.persons):
        views[person] = person_views(seed, person)[1][: the_plan.counts[person]]
        for view in views[person]:
            if (name := _full_name(view)) is not None:
                holders[name].add(person)
    alone = right = wrong = 0
    for person, own in views.items():
        for k, view in enumerate(own):
            name = _full_name(view)
            others = own[:k] + own[k + 1 :]
            if name is None or not others or any(view.keys & o.keys for o in others):
                continue
            alone += 1
            namesakes = holders[name] - {person}
            if not namesakes and any(_full_name(o) == name for o in others):
                right += 1
            elif len(namesakes) == 1 and all(_full_name(o) != name for o in others):
                wrong += 1
    return alone, right, wrong


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    alone, right, wrong = name_only_links(args.records, args.seed)
    print(
        f"{args.records:,} records: {alone:,} share no exact identifier with their person; "
        f"linking on a full name one other person holds: {right:,} right, {wrong:,} wrong "
        f"(precision {right / max(1, right + wrong):.3f})"
    )


if __name__ == "__main__":
    main()
