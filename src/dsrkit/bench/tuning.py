"""Tune a baseline on a validation split of its training data, with the same number of trials for every method.

    result = tune("esn", train, dt, trials=8, seed=0)      # train: (T, N), the training series only
    result.estimator        # fitted on the whole training series with the chosen setting
    result.params           # the chosen values of the searched parameters
    result.table()          # one row per trial: its values, validation scores, status, seconds

Protocol (the selection rule of dsrkit's population search, `dsrkit.training.search`, applied to baselines):

1. split: the first T − T_v points of the training series are the fit part, the last T_v = round(0.2 T) the
   validation segment (the test series is never an argument, so it cannot be looked at);
2. trials: the grid of the method's `_search_space` (a class attribute: parameter -> values, the default first),
   without the parameters fixed by the caller (`fixed_params`: a suite's parameters stay as given). Trial 0 is
   always the defaults (with `fixed_params`: exactly the untuned configuration); the others are the whole rest of
   the grid when the grid has at most `trials` points, else `trials` − 1 grid points drawn without replacement with
   `np.random.default_rng(seed)`. So every method gets `trials` fits (fewer only when its grid is smaller);
3. score: each trial is fitted on the fit part (with the run's seed) and scored by the population search's
   `dsrkit.training.search.validation_scores`: a free run from the first validation point for `horizon` steps, of
   which the first 20 % are dropped as transient; the rest is compared with the validation segment by
   `selection_score` over D_stsp and D_H (√(D_stsp · D_H), plus the penalties for leaving the data's range, for a
   spurious cycle and for the share of free runs from later validation points, and of the run's own end, that
   diverge, leave the range, collapse, cycle or settle on another attractor, `stray_starts`): D_stsp between the
   validation segment and the whole kept run, D_H between the validation segment and the last T_v steps of the run.
   The check from later starts is there because one free run sees one basin: NG-RC settings chosen without it
   diverged from the test's first point on 3 of 5 Rössler seeds of the core suite while their validation run stayed
   bounded (BASIN_CHECK). With it 2 still did, for another reason (their past was the first observation repeated);
   with the training data's past as well (`Reconstructor._history_before`) none does. D_stsp uses the task's variant
   (`stsp_options`, e.g. {"method": "marginal"} for Lorenz-96). A fit that raises or fails, and a free run that
   diverges, score inf and are recorded with the reason;
4. refit: the trial with the lowest score (ties: the earlier trial, so the defaults win a tie) is fitted again on
   the whole training series with the same seed. If no trial scored finitely, the defaults are refitted.

Why a long free run: with horizon = 1.25 T_v (the population search's default) both histograms of D_stsp have T_v
points, and on a slow system the score is mostly sampling noise: on Hindmarsh-Rose (core suite, 16 000 fit / 4000 validation points) the D_stsp of the validation segment against a
4000-step window of an ESN's free run was 6.9-11.9 whatever the setting (and 6.9 against the test trajectory
itself), and it chose a setting with test D_stsp 1.86 over the defaults' 0.61. Against the whole free run of the
evaluation's length (125 000 steps) the validation D_stsp ranked three ESN settings as the test data do (2.27, 5.53,
1.65 against test 0.55, 6.14, 0.46), and a model that drifts away late is seen. The benchmark therefore runs each
trial as long as its evaluation's free run.

References: Gilpin 2021 (NeurIPS Datasets and Benchmarks, "Chaos as an interpretable benchmark for forecasting
and data-driven modelling") tunes every forecasting model per system on a validation split of its training data;
Bergstra & Bengio 2012 (JMLR 13, 281, "Random search for hyper-parameter optimization"): a random sample of a grid
finds settings as good as the full grid at a fraction of the cost.
"""

from __future__ import annotations

import inspect
import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .._status import Status
from ..training.search import validation_scores

#: fraction of the training series held out as the validation segment
VALIDATION_FRACTION = 0.2
MIN_VALIDATION = 50
#: tuned runs score with the search's check of free runs from later validation points (part of a tuned run's id)
BASIN_CHECK = True
RULE = ("lowest validation score √(D_stsp·D_H) + range, cycle and later-start penalties (dsrkit.training.search."
        "selection_score) of a free run of `horizon` steps against the last 20 % of the training series")


