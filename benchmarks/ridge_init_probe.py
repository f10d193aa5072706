"""A shPLRNN fitted by ridge regression alone (`dsrkit.training.warm_start`, no gradient training), on the
development set's data.

The question: is the regression start, which takes seconds, good enough to begin the main job's training from?
Data as in `reconstruct_devset.py` (100 000 training points with 5 % noise, seed 0; a clean 100 000-point test
file, seed 1, both standardised with the training file's mean and std). The ridge weight λ and the smoothing
window w are chosen by `warm_start.choose_fit` (the search's validation score) with the first 80 % of the
training file for the fit and the last 20 % for validation; the chosen (λ, w) are then fitted on the whole
training file, and that model is scored on the test file by the evaluation protocol.

    python benchmarks/ridge_init_probe.py --flows lorenz63,dysts:Dadras --json out.jsonl
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def score(model, series: np.ndarray) -> dict:
    """D_stsp and D_H of the protocol's free run from series[0] against series (inf where it diverges)."""
    from dsrkit.evaluation import Protocol, compare
    from dsrkit.rollout import protocol_free_run

    gen = protocol_free_run(model, series, Protocol(), dtype=np.float64)
    if not np.all(np.isfinite(gen)) or np.abs(gen).max() > 1e3:
        return {"d_stsp": float("inf"), "d_h": float("inf")}
    m = compare(series, gen, Protocol())
    return {"d_stsp": float(m["state_space_divergence"]), "d_h": float(m["power_spectrum_distance"])}


def probe(name: str, n: int, hidden: int) -> dict:
    import jax

    from dsrkit import systems
    from dsrkit.models import ShallowPLRNN
    from dsrkit.training.warm_start import choose_fit, regression_start

    s = systems.get(name)
    train_raw, test_raw = s.trajectory(n, seed=0, noise=0.05), s.trajectory(n, seed=1)
    mu, sd = train_raw.mean(0), train_raw.std(0)
    train, test = (train_raw - mu) / sd, (test_raw - mu) / sd
    cut = int(0.8 * len(train))
    key = jax.random.key(0)
    t0 = time.perf_counter()
    fit = choose_fit(train[:cut], train[cut:], hidden, key=key)
    model = regression_start(ShallowPLRNN(3, 3, hidden, key=key), train, lam=fit["lam"], window=fit["window"],
                             key=key)
    return {"flow": name, "hidden": hidden, "n": n, "chosen": {"window": fit["window"], "lam": fit["lam"]},
            "validation_score": fit["score"], "test": score(model, test), "trials": fit["trials"],
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> None:
    import subprocess

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", default="lorenz63,rossler,hindmarsh_rose,dysts:Dadras,dysts:WangSun")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--hidden", type=int, default=150)
    ap.add_argument("--json", default=None, help="append one JSON line per flow here")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    for name in args.flows.split(","):
        row = probe(name, args.n, args.hidden)
        row.update(machine=f"{platform.machine()} ({__import__('os').cpu_count()} cores)",
                   date=time.strftime("%Y-%m-%d"), commit=commit)
        print(f"{name}: chosen w={row['chosen']['window']} λ={row['chosen']['lam']:g} "
              f"(validation score {row['validation_score']:.3f}); test D_stsp {row['test']['d_stsp']:.3f}, "
              f"D_H {row['test']['d_h']:.3f} ({row['seconds']} s)", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
