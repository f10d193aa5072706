"""The core leaderboard (suite `core`): run it in pieces, export the store as data, and print the tables of
BENCHMARKS.md from that export alone.

Subcommands:
  run      run or resume slices of the suite (the same as `dsr bench core --workers W [--method M ...] [--seed S
           ...] [--task T ...] [--group-seeds]`), then `export`; the store is results/core.sqlite (git-ignored), the runs already
           in it are skipped
  export   write benchmarks/results/core/runs.jsonl (one line per finished run: run id, task, method, seed,
           status, reason, metrics, timings, version, finish time) and floor.jsonl (the data floor of every task
           and seed with a finished run, computed and cached in the store where missing)
  table    print the leaderboard (median [IQR] over the seeds, each task's floor row first, data replay apart)
           and the cost per run, built from the export by dsrkit's own `bench.leaderboard.summarize`

The export is what accumulates: commit it after each piece, and the table needs nothing else. `run` and `export`
first read the export back into the store, so a fresh clone resumes where the committed data ends and its first
export keeps every exported run.

    python benchmarks/core_leaderboard.py run --method esn --method sindy --workers 2
    python benchmarks/core_leaderboard.py export
    python benchmarks/core_leaderboard.py table > /tmp/core.md
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "core"
STORE = ROOT / "results" / "core.sqlite"
SUITE = "core"


def restore_store() -> None:
    """Read the committed export back into the store (a fresh clone has none), so that `run` skips the runs it
    holds and `export` rewrites it with nothing lost."""
    from dsrkit.bench.leaderboard import restore
    from dsrkit.bench.store import ResultsStore
    from dsrkit.bench.suite import load_suite

    found = {(f["task"], f["seed"]): f for f in _read("floor.jsonl")}
    with ResultsStore(STORE) as db:
        added, cached = restore(load_suite(SUITE), db, _read("runs.jsonl"), found)
    if added or cached:
        print(f"restored {added} runs and {cached} floors from {OUT} into {STORE}", flush=True)


def cmd_run(args):
    from dsrkit.bench import bench_run

    restore_store()
    bench_run(SUITE, workers=args.workers, store=str(STORE), methods=args.method or None, seeds=args.seed or None,
              tasks=args.task or None, progress=False, group_seeds=args.group_seeds)
    cmd_export(args)


def cmd_export(args):
    from dsrkit.bench.leaderboard import results, floors
    from dsrkit.bench.store import ResultsStore
    from dsrkit.bench.suite import load_suite

    OUT.mkdir(parents=True, exist_ok=True)
    restore_store()
    suite = load_suite(SUITE)
    db = ResultsStore(STORE)
    try:
        results(suite, store=db)  # computes and caches the floor of every (task, seed) with a finished run
        specs = {s.run_id: s for s in suite.runs()}
        rows = [r for r in db.rows(list(specs)) if r["status"] != "running"]
        found = floors(suite, db, compute=False)
    finally:
        db.close()
    with (OUT / "runs.jsonl").open("w") as fh:
        for r in sorted(rows, key=lambda r: (specs[r["run_id"]].task.name, specs[r["run_id"]].method.label,
                                             specs[r["run_id"]].seed)):
            sp = specs[r["run_id"]]
            fh.write(json.dumps({"run_id": r["run_id"], "task": sp.task.name, "method": sp.method.label,
                                 "seed": sp.seed, "status": str(r["status"]), "reason": r.get("reason"),
                                 "metrics": r["metrics"], "timings": r["timings"], "version": r.get("version"),
                                 "finished_at": r.get("finished_at")}, sort_keys=True) + "\n")
    with (OUT / "floor.jsonl").open("w") as fh:
        for (task, seed), res in sorted(found.items()):
            fh.write(json.dumps({"task": task, "seed": seed, "status": str(res.get("status")),
                                 "metrics": res.get("metrics", {})}, sort_keys=True) + "\n")
    print(f"exported {len(rows)} runs and {len(found)} floors to {OUT}", flush=True)


def _read(name: str) -> list[dict]:
    path = OUT / name
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def cmd_table(args):
    from dsrkit.bench.leaderboard import floor_rows, summarize
    from dsrkit.bench.suite import load_suite

    suite = load_suite(SUITE)
    exported = {r["run_id"]: r for r in _read("runs.jsonl")}
    specs = [s for s in suite.runs() if s.method.label in {r["method"] for r in exported.values()}]
    table = summarize(suite.name, specs, exported)
    found = {(f["task"], f["seed"]): f for f in _read("floor.jsonl")}
    table.floor = floor_rows(suite, found, table.metrics)
    seeds = sorted({r["seed"] for r in exported.values()})
    print(f"{len(exported)} runs exported (seeds {seeds}); methods without runs are left out.\n")
    print(table.to_markdown())
    cost = defaultdict(list)
    for r in exported.values():
        total = (r.get("timings") or {}).get("total_s")
        if total is not None:
            cost[r["method"]].append(float(total))
    print("\n| method | runs | median s per run | longest s |\n|---|---|---|---|")
    for method, secs in sorted(cost.items(), key=lambda kv: statistics.median(kv[1])):
        print(f"| {method} | {len(secs)} | {statistics.median(secs):.1f} | {max(secs):.1f} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run or resume a slice of the suite, then export")
    run.add_argument("--method", action="append", help="method name or label (repeatable; default: all)")
    run.add_argument("--seed", action="append", type=int, help="seed (repeatable; default: the suite's)")
    run.add_argument("--task", action="append", help="task name (repeatable; default: all)")
    run.add_argument("--workers", type=int, default=1)
    run.add_argument("--group-seeds", action="store_true",
                     help="the seeds of one task and PLRNN-family method as one population (one program; for a GPU)")
    sub.add_parser("export", help="write the store's finished runs and floors to benchmarks/results/core/")
    sub.add_parser("table", help="print the markdown leaderboard from the export")
    args = p.parse_args(argv)
    {"run": cmd_run, "export": cmd_export, "table": cmd_table}[args.cmd](args)


if __name__ == "__main__":
    main()
