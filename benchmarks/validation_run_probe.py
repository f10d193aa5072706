"""Does a longer validation free run rank the search's checkpoints closer to their test D_stsp?

`run FLOW BUDGET`: one population search (`dsrkit.training.search`, the main job's candidates) on the devset's
training file of FLOW (100 000 points, 5 % noise; training 64 000, validation 16 000, standardised on both); every
checkpoint the search scores is kept and afterwards scored three ways: test D_stsp (free run from the first point
of a clean 100 000-point trajectory, 1.25 T, 0.25 T dropped), validation D_stsp over a run of the validation's
length ("short", the protocol's 1.25 T_v) and over the search's long run ("long", `validation_horizon`); and
test D_H beside three validation D_H over the long run: "long_dh" at the protocol's σ on its last T_v steps (the
search's before eb333b3), "avg_dh" with the run's spectra averaged over T_v-long stretches at σ, and "fine_dh"
the same at σ · T_v / T, the test's frequency resolution (the search's since eb333b3, `SPECTRUM_LENGTH`).
Writes benchmarks/results/validation_run_probe/FLOW_COMMIT.json.
`analyse`: for every file there, the rank correlation of validation with test D_stsp over all checkpoints and
among the best 30 % by test D_stsp; where recorded, the same for the D_H variants against test D_H, and the test
scores of the checkpoint the search's rule (√(D_stsp · D_H) + its range and cycle penalties, long run, no
stray-start check) picks with each. Files recorded at 1fb0834 name the two columns "val" and "long30" (the
long run there kept 8 T_v steps after a T_v / 4 transient).
`cost`: seconds of a 128 000-step free run of a 3-D shPLRNN (L = 50) on this machine, median of 5, and of
one checkpoint's validation score (T_v = 16 000, the search's long run, stray-start check included) with
D_H at the protocol's resolution and at the test's.

    python benchmarks/validation_run_probe.py run lorenz63 300
    python benchmarks/validation_run_probe.py analyse
"""

from __future__ import annotations

import importlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "results" / "validation_run_probe"


def run(name: str, budget: float) -> None:
    from dsrkit import Dataset, systems
    from dsrkit.evaluation import compare
    from dsrkit.reconstruction import candidates_for
    from dsrkit.rollout import protocol_free_run
    from dsrkit.training.suggest import suggest

    S = importlib.import_module("dsrkit.training.search")
    s = systems.get(name)
    raw, test_raw = s.trajectory(100_000, seed=0, noise=0.05), s.trajectory(100_000, seed=1)
    mu, sd = raw[:80_000].mean(0), raw[:80_000].std(0)
    z, test = (raw[:80_000] - mu) / sd, (test_raw - mu) / sd
    train, val = z[:64_000], z[64_000:]
    sg = suggest(Dataset([train], s.dt))
    seen, score = [], S.validation_scores
    S.validation_scores = lambda model, v, *a, **k: seen.append(model) or score(model, v, *a, **k)
    S.search(Dataset([train], s.dt), val, candidates_for(sg, "auto", 0, False, budget), budget=budget,
             seq_len=sg.seq_len)
    S.validation_scores = score
    rows, horizon = [], S.validation_horizon(len(val))
    for model in seen:
        short = score(model, val, stray=False)
        long = score(model, val, horizon=horizon, stray=False)
        gen = protocol_free_run(model, test)
        if not (np.isfinite(short["score"]) and np.isfinite(long["score"]) and np.all(np.isfinite(gen))):
            continue
        judged = compare(test, gen)
        rows.append({"test": judged["state_space_divergence"], "test_dh": judged["power_spectrum_distance"],
                     "short": short["val_d_stsp"], "long": long["val_d_stsp"], "long_dh": long["val_d_h"],
                     "long_score": long["score"],
                     # the free run's spectra averaged over T_v-long stretches, at the search's resolution and at
                     # the test's (`validation_scores(spectrum_length=...)`, the search's D_H since eb333b3)
                     "avg_dh": score(model, val, horizon=horizon, stray=False, spectrum_length=len(val))["val_d_h"],
                     "fine_dh": score(model, val, horizon=horizon, stray=False,
                                      spectrum_length=len(test))["val_d_h"]})
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name.replace(':', '_')}_{commit}.json"
    path.write_text(json.dumps(rows))
    print(f"{len(rows)} finite checkpoints -> {path}")


def analyse() -> None:
    from scipy.stats import spearmanr

    for path in sorted(OUT.glob("*.json")):
        rows = json.loads(path.read_text())
        short, long = ("val", "long30") if "val" in rows[0] else ("short", "long")
        t = np.array([r["test"] for r in rows])
        best = t <= np.quantile(t, 0.3)
        out = []
        for key, label in ((short, "1x run"), (long, "long run")):
            v = np.array([r[key] for r in rows])
            out.append(f"{label}: all {spearmanr(v, t)[0]:.2f}, best 30 % {spearmanr(v[best], t[best])[0]:.2f}")
        print(f"{path.stem} ({len(rows)} checkpoints): " + "; ".join(out))
        variants = [k for k in ("long_dh", "avg_dh", "fine_dh") if k in rows[0]]
        if "test_dh" not in rows[0] or not variants:
            continue
        test_dh = np.array([r["test_dh"] for r in rows])
        d_h = {k: np.array([r[k] for r in rows]) for k in variants}
        print("  D_H against test D_H, rank correlation over all / best 30 % by test D_stsp: " + "; ".join(
            f"{k} {spearmanr(v, test_dh)[0]:.2f} / {spearmanr(v[best], test_dh[best])[0]:.2f}" for k, v in d_h.items()))
        if "long_score" in rows[0]:  # the search's rule with each D_H: √(D_stsp · D_H) + the same penalties
            geo = lambda v: np.sqrt(np.maximum(long_stsp, 1e-6) * np.maximum(v, 1e-6))
            long_stsp = np.array([r["long"] for r in rows])
            penalties = np.array([r["long_score"] for r in rows]) - geo(d_h["long_dh"])
            for k, v in d_h.items():
                sel = int(np.argmin(geo(v) + penalties))
                print(f"  picked with {k}: test D_stsp {t[sel]:.3f}, test D_H {test_dh[sel]:.3f}")
            print(f"  best checkpoint by test: D_stsp {t.min():.3f}; by test D_H: {test_dh.min():.3f}")


def cost() -> None:
    import jax

    from dsrkit.rollout import generate
    from dsrkit.training.config import build_model

    model = build_model({"model": "shplrnn", "model_args": {"hidden_dim": 50}}, 3, key=jax.random.key(0))
    x0 = np.full(3, 0.1)
    generate(model, x0, 128_000)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        generate(model, x0, 128_000)
        times.append(time.perf_counter() - t0)
    print(f"128 000-step free run, 3-D shPLRNN (L = 50): median {statistics.median(times):.3f} s of 5")
    import dsrkit
    from dsrkit.training.search import SPECTRUM_LENGTH, validation_horizon, validation_scores

    val = dsrkit.systems.get("lorenz63").trajectory(16_000, seed=0, standardize=True)
    horizon = validation_horizon(len(val))
    for length in (None, SPECTRUM_LENGTH):
        validation_scores(model, val, horizon=horizon, spectrum_length=length)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            validation_scores(model, val, horizon=horizon, spectrum_length=length)
            times.append(time.perf_counter() - t0)
        print(f"validation score, spectrum_length={length}: median {statistics.median(times):.3f} s of 5")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "analyse"
    {"run": lambda: run(sys.argv[2], float(sys.argv[3])), "analyse": analyse, "cost": cost}[cmd]()
