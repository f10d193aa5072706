"""The catalogue leaderboard: every dysts flow x the fast methods, D_stsp and D_H per system, with the data floor.

Subcommands (all resumable; the store is results/catalogue.sqlite, git-ignored, and `run` and `export` first
read the committed export back into it, so a fresh clone resumes where the committed data ends):
  run      run or resume the suite `catalogue` (src/dsrkit/suites/catalogue.toml) for the given seeds in slices of
           --slice systems, exporting after each slice; the same as
           `dsr bench catalogue --seed 0 --workers 1 [--task dysts:NAME ...]` followed by `export`
  export   write benchmarks/results/catalogue/runs.csv (one row per finished run: system, method, seed, status,
           reason, D_stsp, D_H, timings), floor.csv (the data floor of every system and seed with a finished run:
           the test trajectory against an independent true trajectory, computed and cached by `dsr bench results`),
           systems.csv (dysts metadata: dimension, maximum Lyapunov exponent, Kaplan-Yorke dimension, ...) and
           leaderboard.csv (`dsr bench results catalogue --csv`)
  figure   draw benchmarks/results/catalogue/catalogue_{distributions,failures}.png from the export
  table    print the markdown summary for BENCHMARKS.md from the export
  integration  print the summary of integration.csv (benchmarks/catalogue_integration.py) for BENCHMARKS.md

A failure is a run that diverged or failed, or whose D_stsp is above FAIL_FACTOR x the system's data floor
(and above the floor + FAIL_MARGIN, so that a floor of ~0 does not turn sampling noise into failures).

Run:  python benchmarks/catalogue_leaderboard.py run --seeds 0 && python benchmarks/catalogue_leaderboard.py figure
      python benchmarks/catalogue_leaderboard.py table > /tmp/catalogue.md
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "catalogue"
STORE = ROOT / "results" / "catalogue.sqlite"
SUITE = "catalogue"
METHODS = ["mean", "parroting", "esn", "nvar", "sindy", "edmd"]
DSTSP, DH = "state_space_divergence", "power_spectrum_distance"
FAIL_FACTOR, FAIL_MARGIN = 5.0, 0.5


def _suite(seeds=None):
    from dsrkit.bench.suite import load_suite

    s = load_suite(SUITE)
    return s.select(seeds=seeds) if seeds is not None else s


def restore_store() -> None:
    """Read the committed export (runs.csv, floor.csv) back into the store (a fresh clone has none), so that `run`
    skips the runs it holds, `export` computes no floor it has, and nothing exported is lost."""
    from dsrkit.bench.leaderboard import restore
    from dsrkit.bench.store import ResultsStore

    def read(name):
        path = OUT / name
        return list(csv.DictReader(path.open(newline=""))) if path.exists() else []

    def metrics(r):
        return {k: float(r[c]) for k, c in ((DSTSP, "d_stsp"), (DH, "d_h")) if r[c] != ""}

    runs = [{"task": r["system"], "method": r["method"], "seed": int(r["seed"]), "status": r["status"],
             "reason": r["reason"] or None, "metrics": metrics(r),
             "timings": {k: float(r[k]) for k in ("data_s", "fit_s", "generate_s", "total_s") if r[k] != ""}}
            for r in read("runs.csv")]
    found = {(r["system"], int(r["seed"])): {"status": r["status"], "metrics": metrics(r)} for r in read("floor.csv")}
    with ResultsStore(STORE) as db:
        added, cached = restore(_suite(), db, runs, found)
    if added or cached:
        print(f"restored {added} runs and {cached} floors from {OUT} into {STORE}", flush=True)


def cmd_run(args):
    from dsrkit.bench import bench_run

    restore_store()
    suite = _suite(args.seeds)
    tasks = [t.name for t in suite.tasks]
    if args.systems:
        tasks = [t for t in tasks if t in set(args.systems) or t.removeprefix("dysts:") in set(args.systems)]
    deadline = time.time() + args.hours * 3600 if args.hours else None
    for k in range(0, len(tasks), args.slice):
        if deadline and time.time() > deadline:
            print(f"stopping: --hours {args.hours} reached; rerun to resume", flush=True)
            break
        chunk = tasks[k : k + args.slice]
        print(f"slice {k // args.slice + 1}: {chunk[0]} .. {chunk[-1]}", flush=True)
        bench_run(SUITE, workers=args.workers, store=str(STORE), seeds=args.seeds, tasks=chunk, progress=False)
        cmd_export(args)


def cmd_export(args):
    from dsrkit.bench import bench_results  # noqa: F401  (the CLI's own export path, for the leaderboard CSV)
    from dsrkit.bench.leaderboard import floor_config, floors, results
    from dsrkit.bench.store import ResultsStore
    from dsrkit.bench.suite import run_id  # noqa: F401
    from dsrkit import systems

    OUT.mkdir(parents=True, exist_ok=True)
    restore_store()
    suite = _suite()
    skip = {f"dysts:{x.removeprefix('dysts:')}" for x in (getattr(args, "exclude", None) or [])}
    if skip:  # e.g. a system whose floor is too slow to compute now: exported next time
        suite = suite.select(tasks=[t.name for t in suite.tasks if t.name not in skip])
    db = ResultsStore(STORE)
    try:
        table = results(suite, store=db)  # computes and caches the floors of every (system, seed) with a run
        table.to_csv(OUT / "leaderboard.csv", overwrite=True)
        specs = {s.run_id: s for s in suite.runs()}
        rows = [r for r in db.rows(list(specs)) if r["status"] != "running"]
        found = floors(suite, db, compute=False)
    finally:
        db.close()
    with (OUT / "runs.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["system", "method", "seed", "status", "d_stsp", "d_h", "data_s", "fit_s", "generate_s",
                    "total_s", "reason"])
        for r in sorted(rows, key=lambda r: (specs[r["run_id"]].task.name, specs[r["run_id"]].method.label,
                                             specs[r["run_id"]].seed)):
            sp, m, t = specs[r["run_id"]], r["metrics"], r["timings"]
            w.writerow([sp.task.name, sp.method.label, sp.seed, r["status"], _num(m.get(DSTSP)), _num(m.get(DH)),
                        _num(t.get("data_s")), _num(t.get("fit_s")), _num(t.get("generate_s")),
                        _num(t.get("total_s")), (r.get("reason") or "")[:200].replace("\n", " ")])
    with (OUT / "floor.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["system", "seed", "status", "d_stsp", "d_h"])
        for (task, seed), res in sorted(found.items()):
            w.writerow([task, seed, res.get("status"), _num(res["metrics"].get(DSTSP)),
                        _num(res["metrics"].get(DH))])
    with (OUT / "systems.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["system", "dim", "dt", "lyapunov_max", "kaplan_yorke_dimension", "correlation_dimension",
                    "nonautonomous"])
        for name in sorted({t.name for t in suite.tasks}):
            s = systems.get(name)
            ref = s.reference
            w.writerow([name, s.dim, f"{s.dt:.6g}", _num(ref.get("lyapunov_max")),
                        _num(ref.get("kaplan_yorke_dimension")), _num(ref.get("correlation_dimension")),
                        int(bool(getattr(s, "nonautonomous", False)))])
    print(f"exported {len(rows)} runs, {len(found)} floors to {OUT}", flush=True)


def _num(v):
    if v is None:
        return ""
    v = float(v)
    return "" if math.isnan(v) else f"{v:.6g}"


def load(seed=0):
    """(runs[system][method] -> row, floor[system] -> row, meta[system] -> row) of one seed from the export."""
    runs, floor, meta = defaultdict(dict), {}, {}
    with (OUT / "runs.csv").open() as fh:
        for r in csv.DictReader(fh):
            if int(r["seed"]) == seed:
                runs[r["system"]][r["method"]] = r
    with (OUT / "floor.csv").open() as fh:
        for r in csv.DictReader(fh):
            if int(r["seed"]) == seed:
                floor[r["system"]] = r
    with (OUT / "systems.csv").open() as fh:
        for r in csv.DictReader(fh):
            meta[r["system"]] = r
    complete = {s for s in runs if all(m in runs[s] for m in METHODS) and s in floor}
    return {s: runs[s] for s in complete}, {s: floor[s] for s in complete}, meta


def value(row, key):
    """The metric of a run, +inf for a diverged run, None for a failed one."""
    if row["status"] == "diverged":
        return math.inf
    if row["status"] != "ok" or row[key] == "":
        return None
    return float(row[key])


def failed(row, floor_row):
    if row["status"] != "ok":
        return True
    d, f = value(row, "d_stsp"), float(floor_row["d_stsp"])
    return d is None or (d > FAIL_FACTOR * f and d > f + FAIL_MARGIN)


def _q(values, q):
    v = sorted(values)
    if not v:
        return math.nan
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    if lo + 1 >= len(v) or pos == lo:
        return v[lo]
    a, b = v[lo], v[lo + 1]
    return a if math.isinf(a) or math.isinf(b) and pos - lo == 0 else (b if math.isinf(b) else a + (b - a) * (pos - lo))


def _fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "div."
    return f"{x:.3g}"


def _dim_family(meta_row):
    d = int(meta_row["dim"])
    return "3-D" if d == 3 else ("4-D" if d == 4 else "5-10-D")


def _lyap_family(meta_row):
    lam = meta_row["lyapunov_max"]
    if lam == "":
        return "λ unknown"
    lam = float(lam)
    return "λ_max < 0.1" if lam < 0.1 else ("0.1 ≤ λ_max < 1" if lam < 1 else "λ_max ≥ 1")


_FAMILY_ORDER = ["3-D", "4-D", "5-10-D", "λ_max < 0.1", "0.1 ≤ λ_max < 1", "λ_max ≥ 1", "λ unknown"]


def _ordered(keys):
    return sorted(keys, key=lambda k: _FAMILY_ORDER.index(k) if k in _FAMILY_ORDER else len(_FAMILY_ORDER))


def cmd_table(args):
    runs, floor, meta = load(args.seed)
    n = len(runs)
    print(f"Seed {args.seed}: {n} systems complete (all {len(METHODS)} methods and the floor).\n")
    print("| method | ok / diverged / failed | D_stsp median [IQR] | D_stsp / floor, median | D_H median [IQR] | "
          "best model on (systems) | failures (diverged, failed, or D_stsp > "
          f"{FAIL_FACTOR:g}x floor and > floor + {FAIL_MARGIN:g}) |")
    print("|---|---|---|---|---|---|---|")
    fl_d = [float(floor[s]["d_stsp"]) for s in runs]
    fl_h = [float(floor[s]["d_h"]) for s in runs]
    print(f"| data floor | {n} / 0 / 0 | {_fmt(_q(fl_d, .5))} [{_fmt(_q(fl_d, .25))}, {_fmt(_q(fl_d, .75))}] | 1 | "
          f"{_fmt(_q(fl_h, .5))} [{_fmt(_q(fl_h, .25))}, {_fmt(_q(fl_h, .75))}] | – | – |")
    models = [m for m in METHODS if m != "parroting"]
    best = defaultdict(int)
    for s in runs:
        vals = {m: value(runs[s][m], "d_stsp") for m in models}
        vals = {m: v for m, v in vals.items() if v is not None}
        if vals:
            best[min(vals, key=vals.get)] += 1
    for m in ["parroting"] + [x for x in METHODS if x != "parroting"]:
        rows = [runs[s][m] for s in runs]
        st = [r["status"] for r in rows]
        d = [v for v in (value(r, "d_stsp") for r in rows) if v is not None]
        h = [v for v in (value(r, "d_h") for r in rows) if v is not None]
        ratio = [v / max(float(floor[s]["d_stsp"]), 1e-12) for s in runs
                 if (v := value(runs[s][m], "d_stsp")) is not None]
        nf = sum(failed(runs[s][m], floor[s]) for s in runs)
        label = "parroting (data replay)" if m == "parroting" else m
        print(f"| {label} | {st.count('ok')} / {st.count('diverged')} / {st.count('failed')} | "
              f"{_fmt(_q(d, .5))} [{_fmt(_q(d, .25))}, {_fmt(_q(d, .75))}] | {_fmt(_q(ratio, .5))} | "
              f"{_fmt(_q(h, .5))} [{_fmt(_q(h, .25))}, {_fmt(_q(h, .75))}] | "
              f"{best.get(m, '–') if m != 'parroting' else '–'} | {nf} of {n} |")
    print("\nFailure rate by family (failures / systems in the family):\n")
    fams = [("dimension", _dim_family), ("maximum Lyapunov exponent (dysts)", _lyap_family)]
    for title, fam in fams:
        groups = defaultdict(list)
        for s in runs:
            groups[fam(meta[s])].append(s)
        keys = _ordered(groups)
        print(f"| method \\ {title} | " + " | ".join(f"{k} ({len(groups[k])})" for k in keys) + " |")
        print("|---" * (len(keys) + 1) + "|")
        for m in METHODS:
            cells = [f"{sum(failed(runs[s][m], floor[s]) for s in groups[k])}" for k in keys]
            print(f"| {m} | " + " | ".join(cells) + " |")
        print()
    flat = [s for s in runs if value(runs[s]["mean"], "d_stsp") is not None
             and float(floor[s]["d_stsp"]) >= 0.5 * value(runs[s]["mean"], "d_stsp")]
    print(f"Systems whose data floor D_stsp is at least half the mean predictor's (two true trajectories differ "
          f"nearly as much as the mean from the truth: D_stsp cannot rank models there at this length; D_H can): "
          f"{len(flat)}" + (f": {', '.join(x.removeprefix('dysts:') for x in sorted(flat))}" if flat else "") + "\n")
    fails_all = [s for s in runs if all(failed(runs[s][m], floor[s]) for m in models if m != "mean")]
    print(f"Systems on which every model (esn, nvar, sindy, edmd) fails: {len(fails_all)}"
          + (f": {', '.join(x.removeprefix('dysts:') for x in sorted(fails_all))}" if fails_all else ""))


def cmd_integration(args):
    """Markdown summary of benchmarks/results/catalogue/integration.csv (benchmarks/catalogue_integration.py)."""
    with (OUT / "integration.csv").open() as fh:
        rows = list(csv.DictReader(fh))

    def f(r, k):
        return float(r[k]) if r.get(k) not in (None, "") else None

    comp = [r for r in rows if r["compiled_status"] == "ok"]
    fall = [r for r in rows if r["compiled_status"] != "ok"]
    sc = [f(r, "scipy_s") for r in rows if f(r, "scipy_s") is not None]
    print(f"{len(rows)} flows; {len(comp)} compile (re-bound right-hand side agrees with NumPy), {len(fall)} fall "
          f"back to SciPy: {', '.join(r['system'].removeprefix('dysts:') for r in fall)}.\n")
    print("| path | flows | total (s) | median per flow (s) | max per flow (s) |\n|---|---|---|---|---|")
    rowsets = [("SciPy DOP853, every flow (before)", rows, "scipy_s"),
               ("SciPy DOP853, the flows that compile", comp, "scipy_s"),
               ("compiled Dopri8, first call (compiling included)", comp, "compiled_first_s"),
               ("compiled Dopri8, warm", comp, "compiled_warm_s")]
    for label, rs, key in rowsets:
        v = [f(r, key) for r in rs if f(r, key) is not None]
        print(f"| {label} | {len(v)} | {sum(v):.1f} | {statistics.median(v):.3g} | {max(v):.3g} |")
    after = sum(f(r, "compiled_warm_s") for r in comp) + sum(f(r, "scipy_s") or 0 for r in fall)
    sp = [f(r, "speedup_warm") for r in comp if f(r, "speedup_warm")]
    dev = [f(r, "max_dev_100_over_std") for r in comp if f(r, "max_dev_100_over_std") is not None]
    print(f"\nEvery flow after (compiled warm + SciPy fallbacks): {after:.1f} s against {sum(sc):.1f} s before; "
          f"warm speed-up per compiled flow median {statistics.median(sp):.1f}x [{min(sp):.1f}x, {max(sp):.1f}x]; "
          f"compiled vs SciPy over the first 100 samples, max |difference| / std: median {statistics.median(dev):.1e}, "
          f"max {max(dev):.1e}.")


def cmd_figure(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    runs, floor, meta = load(args.seed)
    systems_ = sorted(runs)
    order = ["mean", "parroting", "esn", "nvar", "sindy", "edmd"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, key, title in [(axes[0], "d_stsp", "D_stsp"), (axes[1], "d_h", "D_H")]:
        data = [[float(floor[s][key]) for s in systems_]]
        labels = ["floor"]
        cap = None
        for m in order:
            vals = [value(runs[s][m], key) for s in systems_]
            data.append([v for v in vals if v is not None])
            labels.append(m)
        finite = [v for d in data for v in d if np.isfinite(v) and v > 0]
        cap = max(finite) * 3 if finite else 1.0
        for i, d in enumerate(data):
            arr = np.array([min(v, cap) for v in d]) if d else np.array([])
            jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(arr))
            div = np.array([not np.isfinite(v) for v in d]) if d else np.array([], bool)
            ax.scatter(i + jitter[~div], np.maximum(arr[~div], 1e-6), s=6, alpha=0.5)
            if div.any():
                ax.scatter(i + jitter[div], np.full(div.sum(), cap), s=10, marker="x", color="k")
        ax.boxplot([[max(min(v, cap), 1e-6) for v in d] for d in data], positions=range(len(data)), widths=0.5,
                   showfliers=False)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yscale("log")
        ax.set_title(f"{title} over {len(systems_)} dysts flows (seed {args.seed}; x = diverged)")
    fig.tight_layout()
    fig.savefig(OUT / "catalogue_distributions.png", dpi=120)

    # failures by family: dimension and maximum Lyapunov exponent
    fams = [("dimension", _dim_family), ("λ_max (dysts)", _lyap_family)]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (title, fam) in zip(axes, fams):
        groups = defaultdict(list)
        for s in systems_:
            groups[fam(meta[s])].append(s)
        keys = _ordered(groups)
        width = 0.8 / len(order)
        for j, m in enumerate(order):
            rates = [sum(failed(runs[s][m], floor[s]) for s in groups[k]) / len(groups[k]) for k in keys]
            ax.bar(np.arange(len(keys)) + (j - len(order) / 2 + 0.5) * width, rates, width, label=m)
        ax.set_xticks(range(len(keys)), [f"{k}\n(n={len(groups[k])})" for k in keys])
        ax.set_ylabel("fraction of systems failed")
        ax.set_title(f"failures by {title}: diverged, or D_stsp > {FAIL_FACTOR:g}x floor")
        ax.set_ylim(0, 1.05)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "catalogue_failures.png", dpi=120)
    print(f"wrote {OUT / 'catalogue_distributions.png'} and {OUT / 'catalogue_failures.png'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--slice", type=int, default=20, help="systems per slice (an export follows each)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--hours", type=float, default=None, help="start no new slice after this many hours")
    p.add_argument("--systems", nargs="*", help="only these systems (default: all)")
    p = sub.add_parser("export")
    p.add_argument("--exclude", nargs="*", help="leave these systems out of this export")
    sub.add_parser("integration")
    for name in ("figure", "table"):
        p = sub.add_parser(name)
        p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    {"run": cmd_run, "export": cmd_export, "figure": cmd_figure, "table": cmd_table,
     "integration": cmd_integration}[args.cmd](args)


if __name__ == "__main__":
    main()
