"""Hierarchical reconstruction of a family of series: one shared model, one feature vector per series.

    run = reconstruct_family(source, out="runs/family", K=3, labels=rho)   -> FamilyRun (a run directory)
    new = fit_run_features("runs/family", "new.csv", out="new.eqx")        -> few-shot on a run, model saved
    run.rows                                  # one row per series: test metrics of that series' model
    model = at(run.model, features)           # the ordinary model at any point of feature space
    sw = sweep(run.model, l_a, l_b, 20)       # λ_max, subregions visited, fixed points along a line; sw.figure
    new = fit_features(run.fit, series)       # few-shot: only the new series' features (dsrkit.training)
    save_family(model, path) / load_family(path)

The model: `dsrkit.models.hierarchical.HierarchicalModel` (Brenner, Weber, Koppe, Durstewitz 2025, ICLR;
arXiv:2410.04814); training: `dsrkit.training.hierarchical`.

The job (`reconstruct_family`): read the series (a file with several arrays or a series-id column, a Dataset, or
a list of arrays) → per series the last `test_fraction` (20 %) is its test part, used once → one standardiser over
all training parts (the series share units, so differences in level and scale stay visible to the model) →
`train_hierarchical` → every series' model evaluated on its own test part by the evaluation protocol
(`dsrkit.evaluate`) → a run directory: config.json, family.eqx (the hierarchical model), series.csv (one row per
series), features.csv, history.csv, metrics.json, figures/features.png (scatter of l_s coloured by the label).
"""

from __future__ import annotations

import dataclasses
import io
import math
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ._files import write_container
from ._precision import uses_x64
from .data import Dataset
from .evaluation import Protocol, evaluate
from .io import FAMILY_FILE, load
from .models.hierarchical import HierarchicalModel
from .runs import CONFIG, HISTORY, METRICS, Run, check_replaceable, read_json
from .training.hierarchical import FeatureFit, HierarchicalFit, fit_features, scheme_from_record, train_hierarchical

__all__ = ["FAMILY_FILE", "FamilyRun", "SweepResult", "at", "feature_figure", "fit_features", "fit_run_features",
           "load_family", "reconstruct_family", "save_family", "sweep"]

SERIES = "series.csv"
FEATURES = "features.csv"


# ----------------------------------------------------------------------------------------------- files


def save_family(model: HierarchicalModel, path, *, overwrite: bool = False, metadata: dict | None = None) -> Path:
    """Write a `HierarchicalModel` in dsrkit's model container (kind "hierarchical", whole-file sha256)."""
    if not isinstance(model, HierarchicalModel):
        raise TypeError(f"save_family expects a HierarchicalModel, got {type(model).__name__}")
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, model)
    header = {"kind": "hierarchical", "class": "HierarchicalModel", "config": model.config,
              "metadata": metadata or {}}
    return write_container(Path(path), header, buf.getvalue(), overwrite=overwrite)


@uses_x64
def load_family(path) -> HierarchicalModel:
    """Read a file written by `save_family`, or `family.eqx` of a run directory of `reconstruct_family`."""
    path = Path(path)
    if path.is_dir():
        path = path / FAMILY_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (expected a family file or a hierarchical run directory)")
    model = load(path)
    if not isinstance(model, HierarchicalModel):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a hierarchical model; read it with "
                         "dsrkit.load")
    return model


# ----------------------------------------------------------------------------------------------- feature space


def at(model: HierarchicalModel, features):
    """The ordinary model (ALRNN / ShallowPLRNN / PLRNN) of `model` at the feature vector `features` (K,)."""
    if not isinstance(model, HierarchicalModel):
        raise TypeError(f"at() expects a HierarchicalModel, got {type(model).__name__}")
    return model.at(np.asarray(features, np.float64))


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """`sweep`'s table and figure. rows: one dict per step: position t ∈ [0, 1], features (K,), lyapunov_max,
    n_subregions (visited by the free run), fixed_points [{"x": observed coordinates, "stability", "type"}],
    n_stable_fixed_points, diverged. figure: a matplotlib Figure (not registered with pyplot)."""

    rows: list
    figure: object


