"""A shPLRNN without gradient training: random hidden units placed on the data, read-outs fitted by ridge regression.

The shPLRNN z' = A ⊙ z + W1 relu(W2 z + h2) + h1 with M = N is, for fixed (W2, h2), linear in (A, W1, h1): its
one-step prediction is a ridge regression on the features [z_i, relu(W2 z + h2), 1] (a random feature map,
Gottwald & Reich 2021, "Supervised learning from noisy observations", Physica D 423). Here each hidden unit's
hyperplane passes through a training point (W2 rows are random unit vectors, h2 = −W2 z_anchor), so every
unit switches somewhere on the attractor. With 5 % observation noise the one-step targets are mostly noise, so
the series is first smoothed (Savitzky–Golay, cubic, window w; w = 0: not smoothed).

The question this answers: is such a fit, which takes seconds, good enough to start the main job's gradient
training from (a warm start)? It uses the development set's data (`reconstruct_devset.py`: 100 000 training
points with 5 % noise, seed 0; a clean 100 000-point test file, seed 1). The ridge λ and w are chosen on the last
20 % of the training file (free-run D_stsp from its first point, as the job's validation does), fitted on the
first 80 %, and the chosen fit is scored on the test file by the evaluation protocol.

    python benchmarks/ridge_init_probe.py --flows lorenz63,dysts:Dadras --json out.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time

import numpy as np

LAMBDAS = (1e-8, 1e-7, 1e-6, 1e-5)
WINDOWS = (0, 11, 21)


def ridge_shplrnn(x: np.ndarray, hidden: int, lam: float, seed: int = 0):
    """A float64 ShallowPLRNN (M = N = x.shape[1], L = hidden) whose A, W1, h1 solve the one-step ridge
    regression on the series x (T, N) for random hyperplanes through training points."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from dsrkit.models import ShallowPLRNN

    rng = np.random.default_rng(seed)
    n = x.shape[1]
    w2 = rng.normal(size=(hidden, n))
    w2 /= np.linalg.norm(w2, axis=1, keepdims=True)
    h2 = -(w2 * x[rng.integers(0, len(x), hidden)]).sum(1)
    inputs, targets = x[:-1], x[1:]
    feats = np.maximum(inputs @ w2.T + h2, 0)
    coef = np.empty((n, hidden + 2))
    for i in range(n):
        design = np.column_stack([inputs[:, i], feats, np.ones(len(inputs))])
        coef[i] = np.linalg.solve(design.T @ design + lam * len(inputs) * np.eye(hidden + 2), design.T @ targets[:, i])
    model = ShallowPLRNN(n, n, hidden, key=jax.random.key(seed), dtype=jnp.float64)
    values = (coef[:, 0], coef[:, 1:hidden + 1], w2, coef[:, hidden + 1], h2)
    return eqx.tree_at(lambda m: (m.A, m.W1, m.W2, m.h1, m.h2), model, tuple(jnp.asarray(v) for v in values))


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
    from scipy.signal import savgol_filter

    from dsrkit import systems

    s = systems.get(name)
    train_raw, test_raw = s.trajectory(n, seed=0, noise=0.05), s.trajectory(n, seed=1)
    mu, sd = train_raw.mean(0), train_raw.std(0)
    train, test = (train_raw - mu) / sd, (test_raw - mu) / sd
    cut = int(0.8 * len(train))
    t0 = time.perf_counter()
    trials = []
    for w, lam in itertools.product(WINDOWS, LAMBDAS):
        fit_part = savgol_filter(train[:cut], w, 3, axis=0) if w else train[:cut]
        trials.append({"window": w, "lam": lam, **score(ridge_shplrnn(fit_part, hidden, lam), train[cut:])})
    best = min(trials, key=lambda r: r["d_stsp"])
    w, lam = best["window"], best["lam"]
    model = ridge_shplrnn(savgol_filter(train, w, 3, axis=0) if w else train, hidden, lam)
    return {"flow": name, "hidden": hidden, "n": n, "chosen": {"window": w, "lam": lam},
            "validation": best, "test": score(model, test), "trials": trials,
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
              f"(validation D_stsp {row['validation']['d_stsp']:.3f}); test D_stsp {row['test']['d_stsp']:.3f}, "
              f"D_H {row['test']['d_h']:.3f} ({row['seconds']} s)", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
