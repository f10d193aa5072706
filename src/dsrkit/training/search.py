"""A population search over training settings with successive halving, scored on a held-out validation segment.

    result = search(train_data, validation, candidates, budget=600.0)
    result.best.model, result.best.candidate, result.best.metrics      # the selected checkpoint
    result.table()                                                      # one row per candidate

Candidates that share a model structure and scheme (they differ only in seed, learning rates, input noise and the
forcing strength τ or α) train together as one population of `train` (one compiled program); candidates of other
structures form other populations. Successive halving (Jamieson & Talwalkar 2016, "Non-stochastic best arm
identification and hyperparameter optimization"; Li et al. 2020, ASHA) gives every candidate a small budget, keeps
the best 1/η by their validation score and continues only those, so that most of the time goes to the promising
ones:

- the search has R = 1 + ⌈log_η n⌉ rungs for n candidates; rung j gets an equal share of the time left
  (remaining / (R − j)), turned into epochs with the measured cost of an epoch of each population (the first rung
  starts with a few calibration epochs to measure it), so the same code fills 10 minutes on 2 CPU cores or on a
  GPU, where a population of hundreds costs little more than one member;
- survivors continue from their parameters at the end of the previous rung, with the scheme's forcing strength
  carried over (adaptive GTF's α; STF's τ and GTF's α are fixed per candidate). The optimiser state restarts at
  each rung (RAdam's rectification gives a short warm-up; a deviation from one uninterrupted run, for the
  simplicity of reusing `train`);
- the learning rate follows one exponential decay over the search's budget: a rung that spans the budget
  fractions [f_a, f_b] trains from lr0·(lr1/lr0)^f_a to lr0·(lr1/lr0)^f_b, so the last survivor ends at lr1;
- every checkpoint is scored by `validation_scores` (never on test data), over a free run VALIDATION_RUN_FACTOR
  times as long as the validation segment (`validation_horizon`); each candidate keeps its best checkpoint
  over all rungs, candidates are ranked by it, and the best candidate's best checkpoint is the result.

Optuna and Ray Tune offer successive-halving pruners, but their trials are independent processes or threads;
here all members of a population advance in one compiled program (vmapped), which neither schedules, so the loop
is written out (about 100 lines).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable, Sequence

import jax
import numpy as np

from .._status import Status
from ..metrics.geometry import bin_range, state_space_divergence_result
from ..metrics.spectrum import autocorrelation_peak, power_spectrum_distance_per_dim
from ..rollout import DIVERGENCE_BOUND, generate, rollout_lengths
from .callbacks import Selection
from .config import build_model
from .loop import train
from .names import model_name, scheme_class, scheme_name

#: the out-of-range penalty weight of `selection_score`, and the penalty of a free run that is a cycle where the
#: data are not (`spurious_cycle`)
RANGE_PENALTY = 10.0
CYCLE_PENALTY = 1.0
#: a free run is a spurious cycle when its autocorrelation peak exceeds CYCLE_PEAK and the data's by CYCLE_MARGIN
CYCLE_PEAK, CYCLE_MARGIN = 0.95, 0.04
#: free runs of the basin check (`stray_starts`): from this many later points of the validation segment, each
#: STRAY_RUN_FACTOR times the segment's length, judged on their last T_v steps; a run has collapsed when that part
#: moves less than COLLAPSE_STD (in data standard deviations) where the data's own stretch of that length moves at
#: least ten times more; it has left when less than half of it lies in the data's range
BASIN_STARTS, COLLAPSE_STD, MIN_IN_RANGE_START = 3, 0.01, 0.5
#: why runs of 3 T_v: a chosen LuChen model (test D_stsp 11.2) reached a stable cycle from three later validation
#: points only after 8 000–16 000 steps, past the end of the check's former runs of T_v / 4 = 4 000 steps
STRAY_RUN_FACTOR = 3
#: a judged part (T_v steps) whose D_stsp against the validation series exceeds STRAY_FACTOR × the lowest D_stsp of
#: the long free run's T_v-long pieces sits on another attractor (pieces of equal length carry equal sampling
#: error; the lowest, because a run that settles elsewhere late spoils the later pieces). Measured on the 22 models
#: chosen in the last side-by-side development-set runs (benchmarks/stray_probe.py): judged parts on the same
#: attractor read at most 1.66 times the lowest piece, those on a spurious cycle or attractor 4.5–6.5 times. It
#: also catches cycles that the autocorrelation cannot tell from phase-coherent data (LuChen's data read 0.971,
#: its model's cycle 1.000: within CYCLE_MARGIN)
STRAY_FACTOR = 3.0
#: a short run of the basin check is a cycle above this autocorrelation peak: stricter than CYCLE_PEAK because 4000
#: points of a chaotic run read high now and then (clean Rössler, 14 segments: median 0.890, highest 0.955),
#: while the spurious cycles met read 0.995–1.000
STRAY_CYCLE_PEAK = 0.98
#: `validation_scores` drops this share of a free run of given `horizon` as transient
TRANSIENT_SHARE = 0.2
#: `search` compares the validation series (T_v points) with a free run that keeps VALIDATION_RUN_FACTOR × T_v
#: steps (at most MAX_VALIDATION_RUN) after a transient of a fifth of the run. Why: D_stsp's histograms of T_v
#: points each carry a sampling error of their own; the one of the validation series is the same for every
#: checkpoint, that of the free run differs, and near the best checkpoints it outweighs their differences. A
#: free run costs little (a 3-D shPLRNN: 0.02 s for 128 000 steps on one core). Measured on every checkpoint of
#: one 300 s search each (Lorenz-63 and ShimizuMorioka, 5 % noise, T_v = 16 000; test D_stsp on a clean
#: 100 000-point trajectory): among the best 30 % by test D_stsp, the rank correlation of validation D_stsp with
#: test D_stsp was 0.71 and 0.94 with a run of T_v steps, 0.92 and 0.97 with 8 T_v. D_H keeps the run's last
#: T_v steps, as long as the series (the search: `SPECTRUM_LENGTH`). Script and data:
#: benchmarks/validation_run_probe.py.
VALIDATION_RUN_FACTOR, MAX_VALIDATION_RUN = 8, 200_000
#: `search` reads validation D_H at the frequency resolution of a SPECTRUM_LENGTH-point series, the test length of
#: the evaluation protocol as the benchmarks and `dsr reconstruct SYSTEM` apply it. Why: D_H smooths the periodogram
#: over σ = 20 bins, and a bin is 1/(T dt) wide, so on T_v = 16 000 validation points the smoothing is 6.25 times
#: wider in frequency than on a 100 000-point test, and a shifted spectral peak that the test penalises is smoothed
#: away. Measured on every checkpoint of one 300 s search on each of 8 flows (5 % noise, T_v = 16 000, test D_H on
#: a clean 100 000-point trajectory; benchmarks/validation_run_probe.py): among the best 30 % by test D_stsp, the
#: rank correlation of validation with test D_H rose on 7 (Lorenz-63 0.09 → 0.49, Arneodo 0.16 → 0.47, the others
#: from 0.91–0.93 to 0.97–0.99) and stayed 0.98 on the eighth; the selected checkpoint was the same on 5, better on
#: both metrics on 2 (WangSun test D_stsp / D_H 0.553 / 0.141 → 0.488 / 0.126, Hindmarsh–Rose 10.0 / 0.110 →
#: 9.05 / 0.095) and on Lorenz-63 traded D_stsp 0.109 → 0.124 for D_H 0.078 → 0.063.
SPECTRUM_LENGTH = 100_000
#: how `search` ranks checkpoints and candidates (recorded in the run)
SELECTION_RULE = ("lowest validation score √(D_stsp·D_H) + range, cycle and stray-start penalties, the free runs "
                  f"from the validation segment's first point ({VALIDATION_RUN_FACTOR} times its length) and "
                  f"{BASIN_STARTS} later ones ({STRAY_RUN_FACTOR} times; off the attractor above {STRAY_FACTOR:g} "
                  "times the first run's best D_stsp over pieces of that length), D_H at the frequency resolution "
                  f"of {SPECTRUM_LENGTH} points (search)")


def validation_horizon(t_v: int) -> int:
    """Free-run steps of `search`'s validation run for a validation series of t_v points: after dropping its
    first fifth, it keeps min(VALIDATION_RUN_FACTOR · t_v, MAX_VALIDATION_RUN) steps, and at least t_v."""
    kept = max(t_v, min(VALIDATION_RUN_FACTOR * t_v, MAX_VALIDATION_RUN))
    return math.ceil(kept / (1 - TRANSIENT_SHARE))


def spurious_cycle(generated: np.ndarray, data: np.ndarray | None = None, *,
                   data_peak: float | None = None) -> tuple[bool, float, float]:
    """(whether a free run (T, N) repeats itself where the data (T', N) do not, its autocorrelation peak, the
    data's) by `dsrkit.metrics.autocorrelation_peak`: the free run's peak above CYCLE_PEAK and more than
    CYCLE_MARGIN above the data's. Give `data_peak` instead of `data` when it is already known. Measured: a Rössler
    AL-RNN whose free run was a cycle read 0.957 on 20 000 points (1.000 on 100 000) where the noisy data read
    0.903 (clean: 0.881); periodic data read about 1 and never count."""
    peak_gen = autocorrelation_peak(generated)
    peak_data = autocorrelation_peak(data) if data_peak is None else data_peak
    return bool(peak_gen > CYCLE_PEAK and not peak_data > peak_gen - CYCLE_MARGIN), peak_gen, peak_data


def stray_starts(model, validation: np.ndarray, starts: int = BASIN_STARTS, *,
                 data_peak: float | None = None, reference: float | None = None,
                 stsp_options: dict | None = None) -> float:
    """Share of `starts` free runs, from evenly spaced later points of the validation series (T_v, N) and each
    STRAY_RUN_FACTOR · T_v steps long, whose last T_v steps diverge, leave the data's range (less than
    MIN_IN_RANGE_START inside its per-variable min–max), collapse to a fixed point where the data do not (see
    BASIN_STARTS), settle on a cycle where the data do not (autocorrelation peak above STRAY_CYCLE_PEAK and more
    than CYCLE_MARGIN above the data's; `data_peak`: the validation series' peak, computed when not given) or,
    with `reference` (the lowest D_stsp of the T_v-long pieces of the long free run from the first point), score
    a D_stsp (with `stsp_options`, default 30 bins) above STRAY_FACTOR × reference: another attractor.

    Why: one free run from the first validation point sees one basin of attraction. A model whose attractor
    coexists with a spurious stable fixed point scores well from there and collapses from elsewhere (measured on
    the WangSun flow: validation D_stsp 0.92 from the first point, a fixed point from the first test point,
    test D_stsp 1.40 where the previous selection reached 0.31); likewise a stable cycle beside a chaotic
    attractor (Lorenz-63 through the file route: a free run from the first test point repeated itself,
    autocorrelation peak 1.000 where the data's is 0.225, test D_stsp 0.77 where 0.16 had been reached; LuChen:
    STRAY_RUN_FACTOR)."""
    x = np.asarray(validation, np.float64)
    t_v = len(x)
    n = t_v // (starts + 1)
    if starts < 1 or n < 20:
        return 0.0
    lo, hi = x.min(0), x.max(0)
    scale = np.where(x.std(0) > 0, x.std(0), 1.0)
    data_spread = float((x[-(t_v // 4):].std(0) / scale).max())
    data_peak = autocorrelation_peak(x) if data_peak is None else data_peak
    failed = 0
    for k in range(1, starts + 1):
        with np.errstate(all="ignore"):
            y = np.asarray(generate(model, x[k * n], STRAY_RUN_FACTOR * t_v), np.float64)[-t_v:]
        if not np.all(np.abs(y) <= DIVERGENCE_BOUND):
            failed += 1
            continue
        failed += _elsewhere(y, x, lo, hi, scale, data_spread, data_peak, reference, stsp_options or {"bins": 30})
    return failed / starts


def _elsewhere(y, x, lo, hi, scale, data_spread, data_peak, reference, stsp_options: dict) -> bool:
    """Whether a finite judged part y of a free run is off the data's attractor (`stray_starts`)."""
    if float(np.all((y >= lo) & (y <= hi), axis=1).mean()) < MIN_IN_RANGE_START:
        return True
    if float((y.std(0) / scale).max()) < COLLAPSE_STD:
        return data_spread >= 10 * COLLAPSE_STD
    if _cycles(y, data_peak):
        return True
    return reference is not None and math.isfinite(reference) and \
        state_space_divergence_result(x, y, **stsp_options).value > STRAY_FACTOR * reference


def _cycles(run: np.ndarray, data_peak: float) -> bool:
    peak = autocorrelation_peak(run)
    return bool(peak > STRAY_CYCLE_PEAK and not data_peak > peak - CYCLE_MARGIN)


def selection_score(d_stsp: float, d_h: float, in_range: float, cycle: bool = False, stray: float = 0.0) -> float:
    """One number to rank checkpoints by (lower is better): the geometric mean √(D_stsp · D_H), plus
    `RANGE_PENALTY` × the fraction of the free run outside the data's range, plus `CYCLE_PENALTY` when the free
    run is a cycle where the data are not.

    The geometric mean weighs the two metrics by their relative change, whatever their scales (D_stsp spans
    0.05–20, D_H 0.02–0.8), so a checkpoint must reproduce both the state-space distribution and the power
    spectrum. The penalty is needed because the binned D_stsp drops generated points outside the data's range
    (its published definition): a free run that leaves the attractor half of the time would otherwise be judged
    on the half that stays. A spurious cycle can match the dominant frequency so well that its D_H outweighs a
    poor D_stsp (measured on Rössler: such a cycle was selected, test D_stsp 13.9); the cycle penalty exceeds the
    typical spread of the scores of usable checkpoints (0.1–0.5). `stray`, the share of free runs from other
    points that collapse, diverge, leave or settle on another attractor (`stray_starts`, with the long run's own
    end), costs CYCLE_PENALTY × that share. Non-finite inputs
    give inf.
    """
    values = (d_stsp, d_h, in_range, stray)
    if not all(v is not None and math.isfinite(v) for v in values):
        return math.inf
    return (math.sqrt(max(d_stsp, 1e-6) * max(d_h, 1e-6)) + RANGE_PENALTY * (1.0 - in_range)
            + (CYCLE_PENALTY if cycle else 0.0) + CYCLE_PENALTY * stray)


def validation_scores(model, validation: np.ndarray, protocol=None, *, horizon: int | None = None,
                      stsp_options: dict | None = None, data_peak: float | None = None, stray: bool = True,
                      spectrum_length: int | None = None) -> dict:
    """Score a model on a validation series (T_v, N) by `selection_score`: one free run from its first point, and
    (`stray`) the basin check from later points (`stray_starts`), in which the free run's own last T_v steps count
    as one more start (they fail when their D_stsp exceeds STRAY_FACTOR × the lowest of its T_v-long pieces: the
    run settled elsewhere after a long transient).

    The free run lasts `horizon` steps and its first TRANSIENT_SHARE (20 %) are dropped (default: the evaluation
    protocol's 1.25 T_v steps, 0.25 T_v dropped, so the kept part is as long as the series). D_stsp (the protocol's bins, or the
    variant of `stsp_options`, e.g. {"method": "marginal"}) compares the series with the whole kept part, D_H with
    its last T_v steps at the protocol's smoothing σ; with `spectrum_length` T_s, D_H instead reads the spectra at
    the frequency resolution of a T_s-point series: σ · min(1, T_v / T_s) bins, and the kept part cut into T_v-long
    pieces whose periodograms are averaged (`SPECTRUM_LENGTH`: why). `data_peak`: the validation series'
    autocorrelation peak, when already computed.

    Returns {"score", "val_d_stsp", "val_d_h", "val_in_range", "val_cycle", "val_stray"}: NaN metrics and an inf
    score when the free run is not finite, beyond DIVERGENCE_BOUND, or the model reports itself diverged (a
    baseline's `status_`). Used by `search` for checkpoints and by `dsrkit.bench.tune` for baselines' trials.
    """
    from ..evaluation import Protocol

    protocol = Protocol() if protocol is None else protocol
    validation = np.asarray(validation, np.float64)
    t_v = len(validation)
    if horizon is None:
        n_drop, horizon = rollout_lengths(t_v, protocol.rollout_factor, protocol.transient_fraction)
    else:
        n_drop = int(round(TRANSIENT_SHARE * horizon))
        if horizon - n_drop < t_v:
            raise ValueError(f"horizon must leave at least the validation length {t_v} after dropping its first "
                             f"{TRANSIENT_SHARE:.0%}, i.e. be >= {math.ceil(t_v / (1 - TRANSIENT_SHARE))}; "
                             f"got {horizon}")
    nan = {"score": math.inf, "val_d_stsp": math.nan, "val_d_h": math.nan, "val_in_range": math.nan,
           "val_cycle": math.nan, "val_stray": math.nan}
    with np.errstate(all="ignore"):
        gen = np.asarray(generate(model, validation[0], horizon), np.float64)[n_drop:]
        if getattr(model, "status_", None) == Status.DIVERGED or not np.all(np.abs(gen) <= DIVERGENCE_BOUND):
            return nan
    try:
        res = state_space_divergence_result(validation, gen, **{"bins": protocol.bins, **(stsp_options or {})})
        if spectrum_length is None:
            d_h = float(power_spectrum_distance_per_dim(validation, gen[-t_v:], protocol.smoothing).mean())
        else:
            pieces = gen[: len(gen) // t_v * t_v].reshape(-1, t_v, gen.shape[1])
            sigma = protocol.smoothing * min(1.0, t_v / spectrum_length)
            d_h = float(power_spectrum_distance_per_dim(validation[None], pieces, sigma).mean())
    except (ValueError, FloatingPointError):
        return nan
    in_range = res.in_range_fraction
    if not math.isfinite(in_range):  # the GMM variant has no bins: the binned variant's range in every dimension
        lo, hi = bin_range(validation)
        in_range = float(np.mean(np.all((gen >= lo) & (gen <= hi), axis=1)))
    data_peak = autocorrelation_peak(validation) if data_peak is None else data_peak  # once, for both checks
    cycle = spurious_cycle(gen, data_peak=data_peak)[0]
    share = 0.0
    if stray:
        stsp = {"bins": protocol.bins, **(stsp_options or {})}
        pieces = [state_space_divergence_result(validation, gen[i - t_v:i], **stsp).value
                  for i in range(len(gen), t_v - 1, -t_v)]  # the last piece first
        reference = min(pieces)
        share = stray_starts(model, validation, data_peak=data_peak, reference=reference, stsp_options=stsp)
        if len(pieces) > 1:  # the long run's own end: where it settled after a long transient (LuChen: 70 000 steps)
            share = (share * BASIN_STARTS + (pieces[0] > STRAY_FACTOR * reference)) / (BASIN_STARTS + 1)
    return {"score": selection_score(res.value, d_h, in_range, cycle, share), "val_d_stsp": float(res.value),
            "val_d_h": d_h, "val_in_range": float(in_range), "val_cycle": float(cycle),
            "val_stray": share if stray else math.nan}


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One training setting of a search.

    model, model_args: a model name of `dsrkit.training.names` and its constructor arguments (latent_dim, ...);
    scheme, scheme_args: "stf" ({"interval": τ}), "gtf" ({"alpha": α}) or "adaptive_gtf" ({} or
    {"alpha_start": α0}); lr: (start, end) of the exponential decay; input_noise: std of the training-input noise
    (standardised units); seed: initialisation and data-stream seed; init: "random" (the model's own
    initialisation) or "regression" (a plain shPLRNN with M = N only: hidden units drawn from the seed, read-outs
    fitted by ridge regression, `warm_start.regression_start`, with λ and smoothing chosen once per search on the
    validation segment).
    """

    model: str
    model_args: dict
    scheme: str
    scheme_args: dict = dataclasses.field(default_factory=dict)
    lr: tuple = (1e-3, 1e-5)
    input_noise: float = 0.05
    seed: int = 0
    init: str = "random"

    def __post_init__(self):
        if self.init not in ("random", "regression"):
            raise ValueError(f"init must be 'random' or 'regression', got {self.init!r}")
        object.__setattr__(self, "model", model_name(self.model))
        object.__setattr__(self, "scheme", scheme_name(self.scheme))
        object.__setattr__(self, "lr", tuple(float(v) for v in self.lr))

    def structure(self) -> tuple:
        """Candidates with equal structure train in one compiled program."""
        return self.model, tuple(sorted(self.model_args.items())), self.scheme

    def forcing(self) -> tuple[str, float] | None:
        """(the scheme's per-member argument, its value) or None."""
        for name in ("interval", "alpha", "alpha_start"):
            if name in self.scheme_args:
                return name, self.scheme_args[name]
        return None

    def label(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in sorted(self.model_args.items()))
        force = self.forcing()
        scheme = self.scheme + (f"({force[0]}={force[1]})" if force else "")
        init = "" if self.init == "random" else f" init={self.init}"
        return f"{self.model}({args}) {scheme} lr={self.lr[0]:g} seed={self.seed}{init}"

    def to_dict(self) -> dict:
        return {"model": self.model, "model_args": dict(self.model_args), "scheme": self.scheme,
                "scheme_args": dict(self.scheme_args), "lr": list(self.lr), "input_noise": self.input_noise,
                "seed": self.seed, "init": self.init}


@dataclasses.dataclass
class CandidateResult:
    """What the search made of one candidate.

    model: its best checkpoint (by validation score; None when no checkpoint was finite); metrics: that
    checkpoint's validation scores; best_epoch: epochs trained when it was taken; epochs: epochs trained in all;
    rung: the last rung it trained in; status: "ok", "diverged" (training became non-finite before any usable
    checkpoint) or "ok" with `eliminated_after` set (stopped by the halving); seconds: its share of the compute.
    """

    index: int
    candidate: Candidate
    model: object = None
    metrics: dict = dataclasses.field(default_factory=lambda: {"score": math.inf})
    best_epoch: int = -1
    epochs: int = 0
    rung: int = 0
    status: Status = Status.OK
    eliminated_after: int | None = None
    seconds: float = 0.0
    # the training state carried between rungs
    current: object = None
    alpha: float | None = None

    @property
    def score(self) -> float:
        return float(self.metrics.get("score", math.inf))

    def row(self) -> dict:
        c = self.candidate
        force = c.forcing()
        return {"candidate": self.index, "model": c.model, **{k: v for k, v in c.model_args.items()},
                "scheme": c.scheme, "forcing": None if force is None else force[1], "lr": c.lr[0],
                "input_noise": c.input_noise, "seed": c.seed, "init": c.init, "epochs": self.epochs,
                "best_epoch": self.best_epoch,
                "rung": self.rung, "eliminated_after_rung": self.eliminated_after, "status": str(self.status),
                "val_d_stsp": self.metrics.get("val_d_stsp"), "val_d_h": self.metrics.get("val_d_h"),
                "val_in_range": self.metrics.get("val_in_range"), "val_cycle": self.metrics.get("val_cycle"),
                "val_stray": self.metrics.get("val_stray"), "score": self.score,
                "seconds": round(self.seconds, 2)}


@dataclasses.dataclass
class SearchResult:
    """The outcome of `search`: every candidate's result, the index of the best, the rungs as run, notes."""

    candidates: list
    best_index: int | None
    seconds: float
    budget: float
    rungs: list
    notes: list

    @property
    def best(self) -> CandidateResult:
        if self.best_index is None:
            raise ValueError("no candidate produced a finite validation score: every one diverged")
        return self.candidates[self.best_index]

    def table(self) -> list[dict]:
        """One row per candidate (settings, epochs, rung reached, validation scores), best first."""
        return [c.row() for c in sorted(self.candidates, key=_rank)]

    def to_dict(self) -> dict:
        return {"best": self.best_index, "seconds": round(self.seconds, 1), "budget": self.budget,
                "rungs": self.rungs, "notes": self.notes, "candidates": [c.candidate.to_dict() for c in self.candidates]}


def _rank(c: CandidateResult):
    return (not math.isfinite(c.score), c.score, c.index)


def _scheme_for(group: list[CandidateResult]):
    """The scheme of a population with each member's forcing strength (adaptive GTF: the α it reached)."""
    first = group[0].candidate
    cls = scheme_class(first.scheme)
    if first.scheme == "adaptive_gtf":
        extra = {k: v for k, v in first.scheme_args.items() if k != "alpha_start"}
        starts = [c.alpha if c.alpha is not None else c.candidate.scheme_args.get("alpha_start", 1.0) for c in group]
        return cls(**extra, alpha_start=[min(1.0, max(0.0, float(a))) for a in starts])
    force = first.forcing()
    if force is None:
        return cls(**first.scheme_args)
    return cls(**{force[0]: [c.candidate.scheme_args[force[0]] for c in group]})


def _initial_models(candidates: Sequence[Candidate], obs_dim: int, train_data, validation: np.ndarray,
                    horizon: int, log: Callable[[str], None]) -> list:
    """Each candidate's starting model; regression starts share one choice of (λ, w) per hidden size."""
    from .warm_start import choose_fit, regression_start

    models, fits = [], {}
    for c in candidates:
        key = jax.random.key(c.seed)
        model = build_model({"model": c.model, "model_args": c.model_args}, obs_dim, key=key)
        if c.init == "regression":
            if model.hidden_dim not in fits:
                fits[model.hidden_dim] = fit = choose_fit(train_data, validation, model.hidden_dim, key=key,
                                                          horizon=horizon)
                log(f"regression start (L = {model.hidden_dim}): ridge λ = {fit['lam']:g}, smoothing window "
                    f"{fit['window']}, validation score {fit['score']:.3f}")
            fit = fits[model.hidden_dim]
            model = regression_start(model, train_data, lam=fit["lam"], window=fit["window"], key=key)
        models.append(model)
    return models


class _Clock:
    def __init__(self, budget: float):
        self.start, self.budget = time.perf_counter(), float(budget)

    def used(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return self.budget - self.used()

    def fraction(self, extra: float = 0.0) -> float:
        return min(1.0, max(0.0, (self.used() + extra) / self.budget))


def search(train_data, validation: np.ndarray, candidates: Sequence[Candidate], *, budget: float = 600.0,
           eta: int = 2, seq_len: int = 200, batch_size: int = 16, batches_per_epoch: int = 50,
           calibration_epochs: int = 3, max_epochs: int = 5000, evaluations_per_rung: int = 4,
           by_family: bool = False, log: Callable[[str], None] | None = None) -> SearchResult:
    """Train `candidates` on `train_data` by successive halving within `budget` seconds (see the module docstring).

    Args:
        train_data: the training Dataset (standardised), or what `train` accepts.
        validation: (T_v, N) standardised series held out from training (at least 320 points), scored by
            `validation_scores` over a free run of `validation_horizon(T_v)` steps.
        candidates: the settings to try (at least one).
        budget: wall-clock seconds for the training (compilation included); the last rung may overrun it by one
            epoch of the survivors and their final evaluation.
        eta: halving factor η >= 2 (the best ⌈n/η⌉ go on after each rung).
        seq_len, batch_size, batches_per_epoch: shared training settings (as `train`).
        calibration_epochs: epochs of the first rung's start that measure the cost of an epoch.
        max_epochs: no candidate trains more epochs than this.
        evaluations_per_rung: validation checkpoints per candidate and rung.
        by_family: halve within each model family (e.g. AL-RNNs and shPLRNNs separately), so that the best of
            every family survives to the last rung (for a choice across families, such as the most interpretable
            model near the best); default: one ranking over all candidates.
        log: called with one line per rung (progress), e.g. `print`.

    Returns:
        SearchResult (every candidate's best checkpoint and validation scores; `best`).
    """
    if not candidates:
        raise ValueError("search needs at least one candidate")
    if not (isinstance(eta, int) and eta >= 2):
        raise ValueError(f"eta must be an integer >= 2, got {eta!r}")
    if not (math.isfinite(budget) and budget > 0):
        raise ValueError(f"budget must be a positive number of seconds, got {budget!r}")
    validation = np.asarray(validation, dtype=np.float64)
    obs_dim = validation.shape[1]
    log = log or (lambda line: None)
    clock = _Clock(budget)
    data_peak = autocorrelation_peak(validation)
    horizon = validation_horizon(len(validation))
    def score(model) -> dict:
        return validation_scores(model, validation, horizon=horizon, data_peak=data_peak,
                                 spectrum_length=SPECTRUM_LENGTH)

    starts = _initial_models(candidates, obs_dim, train_data, validation, horizon, log)
    results = [CandidateResult(i, c, current=m) for i, (c, m) in enumerate(zip(candidates, starts))]
    for r in results:  # a fitted start is itself a checkpoint (epoch 0): training must beat it to replace it
        if r.candidate.init == "regression":
            scores = score(r.current)
            if math.isfinite(scores["score"]):
                r.model, r.metrics, r.best_epoch = r.current, scores, 0
    cost: dict[tuple, float] = {}  # seconds per member-epoch of each structure
    calls = [0]  # train calls so far: each call draws a fresh data stream
    selection = Selection(lambda model, _true: score(model),
                          metric="score",
                          columns=("score", "val_d_stsp", "val_d_h", "val_in_range", "val_cycle", "val_stray"),
                          name=SELECTION_RULE)
    settings = dict(seq_len=seq_len, batch_size=batch_size, batches_per_epoch=batches_per_epoch,
                    eval_steps=len(validation))

    def advance(alive: list[CandidateResult], epochs: int, rung: int, planned: float) -> None:
        """Train every alive candidate `epochs` more epochs (one `train` call per structure)."""
        f_a, f_b = clock.fraction(), clock.fraction(planned)
        groups: dict[tuple, list[CandidateResult]] = {}
        for c in alive:
            groups.setdefault(c.candidate.structure(), []).append(c)
        calls[0] += 1
        for key, group in groups.items():
            group = [c for c in group if c.epochs < max_epochs]
            if not group:
                continue
            e = min(min(epochs, max_epochs - c.epochs) for c in group)
            lrs = [(c.candidate.lr[0] * (c.candidate.lr[1] / c.candidate.lr[0]) ** f_a,
                    c.candidate.lr[0] * (c.candidate.lr[1] / c.candidate.lr[0]) ** f_b) for c in group]
            t0 = time.perf_counter()
            fit = train([c.current for c in group], train_data, _scheme_for(group), selection=selection,
                        progress=False, epochs=e, lr=lrs, input_noise=[c.candidate.input_noise for c in group],
                        seed=[c.candidate.seed * 1000 + calls[0] for c in group],
                        eval_every=max(1, e // max(1, evaluations_per_rung)), **settings)
            seconds = time.perf_counter() - t0
            times = [r["time_s"] for r in fit.member(0).history]
            if len(times) >= 3:  # per epoch after the first (which compiles)
                cost[key] = (times[-1] - times[0]) / (len(times) - 1) / len(group)
            elif key not in cost:
                cost[key] = seconds / e / len(group)
            for i, c in enumerate(group):
                m = fit.member(i)
                c.seconds += seconds / len(group)
                if m.best_epoch >= 0 and m.score < c.score:
                    c.model, c.metrics, c.best_epoch = m.model, dict(m.best_metrics), c.epochs + m.best_epoch + 1
                c.current = m.final_model
                c.alpha = m.history[-1]["alpha"] if m.history else c.alpha
                c.rung = rung
                if m.diverged_epoch is not None:
                    c.epochs += m.diverged_epoch
                    c.eliminated_after = rung
                    if c.model is None:
                        c.status = Status.DIVERGED
                else:
                    c.epochs += e

    family = (lambda c: c.candidate.model) if by_family else (lambda c: "")
    largest = max(sum(family(c) == f for c in results) for f in {family(c) for c in results})
    n_rungs = 1 + (math.ceil(math.log(largest) / math.log(eta) - 1e-9) if largest > 1 else 0)
    alive, rungs, notes = list(results), [], []
    for rung in range(n_rungs):
        alive = [c for c in alive if c.eliminated_after is None and c.epochs < max_epochs]
        if not alive:
            break
        start = clock.used()
        if rung == 0:
            advance(alive, calibration_epochs, rung, planned=0.0)
            alive = [c for c in alive if c.eliminated_after is None]
        share = clock.left() / (n_rungs - rung)  # compilation and calibration count as overhead of the first rung
        per_epoch = sum(cost.get(c.candidate.structure(), 0.0) for c in alive)
        epochs = int(share / per_epoch) if per_epoch > 0 else 0
        if alive:  # spread what `max_epochs` leaves over the remaining rungs
            done = min(c.epochs for c in alive)
            epochs = min(epochs, math.ceil((max_epochs - done) / (n_rungs - rung)))
        if alive and epochs >= 1:
            advance(alive, epochs, rung, planned=epochs * per_epoch)
        elif rung == 0:
            notes.append(f"the budget of {budget:g} s was spent on compiling and {calibration_epochs} calibration "
                         "epochs: the candidates are barely trained; give a larger budget")
        trained = [c for c in alive if c.rung == rung]
        ranked, survivors = sorted(trained, key=_rank), []
        for f in sorted({family(c) for c in ranked}):
            members = [c for c in ranked if family(c) == f]
            keep = max(1, math.ceil(len(members) / eta)) if rung < n_rungs - 1 else len(members)
            survivors += members[:keep]
            for c in members[keep:]:
                if c.eliminated_after is None:
                    c.eliminated_after = rung
        keep = len(survivors)
        best = ranked[0] if ranked else None
        rungs.append({"rung": rung, "candidates": len(trained), "epochs": epochs + (calibration_epochs if rung == 0 else 0),
                      "seconds": round(clock.used() - start, 1), "kept": keep,
                      "best_score": None if best is None else best.score})
        log(f"rung {rung + 1}/{n_rungs}: {len(trained)} candidates, {rungs[-1]['epochs']} epochs each, "
            f"{rungs[-1]['seconds']:.0f} s; best validation score "
            + (f"{best.score:.3f} ({best.candidate.label()})" if best else "none"))
        alive = sorted(survivors, key=_rank)
        if clock.left() <= 0:
            if rung < n_rungs - 1:
                notes.append(f"the budget ran out after rung {rung + 1} of {n_rungs}")
            break
    ranked = sorted(results, key=_rank)
    best_index = ranked[0].index if math.isfinite(ranked[0].score) else None
    return SearchResult(results, best_index, clock.used(), float(budget), rungs, notes)
