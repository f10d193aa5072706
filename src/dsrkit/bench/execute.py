"""One benchmark run, start to finish: data from the task, fit, free-run rollout, metrics.

`execute_run` never raises: an exception becomes status "failed" with its reason and traceback, a non-finite
rollout or metric becomes status "diverged". It is what a worker process (local or Ray) calls.
"""

from __future__ import annotations

import math
import time
import traceback

import numpy as np

from .._status import Status
from ..rollout import protocol_free_run, rollout_lengths
from .components import DEFAULT, Components

OK, DIVERGED, FAILED = Status.OK, Status.DIVERGED, Status.FAILED
DIVERGENCE_BOUND = 1e8  # |x| above this in standardised units counts as a diverged rollout


def build_data(config: dict, components: Components = DEFAULT) -> tuple[np.ndarray, np.ndarray, float]:
    """Training and test trajectories of a run: (train (n_train, N), test (n_test, N), dt).

    A system task draws two independent trajectories (seeds config["data_seeds"]["train"] and ["test"]); training
    data carry `noise`, test data `test_noise`. A data task takes the first n_train points of the file's first
    trajectory for training and the next n_test for testing. With `standardize`, both are z-scored with the
    training mean and standard deviation.
    """
    task = config["task"]
    if task.get("system"):
        system = components.system(task["system"], **task["params"])
        dt = task["dt"] if task["dt"] is not None else float(system.dt)
        seeds = config["data_seeds"]
        common = dict(dt=dt, transient=task["transient"])
        train = system.trajectory(task["n_train"], seed=seeds["train"], noise=task["noise"], **common)
        test = system.trajectory(task["n_test"], seed=seeds["test"], noise=task["test_noise"], **common)
    else:
        from ..data import Dataset

        ds = Dataset.load(config["data_path"], dt=task["dt"])
        X, dt = ds.trajectories[0], ds.dt
        need = task["n_train"] + task["n_test"]
        if len(X) < need:
            raise ValueError(f"{config['data_path']}: first trajectory has {len(X)} points, the task needs "
                             f"n_train + n_test = {need}")
        rng = np.random.default_rng(config["data_seeds"]["train"])
        X = X + task["noise"] * X.std(axis=0) * rng.standard_normal(X.shape) if task["noise"] > 0 else X
        train, test = X[: task["n_train"]], X[task["n_train"] : need]
    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    if task["standardize"]:
        mean, std = train.mean(axis=0), train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        train, test = (train - mean) / std, (test - mean) / std
    return train, test, float(dt)


def _finite_or_diverged(X: np.ndarray) -> str | None:
    """Reason why the rollout X (n_steps, N) counts as diverged (index = step of the full rollout), or None."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(X) | (np.abs(X) > DIVERGENCE_BOUND)
    if bad.any():
        t = int(np.argmax(bad.any(axis=1)))
        return f"generated trajectory is non-finite or above {DIVERGENCE_BOUND:g} from step {t}"
    return None


def _model_bytes(method) -> bytes | None:
    """The fitted method as the bytes of its `save(path)` file (methods without `save`: None)."""
    save = getattr(method, "save", None)
    if not callable(save):
        return None
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        written = save(Path(tmp) / "model.npz")
        return Path(written or Path(tmp) / "model.npz").read_bytes()


def execute_run(config: dict, components: Components = DEFAULT, keep_trajectories: bool = False,
                keep_model: bool = False) -> dict:
    """Run one configuration (see `suite.run_config`).

    Returns {"status": "ok" | "diverged" | "failed", "reason": str | None, "traceback": str | None,
    "metrics": {name: float}, "timings": {"data_s", "fit_s", "generate_s", "metrics_s", "total_s"},
    "trajectories": {"test": (T, N) float32, "generated": (T, N) float32} | None,
    "model": bytes of the fitted method's `save` file | None (with keep_model, for runs that got to generate)}.
    The bytes travel back to the runner, which writes them beside the store (workers may be on other machines).
    """
    from ..data import Dataset

    t_start = time.perf_counter()
    out = {"status": FAILED, "reason": None, "traceback": None, "metrics": {}, "timings": {}, "trajectories": None,
           "model": None}
    clock = [t_start]

    def lap(name):
        now = time.perf_counter()
        out["timings"][name] = now - clock[0]
        clock[0] = now

    try:
        task = config["task"]
        train, test, dt = build_data(config, components)
        lap("data_s")
        method = components.method(config["method"]["name"], **config["method"]["params"])
        method.fit(Dataset(train, dt=dt), seed=config["seed"])
        lap("fit_s")
        status = getattr(method, "status_", None)
        if status in (DIVERGED, FAILED):
            out["status"] = status
            out["reason"] = getattr(method, "reason_", None) or f"method reported status {status!r} after fit"
            return out
        n_test, warmup = task["n_test"], task["warmup"]
        n_warm, _ = rollout_lengths(n_test, 1.0 + warmup, warmup)
        gen = protocol_free_run(method, test, (1.0 + warmup, warmup), with_transient=True)[: n_warm + n_test]
        lap("generate_s")
        why = _finite_or_diverged(gen)
        if getattr(method, "status_", None) == DIVERGED:  # a Reconstructor's own check of its free run
            why = getattr(method, "reason_", None) or why or "method reported divergence during generate"
        gen = gen[n_warm:]
        if keep_trajectories:
            out["trajectories"] = {"test": test.astype(np.float32), "generated": gen.astype(np.float32)}
        if keep_model:
            try:
                out["model"] = _model_bytes(method)
            except Exception as e:  # saving is a convenience; it never fails the run
                out["timings"]["model_save_error"] = f"{type(e).__name__}: {e}"[:300]
        if why:
            out["status"], out["reason"] = DIVERGED, why
            return out
        options = task.get("metric_options", {})
        for name in task["metrics"]:
            value = float(components.metric(name)(test, gen, **options.get(name, {})))
            out["metrics"][name] = value if math.isfinite(value) else None
            if not math.isfinite(value):
                out["status"], out["reason"] = DIVERGED, f"metric {name} is {value}"
        lap("metrics_s")
        if out["reason"] is None:
            out["status"] = OK
    except Exception as e:  # a failing run is a result, never a crash of the suite
        out["status"] = FAILED
        out["reason"] = f"{type(e).__name__}: {e}"[:2000]
        out["traceback"] = traceback.format_exc()[-8000:]
    finally:
        out["timings"]["total_s"] = time.perf_counter() - t_start
    return out
