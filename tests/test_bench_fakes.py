"""Small stand-in registries (systems, methods, metrics) for the benchmark runner's tests.

They let the runner, store and leaderboard be tested on their own, through the documented `Components` hook
(import paths travel to worker processes as strings). This module holds no tests.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from dsrkit.bench import Components

COMPONENTS = Components(systems="test_bench_fakes:systems", methods="test_bench_fakes:methods",
                        metrics="test_bench_fakes:metrics")


class Oscillator:
    """x(t) = (cos(w t + phi), sin(w t + phi)) * (1 + 0.3 cos(3 w t)), phi drawn from `seed`; dim 2, dt 0.1."""

    name, dim, dt, kind = "osc", 2, 0.1, "flow"

    def __init__(self, omega: float = 1.0):
        self.omega = float(omega)
        self.params = {"omega": self.omega}

    def trajectory(self, n_steps, dt=None, transient=1000, seed=0, noise=0.0, standardize=False, x0=None):
        dt = self.dt if dt is None else dt
        rng = np.random.default_rng(seed)
        phi = rng.uniform(0, 2 * np.pi)
        t = (np.arange(n_steps) + transient) * dt
        r = 1 + 0.3 * np.cos(3 * self.omega * t)
        X = np.stack([r * np.cos(self.omega * t + phi), r * np.sin(self.omega * t + phi)], axis=1)
        return X + noise * X.std(axis=0) * rng.standard_normal(X.shape)


class _Systems:
    def names(self):
        return ["osc"]

    def get(self, name, **params):
        if name != "osc":
            raise KeyError(name)
        return Oscillator(**params)


def wait_for(condition, what: str, limit: float = 120.0, proc=None) -> None:
    """Poll `condition()` every 10 ms until it holds. `limit` only turns a hang into a failure naming `what`; no
    test outcome depends on how long anything takes. With `proc` (a Popen), its early exit is a failure too."""
    deadline = time.monotonic() + limit
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} while waiting for {what}: "
                                 f"{proc.communicate()[1][-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {limit:g} s (a hang)")
        time.sleep(0.01)


class LinearAR:
    """x_{t+1} = [x_t, 1] W by ridge least squares (ridge grows with the seed, so seeds give different models).

    sleep: seconds to sleep in fit. mode: "ok", "fail" (fit raises), "diverge" (generate returns inf from step 3),
    "crash" (the process exits in fit), "status" (fit sets status_ = "diverged").

    File-based synchronisation for tests of concurrency (no timing involved):
    hold: a folder; the fit with seed == hold_seed writes `held` there and waits until `release` exists.
    meet: a folder; each fit writes a file named after its process id there and waits until `meet_n` processes
      have written theirs (or `release` exists), so no process finishes a run before the others have started one.
    fail_once: a file path; a fit that finds no such file creates it and raises (a transient failure), later fits
      with the file present succeed."""

    def __init__(self, sleep: float = 0.0, mode: str = "ok", ridge: float = 1e-6, hold: str = "", hold_seed: int = 2,
                 meet: str = "", meet_n: int = 2, fail_once: str = ""):
        self.sleep, self.mode, self.ridge = sleep, mode, ridge
        self.hold, self.hold_seed, self.meet, self.meet_n, self.fail_once = hold, hold_seed, meet, meet_n, fail_once
        self.status_, self.reason_ = None, None

    def get_params(self):
        return {"sleep": self.sleep, "mode": self.mode, "ridge": self.ridge, "hold": self.hold,
                "hold_seed": self.hold_seed, "meet": self.meet, "meet_n": self.meet_n, "fail_once": self.fail_once}

    def _synchronise(self, seed):
        if self.hold and seed == self.hold_seed:
            folder = Path(self.hold)
            if not (folder / "release").exists():
                # written whole, then renamed: the test reads the pid as soon as the file exists
                (folder / "held.tmp").write_text(str(os.getpid()))
                os.replace(folder / "held.tmp", folder / "held")
                wait_for(lambda: (folder / "release").exists(), "the release file", limit=3600)
        if self.meet:
            folder = Path(self.meet)
            (folder / f"pid-{os.getpid()}").write_text("")
            wait_for(lambda: len(list(folder.glob("pid-*"))) >= self.meet_n or (folder / "release").exists(),
                     f"{self.meet_n} processes to meet", limit=3600)
        if self.fail_once and not Path(self.fail_once).exists():
            Path(self.fail_once).write_text("failed once")
            raise RuntimeError("transient failure")

    def fit(self, dataset, seed=0):
        self._synchronise(seed)
        if self.sleep:
            time.sleep(self.sleep)
        if self.mode == "fail":
            raise RuntimeError("boom")
        if self.mode == "crash":
            os._exit(3)
        if self.mode == "status":
            self.status_, self.reason_ = "diverged", "training loss became NaN"
            return self
        X = dataset.trajectories[0]
        Z = np.hstack([X[:-1], np.ones((len(X) - 1, 1))])
        lam = self.ridge * (1 + seed)
        self.W = np.linalg.solve(Z.T @ Z + lam * np.eye(Z.shape[1]), Z.T @ X[1:])
        self.status_ = "ok"
        return self

    def save(self, path):
        np.savez(path, W=self.W)
        return path

    def generate(self, x0, n_steps):
        out = np.empty((n_steps, len(x0)))
        x = np.asarray(x0, dtype=float)
        for t in range(n_steps):
            out[t] = x
            x = np.append(x, 1.0) @ self.W
        if self.mode == "diverge":
            out[3:] = np.inf
        return out


class GroupedAR(LinearAR):
    """LinearAR that can fit several seeds as one population (as the PLRNN family does): each dataset with its
    seed, exactly as `fit` would; every call's size is logged in `GroupedAR.calls` (mode "fail": it raises)."""

    calls: list = []

    def fit_population(self, datasets, seeds):
        GroupedAR.calls.append(len(seeds))
        if self.mode == "fail":
            raise RuntimeError("population boom")
        return [LinearAR(ridge=self.ridge).fit(d, s) for d, s in zip(datasets, seeds)]


