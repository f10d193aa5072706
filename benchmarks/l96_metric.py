"""Does a D_stsp variant rank models on Lorenz-96 (N = 10, F = 8)? The check behind the core suite's choice.

Rows (all compared with one test trajectory, standardised with the training data's mean and std as the benchmark
runner does):
  floor       a second, independent trajectory of the true system (the best any model can do at this length)
  F=8.1       the true system with F = 8.1: a "good model" proxy (a slightly wrong parameter)
  <methods>   fitted baselines (default edmd and esn), free-running by the evaluation protocol (1.25 T steps from
              the first test point, the first 0.25 T dropped)
  F=5         the true system at F = 5 (a bad model: smaller, more regular attractor)
  mean        the mean predictor (a constant: the training mean)
Columns: the binned variant (what method="auto" picks at N <= 10), the GMM variant (mean and standard deviation
over 5 Monte-Carlo seeds), the "marginal" and "pca" (k = 2) variants, and D_H.

    python benchmarks/l96_metric.py                       # n_train 20 000, n_test 100 000 (the suite's sizes)
    python benchmarks/l96_metric.py --n-test 10000        # the former test length

Prints a markdown table and whether the "marginal" variant orders floor < best fitted model < F=5 < mean with the
mean at least 5x the best fitted model.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import dsrkit as dsr
from dsrkit.metrics import power_spectrum_distance, state_space_divergence
from dsrkit.rollout import protocol_free_run


def columns(test, gen, gmm_seeds=5):
    d = lambda **kw: state_space_divergence(test, gen, **kw)  # noqa: E731
    gmm = [d(method="gmm", seed=s) for s in range(gmm_seeds)]
    return {"binned": d(method="binned"), "gmm": float(np.mean(gmm)), "gmm_sd": float(np.std(gmm)),
            "marginal": d(method="marginal"), "pca2": d(method="pca", components=2),
            "D_H": power_spectrum_distance(test, gen)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-train", type=int, default=20_000)
    ap.add_argument("--n-test", type=int, default=100_000)
    ap.add_argument("--transient", type=int, default=2000)
    ap.add_argument("--methods", nargs="*", default=["edmd", "esn"])
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    system = dsr.systems.get("lorenz96", n=10)
    common = dict(transient=args.transient)
    train = system.trajectory(args.n_train, seed=0, **common)
    test = system.trajectory(args.n_test, seed=1, **common)
    mu, sd = train.mean(axis=0), train.std(axis=0)
    z = lambda x: (np.asarray(x) - mu) / sd  # noqa: E731
    ztrain, ztest = z(train), z(test)
    rows = {"floor": z(system.trajectory(args.n_test, seed=3, **common)),
            "F=8.1": z(dsr.systems.get("lorenz96", n=10, F=8.1).trajectory(args.n_test, seed=5, **common))}
    fitted = []
    for name in args.methods:
        t1 = time.perf_counter()
        method = dsr.baselines.get(name)
        method.fit(dsr.Dataset(ztrain, dt=system.dt), seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gen = protocol_free_run(method, ztest)
        status = getattr(method, "status_", "ok")
        print(f"{name}: fit + free run {time.perf_counter() - t1:.1f} s, status {status}")
        if np.isfinite(gen).all() and status == "ok":
            rows[name] = gen
            fitted.append(name)
    rows["F=5"] = z(dsr.systems.get("lorenz96", n=10, F=5.0).trajectory(args.n_test, seed=5, **common))
    rows["mean"] = np.zeros_like(ztest)  # the training mean in standardised units
    table = {name: columns(ztest, gen) for name, gen in rows.items()}
    print(f"\nLorenz-96 N = 10, F = 8, dt = {system.dt}; n_train {args.n_train}, n_test {args.n_test}, "
          f"transient {args.transient}; standardised with the training statistics\n")
    print("| row | binned | GMM (σ² = 1; mean ± sd, 5 MC seeds) | marginal | pca (k = 2) | D_H |")
    print("|---|---|---|---|---|---|")
    for name, c in table.items():
        print(f"| {name} | {c['binned']:.3g} | {c['gmm']:.3g} ± {c['gmm_sd']:.2g} | {c['marginal']:.3g} | "
              f"{c['pca2']:.3g} | {c['D_H']:.3g} |")
    if fitted:
        for variant in ("marginal", "pca2", "gmm", "binned"):
            best = min(fitted, key=lambda m: table[m][variant])
            v = {k: table[k][variant] for k in ("floor", best, "F=5", "mean")}
            ordered = v["floor"] < v[best] < v["F=5"] < v["mean"]
            ratio = v["mean"] / v[best] if v[best] > 0 else float("inf")
            print(f"{variant}: floor {v['floor']:.3g} < best fitted ({best}) {v[best]:.3g} < F=5 {v['F=5']:.3g} < "
                  f"mean {v['mean']:.3g}: {ordered}; mean / best = {ratio:.3g} ({'>=' if ratio >= 5 else '<'} 5)")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
