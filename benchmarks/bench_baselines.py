"""Quality benchmark of every baseline on Lorenz-63 and Rössler.

Protocol (per system, stated in the output):
- training: one 100 000-point trajectory at the system's dt (Lorenz-63 0.01, Rössler 0.05) with 5 % observation
  noise (`noise=0.05`, seed 0), z-scored with its own mean and std;
- test: an independent clean trajectory (seed 1) of 200 + 100 000 points, z-scored with the training statistics;
  its first 200 points are the warm-up context, the "first test point" is point 199 (the last context point);
- free run: generate(context, 1.25 T) from that point (T = 100 000), drop the first 25 %, compare the remaining T
  points with the T test points: D_stsp (30 bins per dimension), D_H (smoothing 20), via dsrkit.metrics;
- VPT: the first rows of the same free run against the test series (sMAPE threshold 30), in Lyapunov times;
- PE(20): 400 start points (stride 250) of the test series, each forecast 20 steps from a 200-point context;
  mean squared error at step 20;
- status: the Reconstructor's status after the free run; metrics of a diverged run are not reported.

Usage:
    python benchmarks/bench_baselines.py [--systems lorenz63 rossler] [--methods esn sindy ...]
        [--n-train 100000] [--out benchmarks/results/baselines.jsonl] [--params JSON] [--label SUFFIX]
    python benchmarks/bench_baselines.py --table benchmarks/results/baselines.jsonl   # print the markdown table
Results are appended as JSON lines as each method finishes; the markdown table is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import dsrkit
from dsrkit import baselines, metrics

CONTEXT = 200
PE_STARTS, PE_STRIDE, PE_STEPS = 400, 250, 20

# Settings per method: reasonable, not tuned per system beyond what is stated.
SETTINGS = {
    "mean": {},
    "last_value": {},
    "parroting": dict(match_length=10),
    "sindy": dict(degree=2, threshold=0.1, differentiation="smoothed"),
    "esn": dict(units=1000, spectral_radius=0.9, leak=0.3, input_scaling=0.5, connectivity=0.02, ridge=1e-6),
    "nvar": dict(delays=3, skip=5, degree=2, ridge=50.0),
    "edmd": dict(dictionary="polynomial", degree=3),
    "mpedmd": dict(dictionary="polynomial", degree=3),
    "havok": dict(delays=50, rank=10, stabilize="unit"),
    "node": dict(width=64, depth=2, window=10, batch_size=32, train_steps=3000, learning_rate=3e-3),
    "lstm": dict(hidden=64, window=50, warmup=10, forcing_interval=5, batch_size=32, train_steps=3000),
    "gru": dict(hidden=64, window=50, warmup=10, forcing_interval=5, batch_size=32, train_steps=3000),
    "alrnn": dict(latent_dim=20, relu_units=2, interval=16, sequence_length=200, epochs=300, input_noise=0.05),
    "plrnn": dict(latent_dim=20, interval=16, sequence_length=200, epochs=300, input_noise=0.05),
    "shplrnn": dict(latent_dim=3, hidden_dim=50, clipped=True, interval=16, sequence_length=200, epochs=300,
                    input_noise=0.05),
}


def data(system: str, n_train: int):
    s = dsrkit.systems.get(system)
    train = s.trajectory(n_train, noise=0.05, seed=0)
    mu, sd = train.mean(0), train.std(0)
    test = s.trajectory(CONTEXT - 1 + n_train, seed=1)
    return s, (train - mu) / sd, (test - mu) / sd


def pe(model, test):
    errs = []
    for t in range(CONTEXT, CONTEXT + PE_STARTS * PE_STRIDE, PE_STRIDE):
        if t + PE_STEPS >= len(test):
            break
        f = model.forecast(test[t - CONTEXT + 1 : t + 1], PE_STEPS)
        errs.append(np.mean((f[-1] - test[t + PE_STEPS]) ** 2))
    return float(np.mean(errs))


def run_one(name, system, s, train, test, params=None):
    params = SETTINGS[name] if params is None else params
    row = {"system": system, "method": name, "params": params, "n_train": len(train)}
    t0 = time.perf_counter()
    try:
        m = baselines.get(name, **params).fit(train, seed=0, dt=s.dt)
    except Exception as err:  # a crash in fitting is reported as a failed row, the benchmark goes on
        row.update(status="failed", reason=f"{type(err).__name__}: {err}", train_s=time.perf_counter() - t0)
        return row
    row["train_s"] = time.perf_counter() - t0
    T = len(test) - CONTEXT + 1
    truth = test[CONTEXT - 1 :]
    t1 = time.perf_counter()
    gen = m.generate(test[:CONTEXT], int(1.25 * T))
    row["generate_s"] = time.perf_counter() - t1
    row["status"], row["reason"] = m.status_, m.reason_
    lam = s.reference["lyapunov_max"]
    if m.status_ == "ok":
        kept = gen[len(gen) - T :]
        row["d_stsp"] = metrics.state_space_divergence(truth, kept, bins=30)
        row["d_h"] = metrics.power_spectrum_distance(truth, kept, smoothing=20.0)
        H = min(T, int(30 / (lam * s.dt)))
        row["vpt"] = metrics.valid_prediction_time(truth[:H], gen[:H], dt=s.dt, lyapunov_max=lam)
    row["pe20"] = pe(m, test)
    if m.status_ != "ok":
        row["pe_note"] = f"some 20-step forecasts were {m.status_}: {m.reason_}"
    return row


def floor_row(system, s, train, test, n_train):
    """Metric floor: an independent clean trajectory of the true system (seed 2), scored like a model's free run."""
    raw = s.trajectory(n_train, noise=0.05, seed=0)
    other = (s.trajectory(n_train, seed=2) - raw.mean(0)) / raw.std(0)
    truth = test[CONTEXT - 1 :]
    return {"system": system, "method": "(true system, seed 2)", "status": "ok", "params": {},
            "d_stsp": metrics.state_space_divergence(truth, other, bins=30),
            "d_h": metrics.power_spectrum_distance(truth, other, smoothing=20.0)}