@uses_x64
def sweep(model: HierarchicalModel, start, stop, n: int, *, x0=None, n_steps: int = 5000, transient: int = 1000,
          dt: float | None = None, seed: int = 0) -> SweepResult:
    """A bifurcation-style sweep along the line from feature vector `start` to `stop` (both (K,)) in n steps.

    Per step, of the ordinary model at l = start + t (stop − start): the largest Lyapunov exponent
    (`dsrkit.metrics.lyapunov_spectrum`, n_steps after `transient`, per unit time if `dt`), the number of linear
    subregions its free run visits (`dsrkit.analysis.subregions` on the n_steps latent states after the
    transient), and its fixed points with their stability (`dsrkit.analysis.fixed_points`). The free runs start
    from the observation `x0` (N,) (default: a standard-normal draw with `seed`).
    """
    from .analysis import fixed_points, subregions
    from .metrics import lyapunov_spectrum
    from .rollout import free_run_latent

    if not isinstance(model, HierarchicalModel):
        raise TypeError(f"sweep() expects a HierarchicalModel, got {type(model).__name__}")
    a, b = (np.asarray(v, np.float64) for v in (start, stop))
    for name, v in (("start", a), ("stop", b)):
        if v.shape != (model.feature_dim,):
            raise ValueError(f"{name} must have shape (K,) = ({model.feature_dim},), got {v.shape}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (steps along the line), got {n!r}")
    x0 = np.random.default_rng(seed).standard_normal(model.obs_dim) if x0 is None else np.asarray(x0, np.float64)
    if x0.shape != (model.obs_dim,):
        raise ValueError(f"x0 must have shape ({model.obs_dim},), got {x0.shape}")
    rows = []
    for t in np.linspace(0.0, 1.0, int(n)):
        l = a + t * (b - a)
        m = model.at(l)
        z0 = np.asarray(m.init_state(jnp.asarray(x0, m.dtype)), np.float64)
        Z = free_run_latent(m, z0, transient + n_steps)[transient:]
        diverged = not bool(np.all(np.isfinite(Z)))
        lam = float(lyapunov_spectrum(m, n_steps, transient=transient, x0=x0, dt=dt, n_exponents=1)[0])
        fps = fixed_points(m)
        rows.append({"t": float(t), "features": l.tolist(), "lyapunov_max": lam if math.isfinite(lam) else None,
                     "n_subregions": None if diverged else int(subregions(m, Z).n_regions),
                     "fixed_points": [{"x": np.asarray(c.points[0][:model.obs_dim]).tolist(), "stability": c.stability,
                                       "type": c.type} for c in fps],
                     "n_stable_fixed_points": sum(c.stability == "stable" for c in fps), "diverged": diverged})
    return SweepResult(rows=rows, figure=_sweep_figure(rows, dt))


def _sweep_figure(rows: list, dt):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 7.0))
    ax1, ax2, ax3 = fig.subplots(3, 1, sharex=True)
    t = [r["t"] for r in rows]
    ax1.plot(t, [np.nan if r["lyapunov_max"] is None else r["lyapunov_max"] for r in rows], "o-")
    ax1.axhline(0.0, color="0.5", lw=0.8)
    ax1.set_ylabel("λ_max" + (" (1/time)" if dt else " (1/step)"))
    ax2.plot(t, [np.nan if r["n_subregions"] is None else r["n_subregions"] for r in rows], "s-")
    ax2.set_ylabel("subregions visited")
    style = {"stable": dict(marker="o", color="k"), "unstable": dict(marker="o", mfc="none", color="C3"),
             "saddle": dict(marker="x", color="C1"), "non-hyperbolic": dict(marker="d", color="C2")}
    seen = set()
    for r in rows:
        for fp in r["fixed_points"]:
            s = fp["stability"]
            ax3.plot([r["t"]], [fp["x"][0]], ls="none", label=None if s in seen else s, **style.get(s, {}))
            seen.add(s)
    if seen:
        ax3.legend(fontsize=8, loc="best")
    ax3.set_ylabel("fixed points: x_1")
    ax3.set_xlabel("position along the line in feature space (0 = start, 1 = stop)")
    fig.suptitle("Sweep through the family")
    return fig


