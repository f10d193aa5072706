"""Jobs on run directories built from the library's verbs: `train_run` (data -> run directory, `dsr train`),
`report_run` (`dsr report`) and `analyze_run` (`dsr analyze`). The main job, `dsr reconstruct`, is
`dsrkit.reconstruction.reconstruct`.

    Dataset -> train -> generate -> evaluation.evaluate -> analysis -> report
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from . import runs
from .data import Dataset, Standardizer

_DATA_SUFFIXES = (".npy", ".npz", ".csv", ".gz")


def _is_file_source(source: str) -> bool:
    """A known system name is a system (write ./NAME for a data file of that name); otherwise a path that exists
    or ends in a data suffix is a data file."""
    from . import systems

    source = str(source)
    if source in systems.names():
        return False
    return Path(source).exists() or source.lower().endswith(_DATA_SUFFIXES)


def train_run(data: Dataset, config: dict, out, *, seed: int = 0, seeds: int = 1, force: bool = False,
              progress: bool = True, source: dict | None = None):
    """Standardise `data`, train the configured model and write a run directory (config, model, history).

    config: as `dsrkit.training.default_config` or `config_from_options` return it (model, model_args, scheme,
    scheme_args, train); a configuration written before the current vocabulary (class names, "noise" for the input
    noise in "train") is read in it (`dsrkit.training.normalize_config`) and recorded so.
    The run is built in a temporary folder and moved to `out` only when training succeeded (see `runs.Run.create`).
    Returns (fit, Standardizer, run_dir): fit is the `TrainResult` (with seeds > 1 its shortcuts `fit.model`,
    `fit.status`, ... are those of the member saved, `fit.best()`).
    """
    with runs.Run.create(out, force=force) as run:
        fit, scaler = _train_into(run, data, config, seed=seed, seeds=seeds, progress=progress, source=source)
    return fit, scaler, Path(out)


def _train_into(run: runs.Run, data: Dataset, config: dict, *, seed: int, seeds: int, progress: bool,
                source: dict | None):
    """Train and write config.json, model.eqx, metrics.json, history.csv and the learning curves into `run`.

    config["model_args"] is updated to the model actually built (its latent size may be raised to fit the data).
    """
    from .report.figures import learning_curves
    from .training import build_model, build_scheme, normalize_config, train

    config = normalize_config(config)
    std_data, scaler = data.standardize()
    model = build_model(config, data.dim, key=jax.random.key(seed))
    built = model.config
    asked = set(config.get("model_args", {})) | {"latent_dim"}
    config = {**config, "model_args": {k: built[k] for k in built if k in asked}}
    fit = train(model, std_data, scheme=build_scheme(config), seed=seed, seeds=seeds, progress=progress,
                **config["train"])
    best = fit.best()  # the member the selection rule ranks first (the only one with seeds = 1)
    run.save_model(best.model)
    run.write(runs.CONFIG, {
        "config": config, "seed": seed, "seeds": seeds, "member": best.member, "selection": fit.selection,
        "source": source or {}, "dt": data.dt, "names": data.names, "standardizer": scaler.to_dict(),
        "status": best.status, "best_epoch": best.best_epoch, "train_seconds": fit.seconds,
        "provenance": runs.provenance(data, seed=seed, seeds=seeds), "members": runs.members_of(fit, seed),
    })
    run.write(runs.METRICS, {"training_data": best.best_metrics, "status": best.status,
                             "note": "D_stsp and D_H of the selected checkpoint's free run against the "
                                     "(standardised) training data"})
    run.write_history(best.history)
    hist = run.history
    if hist:
        run.save_figure(learning_curves(hist), "learning_curves")
    return fit, scaler


def default_run_dir(name: str, root="runs") -> Path:
    """runs/<name>, or runs/<name>-2, -3, ... when taken, so that a default run never replaces an earlier one."""
    base = Path(root) / name
    candidate, k = base, 1
    while candidate.exists() and (not candidate.is_dir() or any(candidate.iterdir())):
        k += 1
        candidate = base.with_name(f"{name}-{k}")
    return candidate


def _write_analysis_and_report(run: runs.Run, model, test_std: Dataset, metrics: dict, protocol, fit, source: dict,
                               name: str, *, gen=None, extra: dict | None = None) -> dict:
    """Compute what the report shows (the protocol's free run unless given as `gen`, a short free run, the analysis
    along the test series), write analysis.json, and have the report draw it (with `extra`: the main job's
    verdict, references, settings and population). Returns the analysis."""
    from .analysis import analyze
    from .report.reconstruction import write_report
    from .rollout import generate, protocol_free_run

    test = test_std.trajectories[0]
    if gen is None:
        gen = protocol_free_run(model, test, protocol, dtype=np.float64)
    short = generate(model, test[0], min(len(test), 2000), dtype=np.float64)
    analysis = analyze(model, test, dt=test_std.dt)
    run.write(runs.ANALYSIS, analysis)
    write_report(run, model, test_std=test_std, gen=gen, short=short, analysis=analysis, metrics=metrics,
                 protocol=protocol, fit=fit, source=source, name=name, extra=extra)
    return analysis


def report_run(run_dir, data=None, *, dt: float | None = None, force: bool = False) -> Path:
    """Rewrite `report.html` (with metrics.json and analysis.json) of a run directory.

    The test series is `data` (a file in raw units) or, for a run made from a system, the same independent test
    trajectory `reconstruct` used (regenerated from the recorded seed and length). Metrics are recomputed; a run
    that already has a report or test metrics is refused unless `force` (nothing is overwritten silently), and
    the run is changed all or nothing. An analysis.json alone (from `dsr analyze`) is derived from the model and
    is recomputed along the test series, as `analyze_run` recomputes it, without `force`.
    """
    from . import systems
    from .evaluation import Protocol, evaluate
    from .training import MemberFit

    run = runs.Run.open(run_dir)
    run_dir = run.path
    existing = [runs.REPORT] if (run_dir / runs.REPORT).exists() else []
    if "protocol" in run.metrics:
        existing.append(runs.METRICS)
    if existing and not force:
        raise FileExistsError(f"{run_dir}: already has {', '.join(existing)}; pass --force to recompute and "
                              "replace them")
    model, cfg = run.load()
    source = cfg.get("source") or {}
    scaler = runs.standardizer_of(cfg) or Standardizer(np.zeros(model.obs_dim), np.ones(model.obs_dim))
    if data is not None:
        test = Dataset.load(data, dt=dt or cfg.get("dt"))
    elif isinstance(source, dict) and source.get("kind") == "system":
        try:
            s = systems.get(source["system"], **source.get("params", {}))
            test = Dataset([s.trajectory(source["n_test"], dt=source["dt"], seed=source["test_seed"])],
                           source["dt"], cfg.get("names"))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{run_dir / runs.CONFIG}: the recorded source is incomplete ({exc!r}); pass the test "
                             "data file (dsr report RUN --data TEST)") from None
    else:
        raise ValueError(f"{run_dir}: not made from a system; pass the test data file (dsr report RUN --data TEST)")
    test_std, _ = test.standardize(scaler)
    protocol = Protocol()
    metrics = evaluate(model, test_std, protocol, lyapunov_max=source.get("reference", {}).get("lyapunov_max"))
    metrics["protocol"]["data"] = str(data) if data is not None else "independent clean test trajectory (seed +1)"
    # the training as config.json recorded it (what the report shows of it)
    fit = MemberFit(model, [], cfg.get("best_epoch"), cfg.get("status", "unknown"), {},
                    seconds=float(cfg.get("train_seconds", 0.0)), member=cfg.get("member", 0),
                    selection=cfg.get("selection", ""))
    name = source.get("system") or run_dir.name
    with run.update() as new:  # all or nothing: a failure leaves the run as it was
        new.write(runs.METRICS, metrics)
        _write_analysis_and_report(new, model, test_std, metrics, protocol, fit, source, name)
    return run_dir / runs.REPORT


def analyze_run(run_dir, data=None, *, dt: float | None = None, max_period: int = 4, seed: int = 0) -> list[Path]:
    """Analyse a run's model (`dsrkit.analysis.analyze`) along `data` (a file in raw units) or, without data, along
    a free run of the model from the zero observation (`dsrkit.rollout.SELF_RUN_TRANSIENT` = 2 000 steps dropped,
    the next `SELF_RUN_STEPS` = 10 000 kept); write analysis.json and the figures into the run, all or nothing.
    Returns the figure paths."""
    from .analysis import analyze
    from .report.interpretation import save_figures
    from .rollout import SELF_RUN_STEPS, SELF_RUN_TRANSIENT, generate

    run = runs.Run.open(run_dir)
    model, cfg = run.load()
    step = dt or cfg.get("dt")
    if data is not None:
        ds = Dataset.load(data, dt=step)
        scaler = runs.standardizer_of(cfg)
        X = (ds.standardize(scaler)[0] if scaler is not None else ds).trajectories[0]
    else:
        X = generate(model, np.zeros(model.obs_dim), SELF_RUN_TRANSIENT + SELF_RUN_STEPS)[SELF_RUN_TRANSIENT:]
    result = analyze(model, X, dt=step, max_cycle_period=max_period, seed=seed)
    with run.update() as new:
        new.write(runs.ANALYSIS, result)
        written = save_figures(model, X, result, new.path / runs.FIGURES, names=cfg.get("names"))
    return [run.path / runs.FIGURES / p.name for p in written]