def fmt(v, spec):
    return "—" if v is None or (isinstance(v, float) and not np.isfinite(v)) else format(v, spec)


def table(rows) -> str:
    out = []
    for system in dict.fromkeys(r["system"] for r in rows):
        out += [f"\n**{system}**\n", "| method | D_stsp | D_H | PE(20) | VPT (Λt) | train s | status |",
                "|---|---|---|---|---|---|---|"]
        for r in [r for r in rows if r["system"] == system]:
            out.append(
                f"| {r['method']} | {fmt(r.get('d_stsp'), '.3f')} | {fmt(r.get('d_h'), '.3f')} | "
                f"{fmt(r.get('pe20'), '.3g')} | {fmt(r.get('vpt'), '.2f')} | {fmt(r.get('train_s'), '.1f')} | "
                f"{r['status']} |"
            )
    out += ["\n**Settings** (everything else at the method's defaults; seed 0)\n"]
    seen = {}
    for r in rows:
        seen.setdefault(r["method"], {})[r["system"]] = r.get("params", {})
    for method, per_system in seen.items():
        variants = {json.dumps(p, sort_keys=True) for p in per_system.values()}
        for v in sorted(variants):
            systems = ", ".join(k for k, p in per_system.items() if json.dumps(p, sort_keys=True) == v)
            out.append(f"- {method} ({systems}): `{v}`")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", nargs="+", default=["lorenz63", "rossler"])
    ap.add_argument("--methods", nargs="+", default=list(SETTINGS))
    ap.add_argument("--n-train", type=int, default=100_000)
    ap.add_argument("--out", default="benchmarks/results/baselines.jsonl")
    ap.add_argument("--params", default="{}", help='JSON overrides, e.g. \'{"esn": {"leak": 0.2}}\' (merged)')
    ap.add_argument("--label", default="", help="suffix for the method name in the results (e.g. a variant)")
    ap.add_argument("--floor", action="store_true", help="also score an independent clean trajectory (seed 2)")
    ap.add_argument("--table", help="only print the markdown table of an existing JSON-lines file")
    args = ap.parse_args()
    if args.table:
        print(table([json.loads(line) for line in Path(args.table).read_text().splitlines() if line.strip()]))
        return
    rows = []
    for system in args.systems:
        s, train, test = data(system, args.n_train)
        if args.floor:
            rows.append(floor_row(system, s, train, test, args.n_train))
            with open(args.out, "a") as fh:
                fh.write(json.dumps(rows[-1]) + "\n")
        for name in args.methods:
            if name not in baselines.names():
                raise SystemExit(f"unknown method {name}; valid: {baselines.names()}")
            params = {**SETTINGS[name], **json.loads(args.params).get(name, {})}
            row = run_one(name, system, s, train, test, params)
            row["method"] += args.label
            rows.append(row)
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(json.dumps({k: row.get(k) for k in ("system", "method", "d_stsp", "d_h", "pe20", "vpt", "train_s",
                                                       "status", "reason")}), flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