class _Methods:
    def names(self):
        return ["linear", "failing", "diverging", "crashing", "sleepy", "status_diverged", "grouped",
                "grouped_failing"]

    def get(self, name, **params):
        if name.startswith("grouped"):
            return GroupedAR(mode="fail" if name == "grouped_failing" else "ok", **params)
        mode = {"linear": "ok", "failing": "fail", "diverging": "diverge", "crashing": "crash", "sleepy": "ok",
                "status_diverged": "status"}[name]
        return LinearAR(mode=mode, **params)


def mean_gap(true, gen):
    """Mean over dimensions of |mean(true) - mean(gen)|."""
    return float(np.abs(true.mean(axis=0) - gen.mean(axis=0)).mean())


def std_gap(true, gen, scale: float = 1.0):
    """Mean over dimensions of |std(true) - std(gen)|, times `scale`."""
    return float(scale * np.abs(true.std(axis=0) - gen.std(axis=0)).mean())


class _Metrics:
    def names(self):
        return ["mean_gap", "std_gap"]

    def get(self, name):
        return {"mean_gap": mean_gap, "std_gap": std_gap}[name]


systems, methods, metrics = _Systems(), _Methods(), _Metrics()

SUITE = """
[suite]
name = "tiny"

[defaults]
n_train = 400
n_test = 200
transient = 10
seeds = [0, 1, 2]
metrics = ["mean_gap", "std_gap"]

[[tasks]]
system = "osc"

[[tasks]]
system = "osc"
noise = 0.05
params = { omega = 1.3 }

[[methods]]
name = "linear"
grid = { ridge = [1e-6, 1e-2] }
{extra_methods}
"""


def write_suite(path, extra_methods: str = "", **subs) -> str:
    """Write the tiny suite (2 tasks x (2 grid points + extras) x 3 seeds) to `path`; returns the path."""
    text = SUITE.replace("{extra_methods}", extra_methods)
    for k, v in subs.items():
        text = text.replace(k, v)
    path.write_text(text)
    return str(path)
