"""dsrkit's fast baselines at their defaults against the same methods used directly (reservoirpy, pysindy).

The question this answers: are dsrkit's `esn`, `nvar` and `sindy` at their DEFAULT settings at least as good as
the same method used the way its reference library documents it, on the same data, by the same protocol?

Data (per flow of the dysts catalogue, through `dsrkit.systems.get("dysts:NAME")`: SciPy DOP853 at
rtol = atol = 1e-10, dt = catalogue period / 100, i.e. dysts' `make_trajectory(n, resample=True,
pts_per_period=100)` sampling):
- training: `trajectory(n_train, transient=2000, seed=0, noise=0.05)` (5 % observation noise);
- test: an independent clean trajectory `trajectory(n_test, transient=2000, seed=1)`;
- both standardised with the mean and std of the training series.

Protocol (docs/design.md, `dsrkit.rollout.protocol_free_run`): free run from the first test point for 1.25 T
steps (T = n_test), drop the first round(0.25 T), compare the remaining T rows with the test series by D_stsp
(binned, 30 bins per dimension) and D_H (smoothing 20). A free run is "diverged" when a row is non-finite or
farther than 10 half-ranges from the centre of the training data in some variable (the criterion of dsrkit's
`Reconstructor.status_`, applied here to every method alike); its metrics are not reported.

Methods (every one sees exactly one observation, the first test point, at the start of its free run):
- `esn`, `nvar`, `sindy`: `dsrkit.baselines.get(name)` at defaults, `fit(train, dt=dt, seed=0)`;
- `rpy-esn`: reservoirpy 0.4 `Reservoir(1000, lr=0.3, sr=1.25, input_scaling=1.0, rc_connectivity=0.1,
  input_connectivity=0.2, seed=0) >> Ridge(ridge=1e-8)`, the hyperparameters of reservoirpy's own
  forecasting tutorials, fit on the first `--rpy-train` (20 000) training points (one-step-ahead targets,
  warmup 100), as in the outside measurement this benchmark reproduces; free run: `reset()`, then `y = esn(y)`
  fed back, starting from the first test point;
- `rpy-nvar`: reservoirpy `NVAR(delay=2, order=2, strides=1) >> Ridge(ridge=2.5e-6)` trained on increments
  x_{t+1} − x_t on the whole training series (Gauthier et al. 2021's Lorenz-63 setting, reservoirpy's NG-RC
  tutorial); free run u <- u + model(u);
- `floor`: no model: another independent clean trajectory of the system (seed 2, n_test points) scored against
  the test series, i.e. what a perfect model reaches at this length;
- `pysindy`: `ps.SINDy()` at pysindy's defaults (PolynomialLibrary(degree=2), STLSQ(threshold=0.1, alpha=0.05),
  FiniteDifference), `fit(train, t=dt)`. The free run integrates the learned equations (`coefficients()`,
  `feature_library.powers_`) with SciPy `solve_ivp(DOP853, rtol=1e-8, atol=1e-8)` at the sample times:
  `SINDy.simulate` does the same through `model.predict` with LSODA at 1e-12, which takes minutes per flow.

Seeds: `esn` and `rpy-esn` draw a random reservoir; with `--seeds 0 1 2` each is fitted once per seed and the
tables show the median over seeds (the other methods are deterministic and run once). Fit seconds are wall time of
`fit` alone (the reference's own, including reservoirpy's reservoir run); the free run is not included.

Usage:
    python benchmarks/baselines_vs_reference.py [--flows Lorenz Rossler ...] [--methods esn rpy-esn ...]
        [--n-train 50000] [--n-test 50000] [--seeds 0 1 2] [--json out.jsonl]
        [--md benchmarks/results/baselines_vs_reference.md] [--title "after"] [--cache DIR]
    python benchmarks/baselines_vs_reference.py --from-json out.jsonl     # the tables of earlier results
Each finished (flow, method, seed) is printed and, with --json, appended as one JSON line. The markdown tables
(D_stsp, D_H, the dsrkit / reference D_stsp ratio with the 1.5× check, fit seconds) are printed at the end and,
with --md, appended to that file under --title. The whole default run (9 flows, one seed) takes about 5 minutes on
2 cores; with three seeds about 10.
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

FLOWS = ["Lorenz", "Rossler", "Aizawa", "Thomas", "Chen", "Halvorsen", "SprottB", "Dadras", "Arneodo"]
METHODS = ["esn", "rpy-esn", "nvar", "rpy-nvar", "sindy", "pysindy", "floor"]
RANDOMISED = {"esn", "rpy-esn"}  # the others do not depend on the seed
PAIRS = [("esn", "rpy-esn"), ("nvar", "rpy-nvar"), ("sindy", "pysindy")]
RATIO_LIMIT = 1.5
TRANSIENT = 2000
NOISE = 0.05
DIVERGENCE_FACTOR = 10.0


# ---------------------------------------------------------------------------------------------- data


def floor_data(flow: str, n_test: int, cache: Path | None):
    """Another independent clean trajectory (seed 2) of the test length, in data units (cached like flow_data)."""
    import dsrkit

    key = f"{flow}_floor_{n_test}_{TRANSIENT}.npz"
    if cache is not None and (cache / key).is_file():
        with np.load(cache / key) as f:
            return f["x"]
    x = dsrkit.systems.get(f"dysts:{flow}").trajectory(n_test, transient=TRANSIENT, seed=2)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(cache / key, x=x)
    return x


def flow_data(flow: str, n_train: int, n_test: int, cache: Path | None):
    """(train, test, dt) in data units; cached as .npz under `cache` when given."""
    import dsrkit

    key = f"{flow}_{n_train}_{n_test}_{TRANSIENT}_{NOISE}.npz"
    if cache is not None and (cache / key).is_file():
        with np.load(cache / key) as f:
            return f["train"], f["test"], float(f["dt"])
    s = dsrkit.systems.get(f"dysts:{flow}")
    train = s.trajectory(n_train, transient=TRANSIENT, seed=0, noise=NOISE)
    test = s.trajectory(n_test, transient=TRANSIENT, seed=1)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(cache / key, train=train, test=test, dt=s.dt)
    return train, test, float(s.dt)


# ---------------------------------------------------------------------------------------------- references


def _closed_loop(step, x0, n_steps: int) -> np.ndarray:
    """x0, step(x0), step(step(x0)), ...: (n_steps, N); NaN from the first non-finite or |x| > 1e6 state on."""
    out = np.full((n_steps, len(x0)), np.nan)
    x = np.asarray(x0, float)
    out[0] = x
    for i in range(1, n_steps):
        x = step(x)
        if not np.all(np.isfinite(x)) or np.abs(x).max() > 1e6:
            break
        out[i] = x
    return out


class RpyESN:
    """reservoirpy's ESN used directly (see the module docstring)."""

    def __init__(self, units=1000, lr=0.3, sr=1.25, input_scaling=1.0, rc_connectivity=0.1,
                 input_connectivity=0.2, ridge=1e-8, warmup=100, n_train=20_000):
        self.kw = dict(units=units, lr=lr, sr=sr, input_scaling=input_scaling, rc_connectivity=rc_connectivity,
                       input_connectivity=input_connectivity)
        self.ridge, self.warmup, self.n_train = ridge, warmup, n_train

    def fit(self, X, dt, seed=0):
        from reservoirpy.nodes import Reservoir, Ridge

        X = X[: self.n_train]
        self.model = Reservoir(**self.kw, seed=seed) >> Ridge(ridge=self.ridge)
        self.model.fit(X[:-1], X[1:], warmup=self.warmup)
        return self

    def generate(self, x0, n_steps):
        self.model.reset()
        return _closed_loop(lambda y: np.asarray(self.model(y), float).reshape(-1), x0, n_steps)


