"""dsrkit's TUNED esn, nvar and sindy against reservoirpy's ESN / NVAR and pysindy used directly, on the core tasks.

The question this answers (issue "A leaderboard worth citing", item 2): with the same tuning budget as every other
method, is the best of dsrkit's fast baselines within 1.25x (D_stsp) of the same method used directly through its
reference library, on every low-dimensional task of the core suite?

Data: the tasks of `suites/core.toml` exactly as `dsr bench core` builds them (`dsrkit.bench.build_data`; seed 0
unless `--seeds`): lorenz63, rossler and hindmarsh_rose, clean and with 5 % observation noise on the training
data; 20 000 training points and an independent clean test trajectory of 100 000 points, both after 2000
transient samples and standardised with the training mean and std.

Methods (every one sees one observation, the first test point, at the start of its free run):
- `esn-tuned`, `nvar-tuned`, `sindy-tuned`: the core suite's tuned entries run by the benchmark's own
  `dsrkit.bench.execute_run` (8 trials of the method's `_search_space`, defaults among them, fitted on the first
  16 000 training points and scored on the last 4000 by `selection_score`; the best refitted on all 20 000);
- `esn`, `nvar`, `sindy`: the same at their defaults (the suite's untuned entries), for reference;
- `rpy-esn`, `rpy-nvar`, `pysindy`: the reference libraries used directly at their documented settings, as in
  `benchmarks/baselines_vs_reference.py` (reservoirpy `Reservoir(1000, lr=0.3, sr=1.25, ...) >> Ridge(1e-8)`;
  `NVAR(delay=2, order=2, strides=1) >> Ridge(2.5e-6)` on increments; `ps.SINDy()` at its defaults integrated with
  DOP853), fitted with the run's seed;
- `floor`: an independent true trajectory against the test series (`dsrkit.bench.execute.execute_floor`).

Scoring: the task's metrics (binned D_stsp, D_H) of the free run of 1.25 T steps, first 0.25 T dropped. A reference
run is "diverged" when a row is non-finite or farther than 10 half-ranges from the training data (dsrkit's rule).

Seeds (`--seeds 0 1 2 3 4`): the core suite's data of each seed (training seed 2s, test seed 2s + 1), every method
fitted with that seed; the tables show the median over the seeds (a diverged run counts as +inf) and the ratios
of those medians. `--dsrkit-from benchmarks/results/core` takes dsrkit's rows and the floor from the committed
core-suite export (the same configurations, run by `dsr bench core`) and runs only the reference libraries.

Usage:
    python benchmarks/tuned_vs_reference.py [--tasks lorenz63 ...] [--methods esn-tuned rpy-esn ...]
        [--seeds 0 ...] [--trials 8] [--n-train 20000] [--n-test 100000] [--json out.jsonl] [--md out.md]
    python benchmarks/tuned_vs_reference.py --seeds 0 1 2 3 4 --dsrkit-from benchmarks/results/core --json out.jsonl
    python benchmarks/tuned_vs_reference.py --from-json out.jsonl [--seeds ...] [--md out.md]   # earlier rows' tables
    python benchmarks/tuned_vs_reference.py --from-json refs.jsonl --dsrkit-from benchmarks/results/core --seeds ...
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from baselines_vs_reference import DIVERGENCE_FACTOR, PySINDy, RpyESN, RpyNVAR, _cpu  # noqa: E402

TASKS = ["lorenz63", "lorenz63-noise5", "rossler", "rossler-noise5", "hindmarsh_rose", "hindmarsh_rose-noise5"]
METHODS = ["esn", "esn-tuned", "rpy-esn", "nvar", "nvar-tuned", "rpy-nvar", "sindy", "sindy-tuned", "pysindy",
           "floor"]
PAIRS = [("esn-tuned", "rpy-esn"), ("nvar-tuned", "rpy-nvar"), ("sindy-tuned", "pysindy")]
TUNED = [a for a, _ in PAIRS]
REFERENCES = [b for _, b in PAIRS]
RATIO_LIMIT = 1.25
REFERENCE = {"rpy-esn": RpyESN, "rpy-nvar": RpyNVAR, "pysindy": PySINDy}


def configs(task: str, args, seed: int = 0) -> dict:
    """The core suite's run configurations of `task` and `seed` by method label, with the lengths of `args`."""
    from dsrkit.bench import load_suite

    suite = load_suite("core").select(tasks=[task], methods=["esn", "nvar", "sindy", *TUNED], seeds=[seed])
    out = {}
    for spec in suite.runs():
        cfg = json.loads(json.dumps(spec.config))
        cfg["task"].update(n_train=args.n_train, n_test=args.n_test)
        if "tune" in cfg["method"]:
            cfg["method"]["tune"]["trials"] = args.trials
        out[spec.method.label] = cfg
    return out


