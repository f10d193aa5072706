"""Hierarchical reconstruction of families of systems against separate models, with a read-out of the control
parameter from the learned features and few-shot fits of held-out members.

For each family: 10 values of a control parameter, each a 2 000-point training series with 5 % observation noise
(seed 0) and an independent clean test trajectory (seed 1, `--test-points`), all standardised by one
standardiser fitted on the training series. Then
- one hierarchical AL-RNN (`train_hierarchical`, K features) against 10 separate AL-RNNs of the same size, each
  trained on its own series with the same total budget (the hierarchical model's epochs / 10 each, so both
  process the same number of training windows); every model judged on its member's test trajectory by the
  evaluation protocol (`dsrkit.evaluate`: D_stsp, D_H, λ_max from the Jacobians per unit time);
- regime agreement: the model's λ_max and the true system's (`lyapunov_spectrum` of the flow) classified as
  chaotic when above `CHAOS` per unit time (0.02), else periodic or fixed point;
- leave-one-out linear read-out of the parameter from the features l_s (least squares with intercept on the
  other 9 members), |r| between prediction and truth;
- few-shot: for two held-out values, `fit_features` on a 2 000-point noisy series (group parameters frozen),
  D_stsp on that value's clean test trajectory against the in-training median, wall time;
- a sweep along the line between the features of the lowest and highest parameter (figure in results/).

Families (regimes measured with `lyapunov_spectrum`, 20 000 steps after 20 000, σ = 10, β = 8/3):
- Lorenz-63, ρ ∈ {22, 23, 23.5}: stable fixed points C± after transient chaos (λ_max −0.086, −0.054, −0.039;
  the series are spirals into C±), ρ ∈ {25, 27, 29, 31, 33, 36, 40}: chaotic (λ_max 0.84 … 1.12). Held out
  22.5 (fixed point, −0.070) and 34 (chaotic, 1.03). (22–40 holds no periodic window; the bistable band
  24.06–24.74 is avoided.)
- Rössler (a = b = 0.2), c ∈ {2.5, 3, 3.5, 4, 5.3, 6}: periodic (period doubling 1, 2, 4 … and windows;
  |λ_max| ≤ 0.001), c ∈ {4.6, 5, 5.7, 6.4}: chaotic (0.062 … 0.094). Held out 3.2 (periodic) and 4.8 (chaotic,
  0.071).

    python benchmarks/hierarchical_family.py                      # both families at the default (reduced) size
    python benchmarks/hierarchical_family.py --epochs 2000        # the full budget of the published Lorenz runs
    python benchmarks/hierarchical_family.py --kind shplrnn       # shPLRNNs with adaptive GTF instead of AL-RNNs
    python benchmarks/hierarchical_family.py --summary

One JSON line per (family, settings) in results/hierarchical_family.jsonl; a line already there is skipped.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "hierarchical_family.jsonl"
CHAOS = 0.02  # λ_max per unit time above which a model or system counts as chaotic
FAMILIES = {
    "lorenz63": {"param": "rho", "train": [22, 23, 23.5, 25, 27, 29, 31, 33, 36, 40], "held_out": [22.5, 34],
                 "seq_len": 200, "interval": 16, "lr": [1e-3, 1e-5]},
    "rossler": {"param": "c", "train": [2.5, 3.0, 3.5, 4.0, 4.6, 5.0, 5.3, 5.7, 6.0, 6.4], "held_out": [3.2, 4.8],
                "seq_len": 300, "interval": 8, "lr": [5e-3, 1e-5]},
}


def series(name: str, value: float, n_train: int, n_test: int):
    from dsrkit import systems

    s = systems.get(name, **{FAMILIES[name]["param"]: value})
    return s.trajectory(n_train, seed=0, noise=0.05), s.trajectory(n_test, seed=1), s.dt


def true_lambda(name: str, value: float) -> float:
    from dsrkit import systems
    from dsrkit.metrics import lyapunov_spectrum

    s = systems.get(name, **{FAMILIES[name]["param"]: value})
    return float(lyapunov_spectrum(s, 20_000, transient=20_000, n_exponents=1)[0])


def judge(model, test, dt) -> dict:
    from dsrkit import evaluate

    m = evaluate(model, test, dt=dt)
    return {"d_stsp": m.get("state_space_divergence"), "d_h": m.get("power_spectrum_distance"),
            "lyapunov_max": m.get("lyapunov_max"), "status": str(m["status"])}


def loo_readout(features: np.ndarray, values: np.ndarray) -> tuple[float, list]:
    """Leave-one-out least-squares prediction of the parameter from [1, l_s]; returns (|r|, predictions)."""
    X = np.column_stack([np.ones(len(values)), features])
    pred = []
    for i in range(len(values)):
        keep = np.arange(len(values)) != i
        coef, *_ = np.linalg.lstsq(X[keep], values[keep], rcond=None)
        pred.append(float(X[i] @ coef))
    return float(abs(np.corrcoef(pred, values)[0, 1])), pred


def regime(lam) -> str:
    return "unknown" if lam is None or not np.isfinite(lam) else ("chaotic" if lam > CHAOS else "non-chaotic")


def run_family(name: str, args, results: Path = RESULTS) -> dict:
    import jax

    import dsrkit
    from dsrkit.hierarchical import sweep
    from dsrkit.training import STF, AdaptiveGTF
    from dsrkit.training.hierarchical import fit_features, train_hierarchical

    spec = FAMILIES[name]
    values = np.asarray(spec["train"], float)
    data = [series(name, v, args.train_points, args.test_points) for v in values]
    dt = data[0][2]
    train_raw = [d[0] for d in data]
    _, scaler = dsrkit.Dataset(train_raw, dt).standardize()
    train = [scaler.transform(x) for x in train_raw]
    tests = [scaler.transform(d[1]) for d in data]
    truth = [true_lambda(name, v) for v in values]
    if args.kind == "shplrnn":  # the configuration the main job's search selects most (adaptive GTF, L = 50)
        scheme, sizes = AdaptiveGTF(), {"latent_dim": 3, "hidden_dim": 50}
        common = dict(seq_len=spec["seq_len"], lr=(1e-3, 1e-5), input_noise=0.05)
    else:
        scheme, sizes = STF(spec["interval"]), {"latent_dim": 20, "relu_units": 2}
        common = dict(seq_len=spec["seq_len"], lr=tuple(spec["lr"]), input_noise=0.0)
    out = {"family": name, "param": spec["param"], "values": values.tolist(), "true_lyapunov_max": truth,
           "settings": {"K": args.K, "epochs": args.epochs, "train_points": args.train_points,
                        "test_points": args.test_points, "kind": args.kind, **sizes,
                        "scheme": repr(scheme), **common, "few_shot_epochs": args.few_shot_epochs,
                        "reduced": args.epochs < 2000}}

    t0 = time.perf_counter()
    fit = train_hierarchical(train, K=args.K, kind=args.kind, **sizes, scheme=scheme,
                             epochs=args.epochs, eval_every=max(1, args.epochs // 20), seed=0, **common)
    out["hierarchical_seconds"] = time.perf_counter() - t0
    hier = [judge(fit.model.for_series(s), tests[s], dt) for s in range(len(values))]
    out["hierarchical"] = hier
    out["features"] = np.asarray(fit.model.features).tolist()
    print(f"{name}: hierarchical {out['hierarchical_seconds']:.0f} s", flush=True)

    t0 = time.perf_counter()
    separate = []
    per_model = max(1, args.epochs // len(values))
    for s in range(len(values)):
        m = (dsrkit.models.ShallowPLRNN(train[s].shape[1], 3, 50, key=jax.random.key(s)) if args.kind == "shplrnn"
             else dsrkit.models.ALRNN(train[s].shape[1], 20, 2, key=jax.random.key(s)))
        f = dsrkit.train(m, train[s], scheme, epochs=per_model, eval_every=max(1, per_model // 10), seed=s,
                         progress=False, **common)
        separate.append(judge(f.model, tests[s], dt))
    out["separate_seconds"] = time.perf_counter() - t0
    out["separate_epochs_each"] = per_model
    out["separate"] = separate
    print(f"{name}: separate {out['separate_seconds']:.0f} s", flush=True)

    med = lambda rows: float(np.median([np.inf if r["d_stsp"] is None else r["d_stsp"] for r in rows]))  # noqa: E731
    out["median_d_stsp"] = {"hierarchical": med(hier), "separate": med(separate)}
    out["regime_agreement"] = {k: int(sum(regime(r["lyapunov_max"]) == regime(t) for r, t in zip(rows, truth)))
                               for k, rows in (("hierarchical", hier), ("separate", separate))}
    r, pred = loo_readout(np.asarray(fit.model.features, float), values)
    out["readout"] = {"abs_r": r, "loo_predictions": pred}

    few = []
    X = np.column_stack([np.ones(len(values)), np.asarray(fit.model.features, float)])
    coef, *_ = np.linalg.lstsq(X, values, rcond=None)
    for v in spec["held_out"]:
        tr, te, _ = series(name, v, args.train_points, args.test_points)
        t0 = time.perf_counter()
        ff = fit_features(fit, scaler.transform(tr), epochs=args.few_shot_epochs)
        seconds = time.perf_counter() - t0
        row = {"value": v, "seconds": seconds, "true_lyapunov_max": true_lambda(name, v),
               "predicted_value": float(np.r_[1.0, ff.features] @ coef), **judge(ff.model, scaler.transform(te), dt)}
        row["ratio_to_in_training_median"] = (row["d_stsp"] / out["median_d_stsp"]["hierarchical"]
                                              if row["d_stsp"] is not None else None)
        few.append(row)
    out["few_shot"] = few

    order = np.argsort(values)
    sw = sweep(fit.model, fit.model.features[order[0]], fit.model.features[order[-1]], 12,
               x0=tests[order[-1]][0], dt=dt)
    fig_path = results.parent / f"{results.stem}_{name}_sweep.png"
    sw.figure.savefig(fig_path, dpi=100, bbox_inches="tight")
    out["sweep"] = [{k: r[k] for k in ("t", "lyapunov_max", "n_subregions", "n_stable_fixed_points")}
                    for r in sw.rows]
    from dsrkit.hierarchical import feature_figure

    feature_figure(fit.model.features, values, [f"{v:g}" for v in values], spec["param"]).savefig(
        results.parent / f"{results.stem}_{name}_features.png", dpi=100, bbox_inches="tight")
    return out


def summary(path: Path = RESULTS) -> str:
    if not path.exists():
        return "no results yet"
    lines = []
    for line in path.read_text().splitlines():
        r = json.loads(line)
        s = r["settings"]
        lines.append(
            f"{r['family']} ({s.get('kind', 'alrnn')}, epochs {s['epochs']}{', reduced' if s['reduced'] else ''}, K {s['K']}): median D_stsp "
            f"hierarchical {r['median_d_stsp']['hierarchical']:.3f} vs separate {r['median_d_stsp']['separate']:.3f}"
            f" (ratio {r['median_d_stsp']['separate'] / r['median_d_stsp']['hierarchical']:.2f}); regime agreement "
            f"{r['regime_agreement']['hierarchical']}/10 vs {r['regime_agreement']['separate']}/10; LOO |r| "
            f"{r['readout']['abs_r']:.3f}; few-shot " + ", ".join(
                f"{f['value']:g}: D_stsp {f['d_stsp'] if f['d_stsp'] is None else round(f['d_stsp'], 3)} "
                f"(x{f['ratio_to_in_training_median'] if f['ratio_to_in_training_median'] is None else round(f['ratio_to_in_training_median'], 2)}"
                f", {f['seconds']:.0f} s)" for f in r["few_shot"]))
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--epochs", type=int, default=400, help="hierarchical epochs (separate models: this / 10 each)")
    p.add_argument("--K", type=int, default=3)
    p.add_argument("--kind", choices=("alrnn", "shplrnn"), default="alrnn",
                   help="alrnn: M = 20, P = 2, STF; shplrnn: M = N, L = 50, adaptive GTF, 5 %% input noise")
    p.add_argument("--train-points", type=int, default=2000)
    p.add_argument("--test-points", type=int, default=5000)
    p.add_argument("--few-shot-epochs", type=int, default=60)
    p.add_argument("--summary", action="store_true")
    p.add_argument("--results", type=Path, default=RESULTS, help="the JSON-lines file (figures go beside it)")
    args = p.parse_args()
    results = args.results
    if args.summary:
        print(summary(results))
        return
    done = set()
    if results.exists():
        done = {(r["family"], json.dumps(r["settings"], sort_keys=True))
                for r in map(json.loads, results.read_text().splitlines())}
    for name in args.families.split(","):
        if name not in FAMILIES:
            raise SystemExit(f"unknown family {name!r}; expected one of {sorted(FAMILIES)}")
        key_settings = {"K": args.K, "epochs": args.epochs, "train_points": args.train_points,
                        "test_points": args.test_points, "kind": args.kind}
        if any(f == name and all(json.loads(s).get(k, "alrnn" if k == "kind" else None) == v
                                 for k, v in key_settings.items()) for f, s in done):
            print(f"{name}: already in {results.name}, skipped")
            continue
        t0 = time.perf_counter()
        row = run_family(name, args, results)
        row["seconds"] = time.perf_counter() - t0
        row["machine"] = platform.processor() or platform.machine()
        results.parent.mkdir(parents=True, exist_ok=True)
        with results.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(summary(results), flush=True)


if __name__ == "__main__":
    main()
