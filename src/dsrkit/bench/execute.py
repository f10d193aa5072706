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
from ..rollout import DIVERGENCE_BOUND, protocol_free_run, rollout_lengths
from .components import DEFAULT, Components

OK, DIVERGED, FAILED = Status.OK, Status.DIVERGED, Status.FAILED


def build_data(config: dict, components: Components = DEFAULT) -> tuple[np.ndarray, np.ndarray, float]:
    """Training and test trajectories of a run: (train (n_train, N), test (n_test, N), dt).

    A system task draws two independent trajectories (seeds config["data_seeds"]["train"] and ["test"]); training
    data carry `noise`, test data `test_noise`. A data task takes the first n_train points of the file's first
    trajectory for training and the next n_test for testing. With `standardize`, both are z-scored with the
    training mean and standard deviation.
    """
    series, dt = _draw(config, components, floor=False)
    train, test = _standardized(config, series["train"], series["test"])
    return train, test, dt


def build_floor_data(config: dict, components: Components = DEFAULT) -> tuple[np.ndarray, np.ndarray, float]:
    """The test trajectory of a run and its data floor's comparison series: (test (n_test, N), floor, dt).

    System task: `floor` is a third trajectory of the same system, independent of the training and test ones
    (seed config["data_seeds"]["floor"], default FLOOR_SEED_OFFSET + the run's seed), of the test length, with
    the test data's noise `test_noise`. Data task (one recorded series, no second realisation): `floor` is the last
    min(n_train, n_test) points of the training part. Both are standardised exactly as `build_data` does (with the
    training mean and standard deviation), so `test` is the series every method of the run was compared with.
    """
    series, dt = _draw(config, components, floor=True)
    train, test, floor = _standardized(config, series["train"], series["test"], series["floor"])
    return test, floor, dt


#: A data floor's independent trajectory is drawn with seed FLOOR_SEED_OFFSET + the run's seed (training and test
#: trajectories use 2 seed and 2 seed + 1, so no floor trajectory repeats any of them for seeds below 500 000).
FLOOR_SEED_OFFSET = 1_000_000


def _draw(config: dict, components: Components, *, floor: bool) -> tuple[dict, float]:
    """The raw (unstandardised) series of a run: {"train", "test"[, "floor"]} and dt."""
    task = config["task"]
    out = {}
    if task.get("system"):
        system = components.system(task["system"], **task["params"])
        dt = task["dt"] if task["dt"] is not None else float(system.dt)
        seeds = config["data_seeds"]
        common = dict(dt=dt, transient=task["transient"])
        out["train"] = system.trajectory(task["n_train"], seed=seeds["train"], noise=task["noise"], **common)
        out["test"] = system.trajectory(task["n_test"], seed=seeds["test"], noise=task["test_noise"], **common)
        if floor:
            seed = seeds.get("floor", FLOOR_SEED_OFFSET + int(config["seed"]))
            out["floor"] = system.trajectory(task["n_test"], seed=seed, noise=task["test_noise"], **common)
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
        out["train"], out["test"] = X[: task["n_train"]], X[task["n_train"] : need]
        if floor:
            out["floor"] = out["train"][-min(task["n_train"], task["n_test"]):]
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}, float(dt)


