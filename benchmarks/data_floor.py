"""The data floor of the core suite's tasks at two test lengths: why the suite tests on 100 000 points.

The floor of a task and seed is its metrics between the test trajectory and an independent trajectory of the same
true system (`dsrkit.bench.execute.execute_floor`, what `dsr bench results` shows as the "data floor" row): the
score of a perfect model, i.e. the part of every score that is the finite length's sampling error.

    python benchmarks/data_floor.py                          # seed 0, n_test 10 000 and 100 000
    python benchmarks/data_floor.py --seed 1 --lengths 10000 100000 200000

Prints a markdown table: per task, the D_stsp variant the suite uses and the floor of D_stsp and D_H per length.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

from dsrkit.bench import ResultsStore, load_suite
from dsrkit.bench.leaderboard import floors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lengths", type=int, nargs="+", default=[10_000, 100_000])
    args = ap.parse_args(argv)
    suite = load_suite("core").select(seeds=[args.seed])
    out = {}
    for n in args.lengths:
        s = dataclasses.replace(suite, tasks=[dataclasses.replace(t, n_test=n) for t in suite.tasks])
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as d, ResultsStore(f"{d}/floor.sqlite") as db:
            out[n] = floors(s, db)
        print(f"n_test {n}: {time.perf_counter() - t0:.0f} s", flush=True)
    heads = [f"D_stsp, {n}" for n in args.lengths] + [f"D_H, {n}" for n in args.lengths]
    print(f"\ncore suite, seed {args.seed} (training seed {2 * args.seed}, test seed {2 * args.seed + 1}), "
          f"n_train {suite.tasks[0].n_train}\n")
    print("| task | D_stsp variant | " + " | ".join(heads) + " |")
    print("|---|---|" + "---|" * len(heads))
    for t in suite.tasks:
        res = [out[n][(t.name, args.seed)] for n in args.lengths]
        cell = lambda r, m: f"{r['metrics'][m]:.3g}" if r["status"] == "ok" else r["status"]  # noqa: E731
        variant = t.metric_options.get("state_space_divergence", {}).get("method", "auto (binned)")
        print(f"| {t.name} | {variant} | " + " | ".join(cell(r, "state_space_divergence") for r in res) + " | "
              + " | ".join(cell(r, "power_spectrum_distance") for r in res) + " |")


if __name__ == "__main__":
    main()
