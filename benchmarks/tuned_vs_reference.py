"""dsrkit's TUNED esn, nvar and sindy against reservoirpy's ESN / NVAR and pysindy used directly, on the core tasks.

The question this answers (issue "A leaderboard worth citing", item 2): with the same tuning budget as every other
method, is the best of dsrkit's fast baselines within 1.25x (D_stsp) of the same method used directly through its
reference library, on every low-dimensional task of the core suite?

Data: the tasks of `suites/core.toml` exactly as `dsr bench core` builds them (`dsrkit.bench.build_data`, seed 0):
lorenz63, rossler and hindmarsh_rose, clean and with 5 % observation noise on the training data; 20 000 training
points and an independent clean test trajectory of 100 000 points, both after 2000 transient samples and
standardised with the training mean and std.

Methods (every one sees one observation, the first test point, at the start of its free run):
- `esn-tuned`, `nvar-tuned`, `sindy-tuned`: the core suite's tuned entries run by the benchmark's own
  `dsrkit.bench.execute_run` (8 trials of the method's `_search_space`, defaults among them, fitted on the first
  16 000 training points and scored on the last 4000 by `selection_score`; the best refitted on all 20 000);
- `esn`, `nvar`, `sindy`: the same at their defaults (the suite's untuned entries), for reference;
- `rpy-esn`, `rpy-nvar`, `pysindy`: the reference libraries used directly at their documented settings, as in
  `benchmarks/baselines_vs_reference.py` (reservoirpy `Reservoir(1000, lr=0.3, sr=1.25, ...) >> Ridge(1e-8)`;
  `NVAR(delay=2, order=2, strides=1) >> Ridge(2.5e-6)` on increments; `ps.SINDy()` at its defaults integrated with
  DOP853), seed 0;
- `floor`: an independent true trajectory against the test series (`dsrkit.bench.execute.execute_floor`).

Scoring: the task's metrics (binned D_stsp, D_H) of the free run of 1.25 T steps, first 0.25 T dropped. A reference
run is "diverged" when a row is non-finite or farther than 10 half-ranges from the training data (dsrkit's rule).

Usage:
    python benchmarks/tuned_vs_reference.py [--tasks lorenz63 ...] [--methods esn-tuned rpy-esn ...]
        [--trials 8] [--n-train 20000] [--n-test 100000] [--json out.jsonl] [--md out.md]
    python benchmarks/tuned_vs_reference.py --from-json out.jsonl [--md out.md]     # the tables of earlier rows
"""

from __future__ import annotations

import argparse
import datetime
import json
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


def configs(task: str, args) -> dict:
    """The core suite's run configurations of `task` (seed 0) by method label, with the lengths of `args`."""
    from dsrkit.bench import load_suite

    suite = load_suite("core").select(tasks=[task], methods=["esn", "nvar", "sindy", *TUNED], seeds=[0])
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
    m = REFERENCE[method]().fit(train, dt, seed=0)
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
    return "div." if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def _ratio(a, b) -> str:
    """D_stsp of dsrkit `a` over the reference `b` with the 1.25x check (a diverged reference counts as met)."""
    if a is None and b is None:
        return "both div."
    if a is None:
        return "✗ div."
    if b is None:
        return "✓ (ref. div.)"
    return f"{'✓' if a / b <= RATIO_LIMIT else '✗'} {a / b:.2f}"


def _best(by, task, methods):
    done = [(by[(task, m)]["d_stsp"], m) for m in methods if (task, m) in by and by[(task, m)]["d_stsp"] is not None]
    return min(done) if done else (None, None)


def tables(rows, methods) -> str:
    by = {(r["task"], r["method"]): r for r in rows}
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    out = []
    for key, title in (("d_stsp", "D_stsp"), ("d_h", "D_H")):
        out += [f"**{title}** (lower is better; div. = diverged)\n", "| task | " + " | ".join(methods) + " |",
                "|---" * (len(methods) + 1) + "|"]
        for t in tasks:
            out.append(f"| {t} | " + " | ".join(_num(by[(t, m)][key]) if (t, m) in by else "–" for m in methods)
                       + " |")
        out.append("")
    pairs = [(a, b) for a, b in PAIRS if a in methods and b in methods]
    out += [f"**tuned dsrkit / reference used directly** (D_stsp ratio; ✓ at most {RATIO_LIMIT}×). Last column: the "
            "best tuned dsrkit method against the best of the three references\n",
            "| task | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " | best tuned / best reference |",
            "|---" * (len(pairs) + 2) + "|"]
    for t in tasks:
        cells = [_ratio(by.get((t, a), {}).get("d_stsp"), by.get((t, b), {}).get("d_stsp")) for a, b in pairs]
        (a, ma), (b, mb) = _best(by, t, TUNED), _best(by, t, REFERENCES)
        best = _ratio(a, b) + (f" ({ma} vs {mb})" if ma and mb else "")
        out.append(f"| {t} | " + " | ".join(cells) + f" | {best} |")
    out.append("")
    out += ["**chosen settings** (index of the chosen trial, 0 = the defaults; the validation score of every trial "
            "is in the JSON lines)\n", "| task | " + " | ".join(m for m in TUNED if m in methods) + " |",
            "|---" * (len([m for m in TUNED if m in methods]) + 1) + "|"]
    for t in tasks:
        cells = []
        for m in TUNED:
            if m in methods:
                r = by.get((t, m))
                cells.append("–" if not r or "chosen" not in r else
                             f"#{r['best_trial']}: " + ", ".join(f"{k}={v}" for k, v in r["chosen"].items()))
        out.append(f"| {t} | " + " | ".join(cells) + " |")
    out += ["", "**seconds** (fit, tuning and free run of each method; floor: its trajectory and metrics)\n",
            "| task | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for t in tasks:
        out.append(f"| {t} | " + " | ".join(f"{by[(t, m)]['seconds']:.0f}" if (t, m) in by else "–" for m in methods)
                   + " |")
    out.append("")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=TASKS, choices=TASKS)
    ap.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--n-train", type=int, default=20_000)
    ap.add_argument("--n-test", type=int, default=100_000)
    ap.add_argument("--json", type=Path, help="append one JSON line per (task, method)")
    ap.add_argument("--md", type=Path, help="write the markdown tables (with date, machine and command) here")
    ap.add_argument("--from-json", type=Path, help="only make the tables of a JSON-lines file")
    args = ap.parse_args(argv)

    if args.from_json:
        rows = [json.loads(line) for line in args.from_json.read_text().splitlines() if line.strip()]
        rows = [r for r in rows if r["task"] in args.tasks and r["method"] in args.methods]
    else:
        rows, start = [], time.perf_counter()
        for task in args.tasks:
            cfgs = configs(task, args)
            for method in args.methods:
                if method == "floor":
                    row = run_floor(task, cfgs["esn"])
                elif method in REFERENCE:
                    row = run_reference(task, method, cfgs["esn"])
                else:
                    row = run_dsrkit(task, method, cfgs[method])
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
