"""The main job: reconstruct a series nobody tuned for (`dsr reconstruct`, `dsrkit.reconstruct`).

    read (time column, columns, several series) → split train / validation / test → settings from the data
    (`dsrkit.training.suggest`) → references (fast baselines, parroting, the data floor) → a population of
    candidates trained by successive halving within the budget (`dsrkit.training.search`), selected on the
    validation segment → evaluation on the test split → verdict → analysis and report

Splits. A data file: the last `test_fraction` (20 %) of every trajectory is the test split; of the rest, the last
`validation_fraction` (20 %, at most 20 000 points) is the validation segment that selects checkpoints and
candidates; the first part trains. A system: a noisy training trajectory (split into training and validation the
same way) and an independent clean test trajectory. Standardisation uses the statistics of all non-test data.
The test split is used once, for the final evaluation and the verdict.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np

from . import runs
from .data import Dataset
from .training.population import (INTERPRETABLE_FACTOR, MAX_VALIDATION, MIN_TRAIN_POINTS, STARTS, apply_settings,
                                  candidates_for, choose, split_off)

#: total wall-clock budget (seconds) of the main job: for a data file, and for a system name (the demonstration)
DEFAULT_BUDGET = 600.0
DEMO_BUDGET = 240.0
MODELS = ("auto", "alrnn", "shplrnn")


@dataclasses.dataclass
class Reconstruction:
    """What `reconstruct` produced: the run directory, the selected model, test metrics (with references, data
    floor and verdict), the analysis, the search, the report path and the wall time."""

    name: str
    run_dir: Path
    model: object
    metrics: dict
    analysis: dict
    search: object
    suggestion: object
    report: Path
    seconds: float

    @property
    def verdict(self) -> dict:
        return self.metrics["verdict"]

    def summary_rows(self) -> list[dict]:
        m, best = self.metrics, self.search.best
        rows = [("verdict", m["verdict"]["grade"]),
                ("model", best.candidate.label()),
                ("D_stsp (state-space divergence)", m.get("state_space_divergence")),
                ("D_H (power-spectrum distance)", m.get("power_spectrum_distance")),
                ("data floor D_stsp / D_H", _pair(m["floor"])),
                *[(f"reference {n} D_stsp / D_H", _pair(r)) for n, r in m["references"].items()],
                (f"PE({m.get('protocol', {}).get('pe_steps', 20)})", m.get("prediction_error")),
                ("λ_max of the model (evaluation: QR along the free run, per time unit)", m.get("lyapunov_max")),
                ("linear subregions used", self.analysis.get("n_subregions")),
                ("candidates trained", len(self.search.candidates)),
                ("wall time (s)", round(self.seconds, 1))]
        return [{"quantity": k, "value": v} for k, v in rows]


def _pair(r: dict) -> str:
    d, h = r.get("state_space_divergence"), r.get("power_spectrum_distance")
    if d is None:
        return str(r.get("status", "n/a"))
    return f"{d:.3g} / {h:.3g}" if h is not None else f"{d:.3g}"


def _say(log, text: str) -> None:
    if log:
        log(text)


def _console_log(progress: bool):
    if not progress:
        return None
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True)
    return lambda text: console.print(f"[bold]dsr[/] {escape(text)}", highlight=False)


# ----------------------------------------------------------------------------------------------- data and splits


@dataclasses.dataclass
class Splits:
    """Raw-unit train / validation / test Datasets and a JSON-serialisable description of where they came from."""

    train: Dataset
    validation: Dataset
    test: Dataset
    source: dict

    def describe(self) -> str:
        return (f"training {self.train.lengths} points, validation {self.validation.lengths} points (selection), "
                f"test {self.test.lengths} points (judged once), dt = {self.train.dt:g}")


def _source_name(source) -> str:
    if isinstance(source, Dataset):
        return "dataset"
    if isinstance(source, np.ndarray):
        return "array"
    from .pipeline import _is_file_source

    return Path(str(source)).name.split(".")[0] if _is_file_source(str(source)) else str(source)


def prepare_data(source, *, dt=None, n_train=None, n_test=None, noise: float = 0.05, seed: int = 0,
                 time_col=None, columns=None, series_col=None, test_fraction: float = 0.2,
                 validation_fraction: float = 0.2) -> Splits:
    """Read or simulate the data and split it (see the module docstring). `source`: a system name, a data file
    (`Dataset.load` with time_col / columns / series_col), a (T, N) or (B, T, N) array (needs dt) or a Dataset."""
    from . import systems
    from .pipeline import _is_file_source

    if isinstance(source, (Dataset, np.ndarray, list)):
        if isinstance(source, Dataset):
            ds = source if dt is None else Dataset(source.trajectories, dt, source.names)
        else:
            if dt is None:
                raise ValueError("an array needs its sampling step: reconstruct(array, dt=...)")
            ds = Dataset(source, dt)
        non_test, test = ds.split(1.0 - test_fraction)
        info = {"kind": "array", "lengths": ds.lengths, "dt": ds.dt, "names": ds.names}
    elif _is_file_source(str(source)):
        if Path(source).is_dir():
            raise ValueError(f"{source}: is a directory; expected a data file (.npy, .npz, .csv, .csv.gz) or a "
                             f"system name ({', '.join(systems.names())})")
        ds = Dataset.load(source, dt=dt, time_col=time_col, columns=columns, series_col=series_col)
        non_test, test = ds.split(1.0 - test_fraction)
        info = {"kind": "file", **ds.provenance, "path": str(Path(source).resolve()), "read": ds.describe()}
    else:
        if source not in systems.names():
            raise ValueError(f"{source!r} is neither an existing data file nor a known system; systems: "
                             f"{', '.join(systems.names())}")
        s = systems.get(source)
        n_train, n_test = n_train or 100_000, n_test or 100_000
        step = dt or s.dt
        names = getattr(s, "variables", None)
        non_test = Dataset([s.trajectory(n_train, dt=step, seed=seed, noise=noise)], step, names)
        test = Dataset([s.trajectory(n_test, dt=step, seed=seed + 1)], step, names)
        info = {"kind": "system", "system": source, "params": dict(s.params), "dt": step, "n_train": n_train,
                "n_test": n_test, "observation_noise": noise, "train_seed": seed, "test_seed": seed + 1,
                "reference": dict(getattr(s, "reference", {}) or {})}
    train, validation = split_off(non_test, validation_fraction, MAX_VALIDATION)
    info["split"] = {"train": train.lengths, "validation": validation.lengths, "test": test.lengths,
                     "test_fraction": None if info["kind"] == "system" else test_fraction,
                     "validation_fraction": validation_fraction, "validation_cap": MAX_VALIDATION}
    return Splits(train, validation, test, info)


def check_usable(splits: Splits, protocol) -> None:
    """Refuse data that cannot give a meaningful reconstruction, naming what is wrong and what to do: a constant
    variable (or a second time column), a training part too short, validation or test parts shorter than the
    protocol needs."""
    non_test = Dataset([*splits.train.trajectories, *splits.validation.trajectories], splits.train.dt,
                       splits.train.names)
    constant = non_test.constant_variables()
    if constant:
        raise ValueError(f"variable(s) {constant} are constant over the training data: they carry no dynamics; "
                         "leave them out (--columns / columns=...)")
    clocks = non_test.clock_variables()
    if clocks:
        raise ValueError(f"variable(s) {clocks} increase by a constant step: a time column, not a state variable; "
                         "name it with --time-col (time_col=...) or leave it out with --columns")
    if min(splits.train.lengths) < MIN_TRAIN_POINTS:
        raise ValueError(f"the training part has {min(splits.train.lengths)} points; a reconstruction needs at least "
                         f"{MIN_TRAIN_POINTS} (give a longer series)")
    for name, part in (("validation", splits.validation), ("test", splits.test)):
        for i, t in enumerate(part.lengths):
            protocol.check_test_length(t, f"the {name} part" + (f" of trajectory {i}" if len(part) > 1 else ""))


# ----------------------------------------------------------------------------------------------- the job


def reconstruct(source, *, dt: float | None = None, out=None, force: bool = False, budget: float | None = None,
                model: str = "auto", interpretable: bool = False, seed: int = 0, noise: float = 0.05,
                n_train: int | None = None, n_test: int | None = None, time_col=None, columns=None,
                series_col=None, test_fraction: float = 0.2, max_epochs: int | None = None,
                seq_len: int | None = None, interval: int | None = None, latent_dim: int | None = None,
                relu_units: int | None = None, hidden_dim: int | None = None, lr: tuple | None = None,
                input_noise: float | None = None, starts: str = "random", references: bool = True,
                progress: bool = True) -> Reconstruction:
    """Reconstruct a system from data: read, split, derive settings, search, evaluate, judge, analyse, report.

    Args:
        source: a data file (.csv, .csv.gz, .npz, .npy), a (T, N) / (B, T, N) array with `dt`, a `Dataset`, or a
            system name (`dsrkit.systems.names()`: a simulated noisy training and clean test trajectory).
        dt: sampling step (for files without a time column or a stored dt; for arrays).
        out: run directory (default runs/<name>, or runs/<name>-2, ... if taken); never replaced unless `force`.
        budget: wall-clock seconds of the whole job (default 600 for data, 240 for a system name: the demo);
            references and the final evaluation take their share, the search the rest.
        model: "auto" (shPLRNNs and AL-RNNs compete), "alrnn" or "shplrnn" (only that family).
        interpretable: select the AL-RNN with the fewest linear subregions within INTERPRETABLE_FACTOR × the best
            validation D_stsp instead of the best candidate.
        seed: seed of simulated data, initialisations and training. noise: observation noise of simulated training
            data (fraction of std). n_train, n_test: simulated lengths (default 100 000).
        time_col, columns, series_col: how to read a data file (see `Dataset.load`).
        test_fraction: last part of each trajectory of a data file kept for the test (default 0.2).
        max_epochs: at most this many epochs per candidate (default: as many as the budget allows).
        seq_len, interval, latent_dim, relu_units, hidden_dim, lr, input_noise: fix a setting that is otherwise
            derived from the data (`apply_settings`): the window, the AL-RNNs' one STF interval, M and P of the
            AL-RNNs, L of the shPLRNNs, every candidate's learning rate (start, end) of the exponential decay,
            the training input noise.
        starts: "random" (every candidate from its random initialisation) or "mixed" (every other shPLRNN from
            a ridge-regression fit, `dsrkit.training.warm_start`).
        references: fit the fast baselines and the parroting floor beside the model (default True).
        progress: progress lines on stderr.

    Returns a `Reconstruction`. Raises ValueError / TypeError / FileExistsError naming what is wrong.
    """
    from .evaluation import Protocol, evaluate
    from .pipeline import _write_analysis_and_report, default_run_dir
    from .rollout import protocol_free_run
    from .training.config import learning_rates
    from .training.search import SELECTION_RULE, search
    from .training.suggest import suggest
    from .verdict import data_floor, fit_references, free_run_flags, verdict

    if model not in MODELS:
        raise ValueError(f"model must be one of {list(MODELS)}, got {model!r}")
    if starts not in STARTS:
        raise ValueError(f"starts must be one of {list(STARTS)}, got {starts!r}")
    if budget is not None and not (math.isfinite(budget) and budget >= 30):
        raise ValueError(f"budget must be at least 30 seconds (compilation alone takes about 10 s), got {budget!r}")
    if lr is not None:
        lr = learning_rates(lr)
        if isinstance(lr[0], tuple):
            raise ValueError(f"lr must be one (start, end) pair for every candidate, got {lr!r}")
    t0 = time.perf_counter()
    name = _source_name(source)
    out = Path(out) if out is not None else default_run_dir(name)
    runs.check_replaceable(out, force)
    log = _console_log(progress)
    protocol = Protocol()

    splits = prepare_data(source, dt=dt, n_train=n_train, n_test=n_test, noise=noise, seed=seed, time_col=time_col,
                          columns=columns, series_col=series_col, test_fraction=test_fraction)
    if "read" in splits.source:
        _say(log, "read " + splits.source["read"])
    _say(log, f"variables {splits.train.names}; split: {splits.describe()}")
    check_usable(splits, protocol)
    is_system = splits.source["kind"] == "system"
    budget = float(budget if budget is not None else DEMO_BUDGET if is_system else DEFAULT_BUDGET)
    non_test, scaler = Dataset([*splits.train.trajectories, *splits.validation.trajectories], splits.train.dt,
                               splits.train.names).standardize()
    train, validation, test = (part.standardize(scaler)[0] for part in (splits.train, splits.validation, splits.test))
    sg = apply_settings(suggest(train), seq_len=seq_len, interval=interval, latent_dim=latent_dim,
                        relu_units=relu_units, hidden_dim=hidden_dim, input_noise=input_noise)
    _say(log, f"settings from the data: window {sg.seq_len} steps, STF intervals {list(sg.stf_intervals)}, "
              f"AL-RNN M = {sg.latent_dim}, P in {list(sg.relu_units)}, shPLRNN L = {sg.shplrnn_hidden}")
    for note in sg.notes:
        _say(log, f"note: {note}")

    refs, floor = {}, data_floor(non_test, test, protocol)
    if references:
        refs = fit_references(non_test, test, protocol, seed=seed, log=log)
    reserve = max(30.0, 0.15 * budget)  # the final evaluation, analysis and report (measured: 40–70 s on 2 cores)
    search_budget = budget - (time.perf_counter() - t0) - reserve
    notes = list(sg.notes)
    if search_budget < 20:
        search_budget = 20.0
        notes.append(f"the budget of {budget:g} s leaves too little time to train after the references; the search "
                     "ran 20 s anyway: give a larger --budget")
    if is_system and budget == DEMO_BUDGET:
        notes.append(f"a demonstration budget of {DEMO_BUDGET:g} s (data files get {DEFAULT_BUDGET:g} s); "
                     "give --budget for a longer search")
    candidates = candidates_for(sg, model, seed, interpretable, search_budget, lr=lr, starts=starts)
    _say(log, f"searching {len(candidates)} candidates for {search_budget:.0f} s (successive halving)")
    val = validation.trajectories[0]
    result = search(train, val, candidates, budget=search_budget, seq_len=sg.seq_len,
                    max_epochs=max_epochs or 100_000, by_family=interpretable, log=log)
    notes += result.notes
    chosen, frontier = choose(result, val, interpretable)
    if interpretable and chosen.candidate.model != "alrnn":
        notes.append(f"no AL-RNN reached {INTERPRETABLE_FACTOR:g}× the best validation D_stsp: the best model "
                     "(not an AL-RNN) was selected; a larger --budget trains the AL-RNNs longer")
    best_model = chosen.model

    _say(log, "evaluating the selected model on the test split")
    lam_ref, lam_source = _lyapunov_reference(splits.source, sg)
    metrics = evaluate(best_model, test, protocol, lyapunov_max=lam_ref if is_system else None)
    metrics["protocol"]["data"] = ("independent clean test trajectory (seed + 1), standardised with the training "
                                   "statistics" if is_system
                                   else f"the last {test_fraction:.0%} of each trajectory, standardised with the "
                                        "statistics of the rest")
    gen = protocol_free_run(best_model, test.trajectories[0], protocol, dtype=np.float64)
    flags = free_run_flags(gen, test.trajectories[0], metrics, lyapunov_reference=lam_ref,
                           reference_source=lam_source, stray_share=chosen.metrics.get("val_stray"))
    metrics.update(references=refs, floor=floor)
    metrics["verdict"] = verdict(metrics, refs, floor, flags)
    _say(log, "verdict: " + metrics["verdict"]["text"])

    suggestion = sg.to_dict()
    with runs.Run.create(out, force=force) as run:
        run.save_model(best_model)
        config = {"model": chosen.candidate.model, "model_args": dict(chosen.candidate.model_args),
                  "scheme": chosen.candidate.scheme, "scheme_args": dict(chosen.candidate.scheme_args),
                  "train": {"seq_len": sg.seq_len, "lr": list(chosen.candidate.lr),
                            "input_noise": chosen.candidate.input_noise, "epochs": chosen.epochs}}
        run.write(runs.CONFIG, {
            "config": config, "seed": seed, "candidate": chosen.candidate.to_dict(), "source": splits.source,
            "dt": splits.train.dt, "names": splits.train.names, "standardizer": scaler.to_dict(),
            "status": str(chosen.status), "best_epoch": chosen.best_epoch, "train_seconds": result.seconds,
            "selection": (f"fewest subregions within {INTERPRETABLE_FACTOR:g}x the best validation D_stsp "
                          "(interpretable)" if interpretable else SELECTION_RULE),
            "suggestion": suggestion, "search": result.to_dict(), "budget": budget, "notes": notes,
            "provenance": runs.provenance(non_test if is_system else source, seed=seed),
        })
        run.write(runs.METRICS, metrics)
        population = result.table()
        run.write_history(population, runs.POPULATION)
        _say(log, "analysing the model and writing the report")
        extra = {"verdict": metrics["verdict"], "references": refs, "floor": floor, "suggestion": suggestion,
                 "population": population, "frontier": frontier, "chosen": chosen.index,
                 "split": splits.describe(), "notes": notes}
        analysis = _write_analysis_and_report(run, best_model, test, metrics, protocol, None, splits.source, name,
                                              gen=gen, extra=extra)
    return Reconstruction(name, out, best_model, metrics, analysis, result, sg, out / runs.REPORT,
                          time.perf_counter() - t0)


def _lyapunov_reference(source: dict, sg) -> tuple[float | None, str]:
    """The λ_max to check the model against: the system's reference value, else a reliable estimate from data."""
    ref = (source.get("reference") or {}).get("lyapunov_max")
    if ref is not None:
        return float(ref), "the system's reference value"
    est = sg.estimates
    if getattr(est, "lyapunov_reliable", False) and est.lyapunov_max is not None:
        return float(est.lyapunov_max), "estimated from the training data (Rosenstein)"
    return None, ""