def search_space(method) -> dict[str, list]:
    """The search space of a baseline class, instance or name of `dsrkit.baselines` ({} when it has none)."""
    cls = _class(method)
    return {k: list(v) for k, v in (getattr(cls, "_search_space", None) or {}).items()}


def _class(method):
    if isinstance(method, str):
        from ..baselines import _registry_class

        return _registry_class(method)
    return method if isinstance(method, type) else type(method)


def _defaults(cls) -> dict:
    """Constructor defaults of `cls` (parameters without a default are left out)."""
    sig = inspect.signature(cls.__init__)
    return {k: p.default for k, p in sig.parameters.items()
            if k != "self" and p.default is not inspect.Parameter.empty}


def trial_points(space: dict[str, list], defaults: dict, trials: int, seed: int) -> tuple[list[dict], int]:
    """(the settings tried, the size of the grid): trial 0 is `defaults` restricted to the searched parameters,
    then the other grid points, all of them when they fit into `trials`, else `trials` − 1 of them drawn without
    replacement with `np.random.default_rng(seed)` (in grid order)."""
    keys = list(space)
    first = {k: defaults[k] for k in keys}
    grid = [dict(zip(keys, values)) for values in itertools.product(*(space[k] for k in keys))]
    rest = [p for p in grid if p != first]
    size = len(rest) + 1
    if size > trials:
        pick = np.random.default_rng(seed).choice(len(rest), size=trials - 1, replace=False)
        rest = [rest[i] for i in sorted(pick)]
    return [first] + rest, size


@dataclass
class TuningResult:
    """What `tune` did. estimator: the chosen setting fitted on the whole training series; params: the chosen
    values of the searched parameters; best: index of the chosen trial; trials: one dict per trial; grid_size: the
    number of points of the grid (trials were drawn from it when it is larger than the budget); n_fit,
    n_validation: the split; horizon: free-run steps of each trial."""

    estimator: object
    params: dict
    best: int
    trials: list[dict]
    grid_size: int
    n_fit: int
    n_validation: int
    horizon: int
    space: dict
    notes: list[str] = field(default_factory=list)

    def table(self) -> list[dict]:
        """One row per trial (trial index, default, its values, scores, status, reason, seconds), trial order."""
        return [dict(t) for t in self.trials]

    def record(self) -> dict:
        """JSON-able summary kept with a benchmark run (non-finite scores become None when stored)."""
        return {"rule": RULE, "trials": len(self.trials), "grid_size": self.grid_size, "best": self.best,
                "params": dict(self.params), "n_fit": self.n_fit, "n_validation": self.n_validation,
                "horizon": self.horizon,
                "space": self.space, "notes": list(self.notes), "table": self.table()}


