"""Benchmark runner speed: the core suite (fast settings by default) with 1 vs 2 local worker processes.

Each measurement runs the whole suite into a fresh store with an empty compilation cache (worker start-up and JIT
compilation included, as a user sees it on a first run; the workers of one measurement share that cache) and reports the wall time; the speed-up is t(1 worker) / t(N workers). Also printed: the summed
in-worker run time (what perfect parallelism would divide) and the load average, since other processes on the
machine skew the numbers.

    python benchmarks/bench_runner.py                       # core --fast, workers 1 and 2, one repeat
    python benchmarks/bench_runner.py --workers 1 2 4 --repeats 3 --suite core --full
    python benchmarks/bench_runner.py --full --tasks lorenz63 rossler --methods esn lstm --seeds 0   # a slice

The full core leaderboard (every method, 5 seeds; many hours on 2 cores) is a separate command:
    nohup dsr bench core --workers 2 > results/core.log 2>&1 &
    (library: python -c "from dsrkit.bench import bench_run; bench_run('core', workers=2)")
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from dsrkit.bench import ResultsStore, load_suite, run_suite


def _spin(_=None) -> float:
    """A fixed CPU-bound job (NumPy, one thread); returns its wall time."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((200, 200))
    t0 = time.perf_counter()
    for _ in range(400):
        a = np.tanh(a @ a / 200)
    return time.perf_counter() - t0


def available_parallelism(n: int = 2) -> float:
    """How many cores this process tree gets right now: n x t(one job alone) / t(n jobs at once), in spawned
    processes. About n on an idle machine; about 1 when other load (or one scheduling group) caps our share."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(n) as pool:
        pool.map(_spin, range(n))  # warm-up: interpreter start and imports
        alone = pool.apply(_spin)
        together = max(pool.map(_spin, range(n)))
    return n * alone / together


def measure(suite_path: str, fast: bool, workers: int, store: Path, selection: dict) -> dict:
    """One run of the suite into a fresh store, with an empty compilation cache (as on a first run)."""
    suite = load_suite(suite_path, fast=fast).select(**selection)
    os.environ["DSRKIT_JAX_CACHE"] = str(store.with_suffix(".jaxcache"))  # inherited by the spawned workers
    t0 = time.perf_counter()
    summary = run_suite(suite, store=store, workers=workers, progress=False, keep_trajectories=False)
    wall = time.perf_counter() - t0
    with ResultsStore(store) as db:
        busy = sum(r["timings"].get("total_s", 0.0) for r in db.rows())
    return {"wall": wall, "busy": busy, "runs": summary.total, "ok": summary.ok, "div": summary.diverged,
            "failed": summary.failed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="core", help="a suite file or the name of a shipped suite")
    ap.add_argument("--full", action="store_true", help="full settings instead of the suite's [fast] block")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--tasks", nargs="+", help="only these task names (a slice of the suite)")
    ap.add_argument("--methods", nargs="+", help="only these method names or labels")
    ap.add_argument("--seeds", type=int, nargs="+", help="only these seeds")
    args = ap.parse_args()
    selection = {"tasks": args.tasks, "methods": args.methods, "seeds": args.seeds}
    fast = not args.full
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    par = available_parallelism(max(args.workers))
    print(f"available parallelism for {max(args.workers)} processes: {par:.2f} (load average {os.getloadavg()[0]:.1f})",
          flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for w in args.workers:
            ms = []
            for k in range(args.repeats):
                ms.append(measure(args.suite, fast, w, Path(tmp) / f"w{w}-{k}.sqlite", selection))
                print(f"workers={w} repeat={k}: {ms[-1]['wall']:.1f} s, load average {os.getloadavg()[0]:.1f}",
                      flush=True)
            rows.append((w, ms))
    base = statistics.median(m["wall"] for m in rows[0][1])
    print(f"\nsuite {Path(args.suite).name} ({'fast' if fast else 'full'} settings), {rows[0][1][0]['runs']} runs, "
          f"median of {args.repeats} repeat(s); available parallelism {par:.2f} of {max(args.workers)}\n")
    print("| workers | wall time (s) | speed-up vs 1st row | summed run time (s) | ok / diverged / failed |")
    print("|---|---|---|---|---|")
    for w, ms in rows:
        wall = statistics.median(m["wall"] for m in ms)
        busy = statistics.median(m["busy"] for m in ms)
        m = ms[0]
        print(f"| {w} | {wall:.1f} | {base / wall:.2f}x | {busy:.1f} | {m['ok']} / {m['div']} / {m['failed']} |")


if __name__ == "__main__":
    main()
