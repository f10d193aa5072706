"""Summarise Cosmic Ray sessions: `python summary.py [--survivors] [--by-file] SESSION.sqlite ...`.

Per session: mutants run, killed (a test failed, or the run exceeded the timeout), survived, incompetent (the
mutant could not be run, e.g. an exception in the mutation machinery), skipped by the filters, and the mutation
score killed / (killed + survived). `--survivors` also prints each surviving mutant's operator, position and diff.
`--by-file` counts the killed mutants by the file of the first failing test (the tests run in the listed order
with -x, so a mutant first failed by a test listed last passed every test listed before it).
"""

from __future__ import annotations

import collections
import re
import sys

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome


def first_failure(output: str) -> str:
    """The file of the first failing test in a pytest -q output, "timeout", or "other" (e.g. a collection error)."""
    if output == "timeout":
        return "timeout"
    m = re.search(r"^(?:FAILED|ERROR) (tests/[^:\s]+)", output or "", re.MULTILINE)
    return m.group(1) if m else "other"


def counts(session: str) -> tuple[dict, list]:
    c = {"killed": 0, "timeout": 0, "survived": 0, "incompetent": 0, "skipped": 0, "pending": 0,
         "by_file": collections.Counter()}
    survivors = []
    with use_db(session, WorkDB.Mode.open) as db:
        c["pending"] = sum(1 for _ in db.pending_work_items)
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                c["skipped"] += 1
            elif result.test_outcome == TestOutcome.SURVIVED:
                c["survived"] += 1
                survivors.append((item, result))
            elif result.test_outcome == TestOutcome.KILLED:
                c["killed"] += 1
                c["timeout"] += result.output == "timeout"
                c["by_file"][first_failure(result.output)] += 1
            else:
                c["incompetent"] += 1
    return c, survivors


def main(argv: list[str]) -> int:
    show, by_file = "--survivors" in argv, "--by-file" in argv
    sessions = [a for a in argv if not a.startswith("--")]
    print("| session | run | killed (of which timeout) | survived | incompetent | pending | score |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    total = {"killed": 0, "survived": 0}
    details, files = [], []
    for s in sessions:
        c, survivors = counts(s)
        run = c["killed"] + c["survived"] + c["incompetent"]
        decided = c["killed"] + c["survived"]
        score = f"{100 * c['killed'] / decided:.1f} %" if decided else "-"
        print(f"| {s} | {run} | {c['killed']} ({c['timeout']}) | {c['survived']} | {c['incompetent']} | "
              f"{c['pending']} | {score} |")
        total["killed"] += c["killed"]
        total["survived"] += c["survived"]
        details += [(s, item, result) for item, result in survivors]
        if by_file:
            files.append((s, c["by_file"]))
    decided = total["killed"] + total["survived"]
    if len(sessions) > 1 and decided:
        print(f"| all | {decided} | {total['killed']} | {total['survived']} | | | "
              f"{100 * total['killed'] / decided:.1f} % |")
    for s, counter in files:
        print(f"\nkilled mutants of {s} by the first failing test's file:")
        for name, n in counter.most_common():
            print(f"  {n:4d}  {name}")
    if show:
        for s, item, result in details:
            (m,) = item.mutations
            print(f"\n--- survived: {s} {m.operator_name} {m.module_path}:{m.start_pos[0]} "
                  f"({m.definition_name}) job {item.job_id}")
            print(result.diff)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