def tune(method, train, dt: float | None = None, *, trials: int = 8, seed: int = 0, fixed_params: dict | None = None,
         validation_fraction: float = VALIDATION_FRACTION, horizon: int | None = None,
         stsp_options: dict | None = None, make=None) -> TuningResult:
    """Choose a baseline's hyperparameters on a validation split of `train`; refit the choice on all of `train`.

    Args:
        method: a name of `dsrkit.baselines` or a baseline class (constructed as cls(**params), fitted with
            fit(Dataset, seed=)); its `_search_space` must not be empty.
        train: the training series (T, N) (standardised as the method will see it); nothing else is looked at.
        dt: sampling step (default 1.0).
        trials: settings fitted and scored (>= 1), the defaults included (fewer when the grid is smaller).
        seed: the fit seed of every trial and of the refit, and the seed of the draw of the trials.
        fixed_params: parameters every trial uses (searched parameters named here are not searched).
        validation_fraction: the held-out tail of `train` (default 0.2).
        horizon: free-run steps of each trial (default: the evaluation protocol's free run for a test series as
            long as `train`, 1.25 T; the benchmark passes its own evaluation's length); the first 20 % are dropped.
        stsp_options: keyword options of `state_space_divergence` (the task's variant).
        make: builds an unfitted estimator from parameters (default: the class itself; the benchmark passes its
            method registry's `get`).

    Returns:
        TuningResult (the refitted estimator, the chosen values, one row per trial).

    Raises:
        ValueError: no search space, too few points for the split, or an invalid argument (named).
    """
    from ..data import Dataset

    cls = _class(method)
    make = cls if make is None else make
    space = search_space(cls)
    fixed = dict(fixed_params or {})
    if not space:
        raise ValueError(f"{cls.__name__} has no search space (_search_space is empty), so it cannot be tuned; "
                         f"tune a baseline that declares one, e.g. esn, nvar, sindy, edmd, havok, node, lstm, gru")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be an integer >= 1, got {trials!r}")
    if not (isinstance(validation_fraction, float) and 0 < validation_fraction < 1):
        raise ValueError(f"validation_fraction must be a float in (0, 1), got {validation_fraction!r}")
    X = np.asarray(train, dtype=np.float64)
    if X.ndim != 2 or not np.all(np.isfinite(X)):
        raise ValueError(f"train must be one finite (T, N) series, got shape {X.shape}")
    n_val = int(round(validation_fraction * len(X)))
    if n_val < MIN_VALIDATION or len(X) - n_val < MIN_VALIDATION:
        raise ValueError(f"train has {len(X)} points: too few to hold out {validation_fraction:g} of them as a "
                         f"validation segment; both parts need at least {MIN_VALIDATION} points")
    dt = 1.0 if dt is None else float(dt)
    horizon = _rollout_total(len(X)) if horizon is None else horizon
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1.25 * n_val:
        raise ValueError(f"horizon must be an integer >= 1.25 x the validation length {n_val}, got {horizon!r}")
    space = {k: v for k, v in space.items() if k not in fixed}
    points, grid_size = trial_points(space, _defaults(cls), trials, seed) if space else ([{}], 1)
    fit_part, validation = X[: len(X) - n_val], X[len(X) - n_val:]
    from ..metrics.spectrum import autocorrelation_peak

    peak = autocorrelation_peak(validation)
    rows = []
    for i, point in enumerate(points):
        rows.append(_trial(make, i, point, fixed, Dataset(fit_part, dt=dt), validation, seed,
                           dict(horizon=horizon, stsp_options=stsp_options, data_peak=peak)))
    scores = [r["score"] for r in rows]
    best = int(np.argmin(scores)) if any(math.isfinite(s) for s in scores) else 0
    notes = [] if math.isfinite(scores[best]) else ["no trial scored finitely on the validation segment; the "
                                                    "defaults were refitted"]
    estimator = make(**{**fixed, **points[best]})
    estimator.fit(Dataset(X, dt=dt), seed=seed)
    return TuningResult(estimator, dict(points[best]), best, rows, grid_size, len(fit_part), n_val, horizon, space,
                        notes)


def _rollout_total(t: int) -> int:
    from ..rollout import rollout_lengths

    return rollout_lengths(t)[1]


def _trial(make, index, point, fixed, data, validation, seed, scoring: dict) -> dict:
    """Fit one setting on the fit part and score its free run on the validation segment; never raises."""
    row = {"trial": index, "default": index == 0, "params": dict(point), "score": math.inf, "val_d_stsp": math.nan,
           "val_d_h": math.nan, "val_in_range": math.nan, "val_cycle": math.nan, "val_stray": math.nan, "status": str(Status.OK),
           "reason": None}
    t0 = time.perf_counter()
    try:
        model = make(**{**fixed, **point})
        model.fit(data, seed=seed)
        status = getattr(model, "status_", None)
        if status in (Status.FAILED, Status.DIVERGED):
            row.update(status=str(status), reason=getattr(model, "reason_", None) or f"fit reported {status}")
        else:
            with np.errstate(all="ignore"):
                row.update(validation_scores(model, validation, stray=BASIN_CHECK, **scoring))
            if not math.isfinite(row["score"]):
                row.update(status=str(Status.DIVERGED), reason=getattr(model, "reason_", None)
                           or "the validation free run is not finite or beyond the divergence bound")
    except Exception as e:  # a setting that cannot be fitted is a result of the search, not its end
        row.update(status=str(Status.FAILED), reason=f"{type(e).__name__}: {e}"[:500])
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row
