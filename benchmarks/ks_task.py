"""Kuramoto–Sivashinsky that something can learn: the core suite's KS task, method by method.

Runs the task "kuramoto_sivashinsky-modes4" of the shipped core suite (L = 22, 64 grid points, dt = 0.25,
observed through its 4 leading POD = Fourier modes, 8 coordinates) exactly as `dsr bench core` does
(`dsrkit.bench.execute.execute_run`: training trajectory seed 2s, independent test trajectory seed 2s + 1, both
standardised with the training statistics, free run of 1.25 T from the first test point, the first 0.25 T
dropped), plus the data floor (`execute_floor`) and the variance fraction the modes carry. With --grid the same
task on the 64 grid values (modes = 0) for comparison (slow: NG-RC's quadratic features of 128 delayed grid
values need about 5 GB).

    python benchmarks/ks_task.py                                   # n_train 20 000, n_test 100 000 (the suite's)
    python benchmarks/ks_task.py --n-test 10000 --methods edmd esn # shorter
    python benchmarks/ks_task.py --grid --methods edmd esn

Prints a markdown table (status, D_H, marginal D_stsp, fit seconds) and whether at least three methods other
than mean and parroting ran bounded with the best D_H at least 5x below the mean predictor's.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings

import numpy as np

import dsrkit as dsr
from dsrkit.bench import load_suite
from dsrkit.bench.execute import execute_floor, execute_run
from dsrkit.bench.leaderboard import floor_config
from dsrkit.systems.kuramoto_sivashinsky import fourier_modes

DEFAULT_METHODS = ["mean", "parroting", "edmd", "esn", "nvar", "sindy", "havok"]


def variance_fractions(modes: int, n: int = 20_000) -> list[float]:
    """Cumulative fraction of the fluctuation variance of u (grid, L = 22, n = 64) in Fourier modes 1..k."""
    U = dsr.systems.get("kuramoto_sivashinsky").trajectory(n, seed=0, transient=2000)
    A = fourier_modes(U, 31)
    energy = (A ** 2).mean(axis=0).reshape(31, 2).sum(axis=1)  # E[a_j^2 + b_j^2] per wavenumber
    return list(np.cumsum(energy)[:modes] / energy.sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-train", type=int, default=20_000)
    ap.add_argument("--n-test", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", nargs="*", default=DEFAULT_METHODS)
    ap.add_argument("--task", default="kuramoto_sivashinsky-modes4")
    ap.add_argument("--grid", action="store_true", help="the same task on the 64 grid values (modes = 0)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    suite = load_suite("core").select(tasks=[args.task], methods=args.methods, seeds=[args.seed])
    task = suite.tasks[0]
    params = dict(task.params, modes=0) if args.grid else task.params
    options = {} if args.grid else task.metric_options
    task = dataclasses.replace(task, n_train=args.n_train, n_test=args.n_test, params=params, metric_options=options)
    suite = dataclasses.replace(suite, tasks=[task])
    k = task.params.get("modes", 0)
    if k:
        frac = variance_fractions(k)
        print("variance fraction of Fourier modes 1..k:", ", ".join(f"{j + 1}: {f:.3f}" for j, f in enumerate(frac)))
    specs = suite.runs()
    floor = execute_floor(floor_config(specs[0]))
    rows = [("data floor", floor, None)]
    for spec in specs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = execute_run(spec.config)
        rows.append((spec.method.label, out, out["timings"].get("fit_s")))
        print(f"{spec.method.label}: {out['status']} ({out['timings']['total_s']:.0f} s){' ' + out['reason'][:120] if out['reason'] else ''}",
              flush=True)
    d_stsp = options.get("state_space_divergence", {}).get("method", "auto")
    print(f"\nKuramoto-Sivashinsky L = 22, n = 64, dt = 0.25, modes = {k} ({task.params}); n_train {task.n_train}, "
          f"n_test {task.n_test}, seed {args.seed}, noise {task.noise}; D_stsp method {d_stsp!r}\n")
    print("| method | status | D_H | D_stsp | fit s |")
    print("|---|---|---|---|---|")
    for label, out, fit in rows:
        m = out["metrics"]
        fmt = lambda v: "–" if v is None else f"{v:.3g}"  # noqa: E731
        print(f"| {label} | {out['status']} | {fmt(m.get('power_spectrum_distance'))} | "
              f"{fmt(m.get('state_space_divergence'))} | {'' if fit is None else f'{fit:.1f}'} |")
    learned = [(label, out) for label, out, _ in rows[1:] if label not in ("mean", "parroting", "data floor")]
    bounded = [(label, out["metrics"]["power_spectrum_distance"]) for label, out in learned if out["status"] == "ok"]
    mean = next((out["metrics"].get("power_spectrum_distance") for label, out, _ in rows if label == "mean"), None)
    if bounded and mean:
        best = min(bounded, key=lambda x: x[1])
        print(f"\nbounded learned methods: {len(bounded)} ({', '.join(b[0] for b in bounded)}); best D_H {best[1]:.3g} "
              f"({best[0]}) vs mean {mean:.3g}: {mean / best[1]:.1f}x")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