def feature_figure(features, labels=None, names=None, label_name: str = "label"):
    """Scatter of the feature vectors l_s (S, K): the two coordinates that vary most over the series (K = 1: against
    the series index),
    coloured by `labels` (S,) when given, each point annotated with its series name. A matplotlib Figure."""
    from matplotlib.figure import Figure

    f = np.asarray(features, np.float64)
    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.subplots()
    i, j = (sorted(np.argsort(f.var(axis=0))[::-1][:2]) if f.shape[1] > 1 else (None, 0))
    x, y = (f[:, i], f[:, j]) if f.shape[1] > 1 else (np.arange(len(f)), f[:, 0])
    c = None if labels is None else np.asarray(labels, np.float64)
    sc = ax.scatter(x, y, c=c, cmap="viridis" if c is not None else None, s=40)
    if c is not None:
        fig.colorbar(sc, ax=ax, label=label_name)
    for i, (xi, yi) in enumerate(zip(x, y)):
        ax.annotate(str(names[i]) if names is not None else str(i), (xi, yi), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xlabel(f"l_{i + 1}" if f.shape[1] > 1 else "series")
    ax.set_ylabel(f"l_{j + 1}")
    ax.set_title("Feature space (one point per series)")
    return fig


# ----------------------------------------------------------------------------------------------- the job


@dataclasses.dataclass(frozen=True)
class FamilyRun:
    """What `reconstruct_family` returns: run_dir (Path), fit (`HierarchicalFit`), rows (one dict per series),
    standardizer (of the training parts), dataset (the series as read), model (= fit.model)."""

    run_dir: Path
    fit: HierarchicalFit
    rows: list
    standardizer: object
    dataset: Dataset

    @property
    def model(self) -> HierarchicalModel:
        return self.fit.model


def _read(source, dt, series_col, time_col=None, columns=None) -> Dataset:
    if isinstance(source, Dataset):
        return source
    if isinstance(source, (str, Path)):
        return Dataset.load(source, dt=dt, time_col=time_col, columns=columns, series_col=series_col)
    return Dataset(list(source), 1.0 if dt is None else dt)


def reconstruct_family(source, *, out=None, dt: float | None = None, series_col=None, time_col=None, columns=None,
                       labels=None,
                       label_name: str | None = None, K: int | None = None, kind: str = "alrnn",
                       test_fraction: float = 0.2, seq_len: int | None = None, force: bool = False,
                       protocol: Protocol | None = None, **train_settings) -> FamilyRun:
    """Hierarchical reconstruction of the series in `source`, written to the run directory `out`.

    Args:
        source: a file (`Dataset.load`: several arrays in an .npz/.npy, or a CSV with `series_col`, read with
            `time_col` and `columns` as `dsrkit.reconstruct` reads it), a `dsrkit.Dataset`, or a list of
            (T_s, N) arrays (then `dt`, default 1).
        out: run directory (default runs/family); refused if it exists unless `force` (and it is a dsrkit run).
        labels: a known value per series (S,) (e.g. a control parameter) recorded in the table and colouring the
            feature scatter; default the file's numeric series ids when there are any.
        K: feature dimension (default min(3, S)); kind: "alrnn" or "shplrnn".
        test_fraction: the last part of every series kept for its test (each at least the protocol's 320 points).
        seq_len: training window (default min(200, a quarter of the shortest training part)).
        **train_settings: further settings of `train_hierarchical` (epochs, scheme, lr, latent_dim, ...).

    Returns:
        `FamilyRun`. Raises ValueError for fewer than 2 series, series of different N, K out of 1..S, test parts
        shorter than the protocol needs, or labels of the wrong length.
    """
    out = Path("runs/family" if out is None else out)
    check_replaceable(out, force)  # before training: an existing folder is refused at once, not after the work
    protocol = Protocol() if protocol is None else protocol
    label_name = label_name or (str(series_col) if series_col is not None else "label")
    data = _read(source, dt, series_col, time_col, columns)
    n_series = len(data)
    if n_series < 2:
        raise ValueError(f"{n_series} series read; a hierarchical reconstruction needs at least 2 (a file with "
                         "several arrays, or a series-id column given as series_col)")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    ids = data.provenance.get("series_ids") or list(range(n_series))
    if labels is None and all(isinstance(i, (int, float)) for i in ids) and data.provenance.get("series_ids"):
        labels = ids
    if labels is not None and len(labels) != n_series:
        raise ValueError(f"labels has {len(labels)} entries for {n_series} series; give one per series")
    trains, tests = [], []
    for s, x in enumerate(data.trajectories):
        k = int(round((1 - test_fraction) * len(x)))
        protocol.check_test_length(len(x) - k, f"the test part of series {ids[s]!r} ({len(x)} points, the last "
                                               f"{test_fraction:g})")
        trains.append(x[:k])
        tests.append(x[k:])
    train_ds, scaler = Dataset(trains, data.dt, data.names).standardize()
    tests = [scaler.transform(x) for x in tests]
    if seq_len is None:
        seq_len = int(min(200, max(10, min(len(x) for x in trains) // 4)))
    fit = train_hierarchical(train_ds, K=K, kind=kind, seq_len=seq_len, **train_settings)
    rows = []
    for s in range(n_series):
        m = evaluate(fit.model.for_series(s), tests[s], protocol, dt=data.dt)
        row = {"series": ids[s], "label": None if labels is None else labels[s], "status": str(m["status"]),
               "d_stsp": m.get("state_space_divergence"), "d_h": m.get("power_spectrum_distance"),
               "prediction_error": m.get("prediction_error"), "lyapunov_max": m.get("lyapunov_max"),
               "train_d_stsp": float(fit.d_stsp[s]), "test_length": len(tests[s])}
        row.update({f"l{k + 1}": float(v) for k, v in enumerate(np.asarray(fit.model.features[s]))})
        rows.append(row)
    with Run.create(out, force=force) as run:
        save_family(fit.model, run.path / FAMILY_FILE, overwrite=True, metadata={"standardizer": scaler.to_dict()})
        run.write(CONFIG, {"kind": "hierarchical", "family": fit.model.config, "train": fit.config,
                           "standardizer": scaler.to_dict(), "source": data.provenance, "dt": data.dt,
                           "names": data.names, "series": ids, "labels": labels, "label_name": label_name,
                           "test_fraction": test_fraction, "status": str(fit.status)})
        d = [r["d_stsp"] for r in rows]
        run.write(METRICS, {"protocol": {**dataclasses.asdict(protocol), "description": protocol.describe()},
                            "median_d_stsp": float(np.median([np.inf if v is None else v for v in d])),
                            "series": rows})
        run.write_history(rows, SERIES)
        run.write_history([{"series": ids[s], **{f"l{k + 1}": float(v) for k, v in
                                                  enumerate(np.asarray(fit.model.features[s]))}}
                           for s in range(n_series)], FEATURES)
        run.write_history(fit.history, HISTORY)
        run.save_figure(feature_figure(fit.model.features, labels, ids, label_name), "features")
    return FamilyRun(run_dir=out, fit=fit, rows=rows, standardizer=scaler, dataset=data)


def fit_run_features(run_dir, source, *, dt: float | None = None, out=None, force: bool = False,
                     **settings) -> FeatureFit:
    """Few-shot for a new series on a run of `reconstruct_family`: the family (family.eqx), its training window
    and scheme (config.json) and its standardiser are read from `run_dir`; `source` (a file with one series, a
    (T, N) array or a Dataset) is standardised like the training series and only its features are fitted
    (`fit_features`, group parameters frozen; `settings` override its defaults). With `out`, the new series'
    ordinary model is written there (`dsrkit.save`, metadata: standardizer, features), refused if it exists
    unless `force`."""
    from .data import Standardizer
    from .io import save

    run_dir = Path(run_dir)
    config = read_json(run_dir / CONFIG)
    if config.get("kind") != "hierarchical":
        raise ValueError(f"{run_dir} is not a hierarchical run (config.json kind {config.get('kind')!r}); expected "
                         "a run directory written by reconstruct_family")
    model = load_family(run_dir)
    data = source if isinstance(source, Dataset) else (
        Dataset.load(source, dt=dt if dt is not None else config.get("dt")) if isinstance(source, (str, Path))
        else Dataset([np.asarray(source, np.float64)], config.get("dt") or 1.0))
    if len(data) != 1:
        raise ValueError(f"the new data hold {len(data)} series; fit the features of one series at a time")
    scaler = Standardizer.from_dict(config["standardizer"])
    train = config.get("train", {})
    settings = {"seq_len": train.get("seq_len"), "scheme": scheme_from_record(train.get("scheme")), **settings}
    new = fit_features(model, scaler.transform(data.trajectories[0]), **settings)
    if out is not None:
        save(new.model, out, overwrite=force, metadata={"standardizer": scaler.to_dict(),
                                                        "features": new.features.tolist(), "family": str(run_dir)})
    return new