class RpyNVAR:
    """reservoirpy's NVAR (NG-RC) used directly on increments (see the module docstring)."""

    def __init__(self, delay=2, order=2, strides=1, ridge=2.5e-6):
        self.delay, self.order, self.strides, self.ridge = delay, order, strides, ridge

    def fit(self, X, dt, seed=0):
        from reservoirpy.nodes import NVAR, Ridge

        self.model = NVAR(delay=self.delay, order=self.order, strides=self.strides) >> Ridge(ridge=self.ridge)
        self.model.fit(X[:-1], X[1:] - X[:-1], warmup=self.delay * self.strides)
        return self

    def generate(self, x0, n_steps):
        self.model.reset()
        return _closed_loop(lambda u: u + np.asarray(self.model(u), float).reshape(-1), x0, n_steps)


class PySINDy:
    """pysindy at its defaults (see the module docstring)."""

    def fit(self, X, dt, seed=0):
        import pysindy as ps

        self.dt = dt
        self.model = ps.SINDy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.fit(X, t=dt)
        self.C = np.asarray(self.model.coefficients(), float)
        self.P = np.asarray(self.model.feature_library.powers_, int)
        return self

    def generate(self, x0, n_steps):
        from scipy.integrate import solve_ivp

        C, P = self.C, self.P

        def f(t, x):
            return C @ np.prod(x[None, :] ** P, axis=1)

        def escape(t, x):
            return 1e3 - np.abs(x).max()

        escape.terminal = True
        t = self.dt * np.arange(n_steps)
        out = np.full((n_steps, len(x0)), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol = solve_ivp(f, (0.0, t[-1]), np.asarray(x0, float), method="DOP853", rtol=1e-8, atol=1e-8, t_eval=t,
                            events=escape)
        out[: sol.y.shape[1]] = sol.y.T
        return out


class Dsrkit:
    """A dsrkit baseline at its defaults."""

    def __init__(self, name):
        self.name = name

    def fit(self, X, dt, seed=0):
        import dsrkit

        self.model = dsrkit.baselines.get(self.name).fit(X, dt=dt, seed=seed)
        return self

    def generate(self, x0, n_steps):
        return self.model.generate(x0, n_steps)


def make(method: str, rpy_train: int):
    if method == "rpy-esn":
        return RpyESN(n_train=rpy_train)
    if method == "rpy-nvar":
        return RpyNVAR()
    if method == "pysindy":
        return PySINDy()
    return Dsrkit(method)


# ---------------------------------------------------------------------------------------------- evaluation


def run_one(flow, method, train_z, test_z, dt, rpy_train, seed=0, floor_z=None):
    from dsrkit.metrics import power_spectrum_distance, state_space_divergence
    from dsrkit.rollout import protocol_free_run

    if method == "floor":
        return dict(flow=flow, method=method, seed=seed, fit_s=0.0, gen_s=0.0, n_train=len(train_z), n_test=len(test_z),
                    dt=dt, status="ok", d_stsp=float(state_space_divergence(test_z, floor_z)),
                    d_h=float(power_spectrum_distance(test_z, floor_z)))

    m = make(method, rpy_train)
    t0 = time.perf_counter()
    m.fit(train_z, dt, seed=seed)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = protocol_free_run(m, test_z, with_transient=True)
    gen_s = time.perf_counter() - t0
    T = test_z.shape[0]
    n_drop = full.shape[0] - T
    centre = 0.5 * (train_z.max(0) + train_z.min(0))
    half = 0.5 * (train_z.max(0) - train_z.min(0))
    with np.errstate(all="ignore"):
        bad = ~np.all(np.isfinite(full), axis=1) | np.any(np.abs(full - centre) > DIVERGENCE_FACTOR * half, axis=1)
    row = dict(flow=flow, method=method, seed=seed, fit_s=round(fit_s, 2), gen_s=round(gen_s, 2), n_train=len(train_z),
               n_test=T, dt=dt)
    if bad.any():
        row.update(status="diverged", diverged_at=int(np.argmax(bad)), d_stsp=None, d_h=None)
    else:
        gen = full[n_drop:]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row.update(status="ok", d_stsp=float(state_space_divergence(test_z, gen)),
                       d_h=float(power_spectrum_distance(test_z, gen)))
    model = getattr(m, "model", None)
    for attr in ("status_", "ridge_", "differentiation_"):
        if hasattr(model, attr):
            v = getattr(model, attr)
            row[attr.rstrip("_")] = v if isinstance(v, float) else str(v)
    return row


def _cell(rows, key):
    """Median [worst] over the seeds of one (flow, method); "div." if every seed diverged, "(k div.)" when some did."""
    if not rows:
        return "–"
    ok = [r[key] for r in rows if r["status"] == "ok"]
    if not ok:
        return "div."
    def num(v):
        return f"{v:.3f}" if v < 10 else f"{v:.1f}"

    text = num(float(np.median(ok)))
    if len(rows) > 1:
        text += f" [{num(max(ok))}]"
    n_div = len(rows) - len(ok)
    return text + (f" ({n_div} div.)" if n_div else "")


def _median(rows):
    ok = [r["d_stsp"] for r in rows if r["status"] == "ok"]
    return float(np.median(ok)) if ok else None


def _ratio(ours, ref) -> str:
    if not ours or not ref:
        return "–"
    a, b = _median(ours), _median(ref)
    if a is None:
        return "both div." if b is None else "✗ div."
    if b is None:
        return "✓ (ref. div.)"
    q = a / b
    return f"{'✓' if q <= RATIO_LIMIT else '✗'} {q:.2f}"


def table(rows, methods):
    flows = list(dict.fromkeys(r["flow"] for r in rows))
    by: dict = {}
    for r in rows:
        by.setdefault((r["flow"], r["method"]), []).append(r)
    seeds = {m: sorted({r.get("seed", 0) for f in flows for r in by.get((f, m), [])}) for m in methods}
    head = "| flow | " + " | ".join(m + ("" if len(seeds[m]) < 2 else f" ({len(seeds[m])} seeds)") for m in methods)
    out = []
    for key, title in (("d_stsp", "D_stsp"), ("d_h", "D_H")):
        out.append(f"**{title}** (lower is better; div. = diverged; with several seeds: median [worst of the seeds "
                   "that did not diverge])\n")
        out.append(head + " |")
        out.append("|---" * (len(methods) + 1) + "|")
        for f in flows:
            out.append(f"| {f} | " + " | ".join(_cell(by.get((f, m), []), key) for m in methods) + " |")
        out.append("")
    pairs = [(a, b) for a, b in PAIRS if a in methods and b in methods]
    if pairs:
        out.append(f"**dsrkit / reference** (D_stsp ratio of the medians; ✗: above {RATIO_LIMIT} or diverged where "
                   "the reference did not)\n")
        out.append("| flow | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " |")
        out.append("|---" * (len(pairs) + 1) + "|")
        for f in flows:
            out.append(f"| {f} | " + " | ".join(_ratio(by.get((f, a), []), by.get((f, b), [])) for a, b in pairs)
                       + " |")
        out.append("")
    out.append("**fit seconds** (median over seeds)\n")
    out.append(head + " |")
    out.append("|---" * (len(methods) + 1) + "|")
    for f in flows:
        cells = []
        for m in methods:
            rs = by.get((f, m), [])
            cells.append("–" if not rs else f"{float(np.median([r['fit_s'] for r in rs])):.1f}")
        out.append(f"| {f} | " + " | ".join(cells) + " |")
    out.append("")
    return "\n".join(out)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", nargs="+", default=FLOWS)
    ap.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    ap.add_argument("--n-train", type=int, default=50_000)
    ap.add_argument("--n-test", type=int, default=50_000)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0],
                    help="seeds of the randomised methods (esn, rpy-esn); the others are deterministic and run once")
    ap.add_argument("--rpy-train", type=int, default=20_000, help="training points for rpy-esn (default 20 000)")
    ap.add_argument("--json", type=Path, help="append one JSON line per (flow, method)")
    ap.add_argument("--md", type=Path, help="append the markdown tables to this file")
    ap.add_argument("--title", default="", help="heading of the tables in --md")
    ap.add_argument("--cache", type=Path, help="cache the generated trajectories here")
    ap.add_argument("--from-json", type=Path, help="only print (and --md) the tables of a JSON-lines file")
    args = ap.parse_args(argv)

    if args.from_json:
        rows = [json.loads(line) for line in args.from_json.read_text().splitlines() if line.strip()]
        rows = [r for r in rows if r["flow"] in args.flows and r["method"] in args.methods]
    else:
        rows = []
        start = time.perf_counter()
        for flow in args.flows:
            t0 = time.perf_counter()
            train, test, dt = flow_data(flow, args.n_train, args.n_test, args.cache)
            mu, sd = train.mean(0), train.std(0)
            train_z, test_z = (train - mu) / sd, (test - mu) / sd
            floor_z = (floor_data(flow, args.n_test, args.cache) - mu) / sd if "floor" in args.methods else None
            print(f"# {flow}: dt={dt:.5g}, data {time.perf_counter() - t0:.1f} s", flush=True)
            for method in args.methods:
                for seed in (args.seeds if method in RANDOMISED else args.seeds[:1]):
                    row = run_one(flow, method, train_z, test_z, dt, args.rpy_train, seed, floor_z)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    if args.json:
                        with args.json.open("a") as fh:
                            fh.write(json.dumps(row) + "\n")
        print(f"# total {time.perf_counter() - start:.0f} s", flush=True)
    text = table(rows, args.methods)
    print(text)
    if args.md:
        n_tr = sorted({r["n_train"] for r in rows})
        n_te = sorted({r["n_test"] for r in rows})
        head = [f"## {args.title}" if args.title else "", "",
                f"Date {datetime.date.today().isoformat()}; machine: {_cpu()}, {os.cpu_count()} CPUs, "
                f"Python {platform.python_version()}; "
                f"n_train {n_tr}, n_test {n_te}, rpy-esn on the first {args.rpy_train} training points.", "",
                "Command: `" + " ".join(["python", "benchmarks/baselines_vs_reference.py", *sys.argv[1:]]) + "`", ""]
        with args.md.open("a") as fh:
            fh.write("\n".join(head) + "\n" + text + "\n")


if __name__ == "__main__":
    main()