def _standardized(config: dict, train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """(train, *others) z-scored with the training mean and std when the task asks for it, else unchanged."""
    if not config["task"]["standardize"]:
        return (train, *others)
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return tuple((x - mean) / std for x in (train, *others))


def execute_floor(config: dict, components: Components = DEFAULT) -> dict:
    """The data floor of a run's task and seed: the task's metrics between its test trajectory and an independent
    realisation of the same system (`build_floor_data`), i.e. the score of a perfect model at this test length
    (the part of every score that is the finite length's sampling error, not the model's). Never raises.

    Returns {"status": "ok" | "failed", "reason", "metrics": {name: float | None}, "timings": {"total_s"}}.
    """
    t_start = time.perf_counter()
    out = {"status": FAILED, "reason": None, "metrics": {}, "timings": {}}
    try:
        test, floor, _ = build_floor_data(config, components)
        task = config["task"]
        options = task.get("metric_options", {})
        for name in task["metrics"]:
            value = float(components.metric(name)(test, floor, **options.get(name, {})))
            out["metrics"][name] = value if math.isfinite(value) else None
        out["status"] = OK
    except Exception as e:  # a floor that cannot be computed is shown as missing, never a crash of the leaderboard
        out["reason"] = f"{type(e).__name__}: {e}"[:2000]
    out["timings"]["total_s"] = time.perf_counter() - t_start
    return out


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


def _tuned(config: dict, components: Components, train: np.ndarray, dt: float):
    """(the method tuned on `train` and refitted, the tuning record) for a run whose method has "tune". Each trial's
    validation free run is as long as the run's evaluation free run (the horizon the test metrics judge)."""
    from .tuning import tune

    spec, task = config["method"], config["task"]
    name, params = spec["name"], spec["params"]
    options = task.get("metric_options", {}).get("state_space_divergence", {}) \
        if "state_space_divergence" in task["metrics"] else {}
    n_warm, _ = rollout_lengths(task["n_test"], 1.0 + task["warmup"], task["warmup"])
    result = tune(type(components.method(name, **params)), train, dt, trials=spec["tune"]["trials"],
                  seed=config["seed"], fixed_params=params, stsp_options=options, horizon=n_warm + task["n_test"],
                  validation_fraction=spec["tune"]["validation_fraction"],
                  make=lambda **p: components.method(name, **p))
    return result.estimator, result.record()


def execute_run(config: dict, components: Components = DEFAULT, keep_trajectories: bool = False,
                keep_model: bool = False, *, fitted: tuple | None = None) -> dict:
    """Run one configuration (see `suite.run_config`).

    Returns {"status": "ok" | "diverged" | "failed", "reason": str | None, "traceback": str | None,
    "metrics": {name: float}, "timings": {"data_s", "fit_s", "generate_s", "metrics_s", "total_s"},
    "trajectories": {"test": (T, N) float32, "generated": (T, N) float32} | None,
    "model": bytes of the fitted method's `save` file | None (with keep_model, for runs that got to generate)}.
    The bytes travel back to the runner, which writes them beside the store (workers may be on other machines).
    A tuned method (config["method"]["tune"], see `suite.run_config`) is tuned on its training data only
    (`dsrkit.bench.tuning.tune`); the result then also has "tuning" (`TuningResult.record()`: the chosen values
    and one row per trial), and timings "tune_s" (the trials; "fit_s" includes them and the refit).
    fitted: (test, dt, the fitted method, its data seconds, its fit seconds) when the method was fitted
    elsewhere (`execute_seed_group`); the run then only generates and scores.
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
        if fitted is not None:
            test, dt, method, out["timings"]["data_s"], out["timings"]["fit_s"] = fitted
            t_start -= out["timings"]["data_s"] + out["timings"]["fit_s"]  # total_s counts this run's shares
        else:
            train, test, dt = build_data(config, components)
            lap("data_s")
            if config["method"].get("tune"):
                method, out["tuning"] = _tuned(config, components, train, dt)
                out["timings"]["tune_s"] = sum(row["seconds"] for row in out["tuning"]["table"])
            else:
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


def groupable(config: dict, components: Components = DEFAULT) -> bool:
    """Whether the run's method can fit several seeds as one population (`fit_population`, the PLRNN family)
    and is not tuned. The method is built to ask: a registry promises only `get`, not its classes."""
    if config["method"].get("tune"):
        return False
    try:
        return hasattr(components.method(config["method"]["name"], **config["method"]["params"]), "fit_population")
    except Exception:
        return False


def _seed_free(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in ("seed", "data_seeds")}


def execute_seed_group(configs: list[dict], components: Components = DEFAULT, keep_trajectories: bool = False,
                       keep_model: bool = False) -> list[dict]:
    """Runs that differ only in their seed (one task, one untuned method of the PLRNN family), fitted as one
    population (`fit_population`: one compiled program, member i on run i's training data with run i's seed),
    then each generated and scored as `execute_run` does. Returns the results in the order of `configs`; each
    has timings "fit_s" = the population's fit time / k and "population" = k. A failure of the common fit is
    every run's failure; other configurations are an error."""
    from ..data import Dataset

    if not configs or any(_seed_free(c) != _seed_free(configs[0]) for c in configs):
        raise ValueError("execute_seed_group takes runs that differ only in their seed")
    t0 = time.perf_counter()
    try:
        data = [build_data(c, components) for c in configs]
        data_s = (time.perf_counter() - t0) / len(configs)
        method = components.method(configs[0]["method"]["name"], **configs[0]["method"]["params"])
        t1 = time.perf_counter()
        fits = method.fit_population([Dataset(train, dt=dt) for train, _, dt in data], [c["seed"] for c in configs])
        fit_s = (time.perf_counter() - t1) / len(configs)
    except Exception as e:
        reason, tb = f"{type(e).__name__}: {e}"[:2000], traceback.format_exc()[-8000:]
        return [{"status": FAILED, "reason": reason, "traceback": tb, "metrics": {}, "trajectories": None,
                 "model": None, "timings": {"total_s": time.perf_counter() - t0, "population": len(configs)}}
                for _ in configs]
    out = []
    for c, (_, test, dt), m in zip(configs, data, fits):
        res = execute_run(c, components, keep_trajectories, keep_model, fitted=(test, dt, m, data_s, fit_s))
        res["timings"]["population"] = len(configs)
        out.append(res)
    return out


def execute_payload(config, *args) -> dict | list[dict]:
    """What the executors run: `execute_run` for one configuration, `execute_seed_group` for a list of them."""
    return execute_seed_group(config, *args) if isinstance(config, list) else execute_run(config, *args)