def run_dsrkit(task: str, label: str, cfg: dict) -> dict:
    """One dsrkit run through the benchmark's own execute_run (tuning included for the tuned labels)."""
    from dsrkit.bench import execute_run

    res = execute_run(cfg)
    row = dict(task=task, method=label, status=str(res["status"]), reason=res["reason"],
               d_stsp=res["metrics"].get("state_space_divergence"), d_h=res["metrics"].get("power_spectrum_distance"),
               seconds=round(res["timings"]["total_s"], 1))
    if res.get("tuning"):
        t = res["tuning"]
        row.update(chosen=t["params"], best_trial=t["best"], tune_s=round(res["timings"].get("tune_s", 0.0), 1),
                   trials=[{"params": r["params"], "score": r["score"], "status": r["status"]} for r in t["table"]])
    return row


def run_reference(task: str, method: str, cfg: dict) -> dict:
    """One reference-library run on the task's data (build_data of the same configuration)."""
    from dsrkit.bench import build_data
    from dsrkit.metrics import power_spectrum_distance, state_space_divergence
    from dsrkit.rollout import protocol_free_run

    train, test, dt = build_data(cfg)
    t0 = time.perf_counter()
    m = REFERENCE[method]().fit(train, dt, seed=cfg["seed"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = protocol_free_run(m, test, with_transient=True)
    n_drop = full.shape[0] - len(test)
    centre, half = 0.5 * (train.max(0) + train.min(0)), 0.5 * (train.max(0) - train.min(0))
    with np.errstate(all="ignore"):
        bad = ~np.all(np.isfinite(full), axis=1) | np.any(np.abs(full - centre) > DIVERGENCE_FACTOR * half, axis=1)
    row = dict(task=task, method=method, status="ok", reason=None, d_stsp=None, d_h=None)
    if bad.any():
        row.update(status="diverged", reason=f"free run left the data at step {int(np.argmax(bad))}")
    else:
        gen = full[n_drop:]
        options = cfg["task"]["metric_options"].get("state_space_divergence", {})
        row.update(d_stsp=float(state_space_divergence(test, gen, **options)),
                   d_h=float(power_spectrum_distance(test, gen)))
    row["seconds"] = round(time.perf_counter() - t0, 1)
    return row


def run_floor(task: str, cfg: dict) -> dict:
    from dsrkit.bench.execute import execute_floor

    res = execute_floor(cfg)
    return dict(task=task, method="floor", status=str(res["status"]), reason=res["reason"],
                d_stsp=res["metrics"].get("state_space_divergence"),
                d_h=res["metrics"].get("power_spectrum_distance"), seconds=round(res["timings"]["total_s"], 1))


# ---------------------------------------------------------------------------------------------- tables


def _num(v) -> str:
    return "div." if v is None or not math.isfinite(v) else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def _ratio(a, b) -> str:
    """D_stsp of dsrkit `a` over the reference `b` with the 1.25x check (a diverged reference counts as met)."""
    a, b = (None if v is None or not math.isfinite(v) else v for v in (a, b))
    if a is None and b is None:
        return "both div."
    if a is None:
        return "✗ div."
    if b is None:
        return "✓ (ref. div.)"
    return f"{'✓' if a / b <= RATIO_LIMIT else '✗'} {a / b:.2f}"


def _medians(rows) -> tuple[dict, dict]:
    """({(task, method): {"d_stsp", "d_h": median over the seeds, a diverged run counting as +inf}},
    {(task, method): (diverged runs, runs)})."""
    by: dict[tuple, list[dict]] = {}
    for r in rows:
        by.setdefault((r["task"], r["method"]), []).append(r)
    med, counts = {}, {}
    for key, rs in by.items():
        vals = {k: [math.inf if r[k] is None else r[k] for r in rs] for k in ("d_stsp", "d_h")}
        med[key] = {k: float(np.median(v)) for k, v in vals.items()}
        counts[key] = (sum(r["d_stsp"] is None for r in rs), len(rs))
    return med, counts


def _best(med, task, methods):
    done = [(med[(task, m)]["d_stsp"], m) for m in methods
            if (task, m) in med and math.isfinite(med[(task, m)]["d_stsp"])]
    return min(done) if done else (None, None)


def _cell(med, counts, key, t, m, name):
    if (t, m) not in med:
        return "–"
    bad, n = counts[(t, m)]
    return _num(med[(t, m)][name]) + (f" ({bad}/{n} div.)" if bad and n > 1 else "")


def tables(rows, methods) -> str:
    med, counts = _medians(rows)
    seeds = sorted({r.get("seed", 0) for r in rows})
    tasks = sorted(dict.fromkeys(r["task"] for r in rows), key=lambda t: TASKS.index(t) if t in TASKS else len(TASKS))
    of = (f"median over seeds {', '.join(map(str, seeds))}; a diverged run counts as +inf" if len(seeds) > 1
          else f"seed {seeds[0]}")
    out = []
    for key, title in (("d_stsp", "D_stsp"), ("d_h", "D_H")):
        out += [f"**{title}** ({of}; lower is better; div. = diverged)\n", "| task | " + " | ".join(methods) + " |",
                "|---" * (len(methods) + 1) + "|"]
        for t in tasks:
            out.append(f"| {t} | " + " | ".join(_cell(med, counts, None, t, m, key) for m in methods) + " |")
        out.append("")
    pairs = [(a, b) for a, b in PAIRS if a in methods and b in methods]
    out += [f"**tuned dsrkit / reference used directly** (D_stsp ratio of the medians; ✓ at most {RATIO_LIMIT}×). "
            "Last column: the best tuned dsrkit method against the best of the three references\n",
            "| task | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " | best tuned / best reference |",
            "|---" * (len(pairs) + 2) + "|"]
    for t in tasks:
        cells = [_ratio(med.get((t, a), {}).get("d_stsp"), med.get((t, b), {}).get("d_stsp")) for a, b in pairs]
        (a, ma), (b, mb) = _best(med, t, TUNED), _best(med, t, REFERENCES)
        best = _ratio(a, b) + (f" ({ma} vs {mb})" if ma and mb else "")
        out.append(f"| {t} | " + " | ".join(cells) + f" | {best} |")
    out.append("")
    chosen = {(r["task"], r["method"]): r for r in rows if "chosen" in r}
    if len(seeds) == 1 and chosen:
        out += ["**chosen settings** (index of the chosen trial, 0 = the defaults; the validation score of every "
                "trial is in the JSON lines)\n", "| task | " + " | ".join(m for m in TUNED if m in methods) + " |",
                "|---" * (len([m for m in TUNED if m in methods]) + 1) + "|"]
        for t in tasks:
            cells = ["–" if (t, m) not in chosen else f"#{chosen[(t, m)]['best_trial']}: "
                     + ", ".join(f"{k}={v}" for k, v in chosen[(t, m)]["chosen"].items())
                     for m in TUNED if m in methods]
            out.append(f"| {t} | " + " | ".join(cells) + " |")
        out.append("")
    secs = {}
    for r in rows:
        secs.setdefault((r["task"], r["method"]), []).append(r["seconds"])
    out += ["**seconds** (median per run: fit, tuning and free run of each method; floor: its trajectory and "
            "metrics)\n", "| task | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for t in tasks:
        out.append(f"| {t} | " + " | ".join(f"{np.median(secs[(t, m)]):.0f}" if (t, m) in secs else "–"
                                            for m in methods) + " |")
    out.append("")
    return "\n".join(out)


def from_export(export: Path, tasks, methods, seeds) -> list[dict]:
    """The dsrkit and floor rows of the committed core-suite export (`core_leaderboard.py export`): the same
    configurations as `run_dsrkit` at the suite's lengths, run by `dsr bench core`."""
    out = []
    for name, is_floor in (("runs.jsonl", False), ("floor.jsonl", True)):
        for line in (export / name).read_text().splitlines():
            r = json.loads(line)
            method = "floor" if is_floor else r["method"]
            if r["task"] not in tasks or method not in methods or r["seed"] not in seeds:
                continue
            ok = r["status"] == "ok"
            out.append(dict(task=r["task"], method=method, seed=r["seed"], status=r["status"],
                            reason=r.get("reason"),
                            d_stsp=r["metrics"].get("state_space_divergence") if ok else None,
                            d_h=r["metrics"].get("power_spectrum_distance") if ok else None,
                            seconds=round((r.get("timings") or {}).get("total_s", 0.0), 1)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=TASKS, choices=TASKS)
    ap.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0], help="the core suite's seeds (default 0)")
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--n-train", type=int, default=20_000)
    ap.add_argument("--n-test", type=int, default=100_000)
    ap.add_argument("--json", type=Path, help="append one JSON line per (task, method, seed)")
    ap.add_argument("--md", type=Path, help="write the markdown tables (with date, machine and command) here")
    ap.add_argument("--from-json", type=Path, help="only make the tables of a JSON-lines file")
    ap.add_argument("--dsrkit-from", type=Path, metavar="EXPORT",
                    help="take the dsrkit and floor rows from a core-suite export folder (benchmarks/results/core) "
                         "instead of running them; only the reference libraries run (suite lengths only)")
    args = ap.parse_args(argv)
    if args.dsrkit_from and (args.n_train, args.n_test, args.trials) != (20_000, 100_000, 8):
        ap.error("--dsrkit-from holds the core suite's runs: 20 000 training and 100 000 test points, 8 trials")

    if args.from_json:
        rows = [json.loads(line) for line in args.from_json.read_text().splitlines() if line.strip()]
        rows = [{"seed": 0, **r} for r in rows if r["task"] in args.tasks and r["method"] in args.methods]
        rows = [r for r in rows if r["seed"] in args.seeds and not (args.dsrkit_from and r["method"] not in REFERENCE)]
        if args.dsrkit_from:  # the references of the file beside dsrkit's rows of the export
            rows += from_export(args.dsrkit_from, args.tasks, [m for m in args.methods if m not in REFERENCE],
                                args.seeds)
    else:
        rows, start = [], time.perf_counter()
        own = [m for m in args.methods if m not in REFERENCE]
        if args.dsrkit_from:
            rows += from_export(args.dsrkit_from, args.tasks, own, args.seeds)
        for seed in args.seeds:
            for task in args.tasks:
                cfgs = configs(task, args, seed)
                for method in args.methods:
                    if args.dsrkit_from and method not in REFERENCE:
                        continue
                    if method == "floor":
                        row = run_floor(task, cfgs["esn"])
                    elif method in REFERENCE:
                        row = run_reference(task, method, cfgs["esn"])
                    else:
                        row = run_dsrkit(task, method, cfgs[method])
                    row["seed"] = seed
                    rows.append(row)
                    print(json.dumps({k: v for k, v in row.items() if k != "trials"}), flush=True)
                    if args.json:
                        with args.json.open("a") as fh:
                            fh.write(json.dumps(row) + "\n")
        print(f"# total {time.perf_counter() - start:.0f} s", flush=True)
    text = tables(rows, args.methods)
    print(text)
    if args.md:
        head = [f"Date {datetime.date.today().isoformat()}; machine: {_cpu()}, {os.cpu_count()} CPUs, Python "
                f"{platform.python_version()}.", "",
                "Command: `" + " ".join(["python", "benchmarks/tuned_vs_reference.py", *sys.argv[1:]]) + "`", ""]
        args.md.write_text("\n".join(head) + "\n" + text)


if __name__ == "__main__":
    main()
