"""Training sweeps: many (configuration, seed) runs of the quality protocol of bench_training.py, in parallel
single-thread worker processes, one JSON line per finished run.

    python benchmarks/sweep_training.py GRID.json --jobs 15 --out sweep.jsonl [--skip-after 400]
    python benchmarks/sweep_training.py --table sweep.jsonl          # medians per configuration (markdown)

GRID.json is a list of configurations:

    {"name": "alrnn-m50", "system": "lorenz63", "model": "alrnn", "model_args": {"latent_dim": 50, "relu_units": 2},
     "scheme": "stf", "scheme_args": {"interval": 16},
     "train": {"epochs": 1000, "seq_len": 200, "lr": [1e-3, 1e-5], "input_noise": 0.05, "eval_every": 10},
     "seeds": [0, 1, 2]}

Protocol (bench_training.protocol_data and bench_training.score, as `bench_training.py --quality`): train on 100 000 points with 5 % observation noise, standardised with
the training statistics; judge the selected checkpoint on an independent clean 100 000-point test trajectory
(seed 1): free run from the first test point for 1.25 T, first 25 % dropped, D_stsp (30 bins; GMM variant for
N > 10) and D_H (σ = 20). Subregions: distinct region codes along 20 000 free-running latent steps.
Jobs still queued `--skip-after` seconds after the start are skipped (so a sweep fits a time budget).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

_DATA: dict = {}


def _data(system: str, n: int):
    from bench_training import protocol_data

    if (system, n) not in _DATA:
        _DATA[system, n] = protocol_data(system, n)
    return _DATA[system, n]


def run_one(spec: dict, seed: int, skip_at: float) -> dict:
    """Train one configuration with one seed and score it on the test trajectory."""
    out = {"name": spec["name"], "seed": seed}
    if time.time() > skip_at:
        return {**out, "status": "skipped"}
    import jax
    import numpy as np
    from bench_training import score

    from dsrkit.training import train
    from dsrkit.training.config import build_model, build_scheme, normalize_config

    spec = normalize_config(spec)  # grids written with class names or "noise" for the input noise still run
    train_s, test_s = _data(spec.get("system", "lorenz63"), spec.get("n", 100_000))
    model = build_model(spec, obs_dim=train_s.shape[1], key=jax.random.key(seed))
    kw = {"eval_steps": 20_000, **spec.get("train", {})}
    t0 = time.perf_counter()
    fit = train(model, train_s, scheme=build_scheme(spec), seed=seed, progress=False, **kw)
    seconds = time.perf_counter() - t0
    trace = [(h["epoch"], round(h["d_stsp"], 3)) for h in fit.history if np.isfinite(h["d_stsp"])]
    out.update(status=fit.status, best_epoch=fit.best_epoch, train_best=fit.best_metrics, seconds=seconds,
               final_loss=fit.history[-1]["loss"], trace=trace)
    if fit.status != "ok":
        return {**out, "d_stsp": None, "d_h": None}
    sc = score(fit.model, test_s)
    return {**out, "d_stsp": sc["d_stsp"], "d_h": sc["d_h"], "regions": sc["regions"]}


def sweep(grid: list[dict], jobs: int, out_path: str, skip_after: float) -> None:
    os.environ.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                       "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"})
    work = [(spec, seed) for spec in grid for seed in spec.get("seeds", [0])]
    work.sort(key=lambda w: -w[0].get("train", {}).get("epochs", 100))  # longest first
    skip_at = time.time() + skip_after
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool, open(out_path, "a") as f:
        futures = [pool.submit(run_one, spec, seed, skip_at) for spec, seed in work]
        for fut in as_completed(futures):
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - one failing run must not stop the sweep
                res = {"status": "failed", "error": repr(exc)}
            f.write(json.dumps(res) + "\n")
            f.flush()
            print({k: res.get(k) for k in ("name", "seed", "status", "d_stsp", "d_h", "regions", "seconds")},
                  flush=True)


def table(path: str) -> None:
    rows: dict = {}
    for line in open(path):
        r = json.loads(line)
        if r.get("status") in ("ok", "diverged"):
            rows.setdefault(r["name"], []).append(r)
    print("| configuration | seeds | median D_stsp | median D_H | per seed D_stsp | median regions | median s |")
    print("|---|---|---|---|---|---|---|")
    for name, rs in rows.items():
        ds = [r["d_stsp"] if r["d_stsp"] is not None else float("inf") for r in rs]
        dh = [r["d_h"] if r["d_h"] is not None else float("inf") for r in rs]
        reg = [r["regions"] for r in rs if r.get("regions") is not None]
        print(f"| {name} | {len(rs)} | {statistics.median(ds):.3f} | {statistics.median(dh):.3f} | "
              f"{', '.join(f'{d:.2f}' for d in sorted(ds))} | {statistics.median(reg) if reg else '-'} | "
              f"{statistics.median(r['seconds'] for r in rs):.0f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("grid", nargs="?")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--out", default="sweep.jsonl")
    ap.add_argument("--skip-after", type=float, default=float("inf"))
    ap.add_argument("--table", default=None, help="print the medians of a results file and exit")
    args = ap.parse_args(argv)
    if args.table:
        return table(args.table)
    if not args.grid:
        ap.error("GRID.json is required")
    sweep(json.load(open(args.grid)), args.jobs, args.out, args.skip_after)


if __name__ == "__main__":
    sys.exit(main())
