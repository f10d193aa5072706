"""The search's population: candidates from data-derived settings, the validation segment, the choice of a model.

    train, validation = split_off(dataset, 0.2, MAX_VALIDATION)   -> the last 20 % of every trajectory held out
    candidates = candidates_for(suggest(train), "auto", seed)     -> list[Candidate] for `search`
    chosen, frontier = choose(search(...), validation, interpretable)

Shared by the main job (`dsrkit.reconstruction`) and the benchmark method `auto` (`dsrkit.baselines.auto`), so
that a leaderboard row `auto` is what a user gets from `dsr reconstruct` with the same budget.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._checks import check_int
from ..data import Dataset

#: how the candidates start: from their random initialisation, or every other shPLRNN from a ridge fit
STARTS = ("random", "mixed")
#: `interpretable=True` picks the AL-RNN with the fewest subregions whose validation D_stsp is within this factor
#: of the best candidate's
INTERPRETABLE_FACTOR = 2.0
#: the validation segment's length is capped (its free runs are scored at every checkpoint)
MAX_VALIDATION = 20_000
#: fewer training points than this are an error of the main job and of `auto`
MIN_TRAIN_POINTS = 500
#: below this search budget (seconds) the population is smaller: fewer candidates train longer
SMALL_SEARCH = 300.0


def split_off(ds: Dataset, fraction: float, cap: int | None = None) -> tuple[Dataset, Dataset]:
    """(first part, last part) of every trajectory; the last part is `fraction` of it, at most `cap` points."""
    first, last = [], []
    for i, x in enumerate(ds.trajectories):
        k = int(round(fraction * len(x)))
        if cap is not None:
            k = min(k, cap)
        if k < 2 or len(x) - k < 2:
            raise ValueError(f"trajectory {i} has {len(x)} points: too short to split off {fraction:.0%}")
        first.append(x[:-k])
        last.append(x[-k:])
    return Dataset(first, ds.dt, ds.names), Dataset(last, ds.dt, ds.names)



def apply_settings(suggestion, *, seq_len: int | None = None, interval: int | None = None,
                   latent_dim: int | None = None, relu_units: int | None = None, hidden_dim: int | None = None,
                   input_noise: float | None = None):
    """The suggestion with each setting the user fixed in place of the derived one (its reason says so): the
    window `seq_len`, one STF `interval` for the AL-RNNs, their `latent_dim` M and `relu_units` P, the shPLRNNs'
    `hidden_dim` L and the training `input_noise` (std, standardised units). None keeps the derived value."""
    changes = {}
    for field, value in (("seq_len", seq_len), ("latent_dim", latent_dim), ("shplrnn_hidden", hidden_dim)):
        if value is not None:
            changes[field] = check_int(field if field != "shplrnn_hidden" else "hidden_dim", value)
    if interval is not None:
        changes["stf_interval"] = check_int("interval", interval)
        changes["stf_intervals"] = (changes["stf_interval"],)
    if relu_units is not None:
        changes["relu_units"] = (check_int("relu_units", relu_units),)
    if input_noise is not None:
        if not (math.isfinite(input_noise) and input_noise >= 0):
            raise ValueError(f"input_noise must be a finite std >= 0, got {input_noise!r}")
        changes["input_noise"] = float(input_noise)
    if not changes:
        return suggestion
    reasons = dict(suggestion.reasons)
    for field in changes:
        reasons[field] = "set by the user"
    return dataclasses.replace(suggestion, **changes, reasons=reasons)


def candidates_for(suggestion, model: str = "auto", seed: int = 0, interpretable: bool = False,
                   budget: float | None = None, lr: tuple | None = None, starts: str = "random") -> list:
    """The candidates of the search from data-derived settings.

    auto: six shPLRNNs with adaptive GTF (the most accurate configuration measured; seeds and learning rates
    5e-4…2e-3) and AL-RNNs at two numbers of piecewise-linear units P, each with the suggested STF intervals
    (Mikhaeil et al. 2022: τ near the predictability time). "alrnn" / "shplrnn": only that family (more seeds).
    `interpretable` adds a third AL-RNN P so that the frontier has a choice. `lr` (start, end) replaces every
    candidate's learning-rate schedule. `starts` "mixed": every other shPLRNN starts from a ridge-regression
    fit (`training.warm_start`) instead of a random initialisation. A search budget below SMALL_SEARCH
    seconds trains a smaller population (auto: four shPLRNNs, no AL-RNN; alrnn: one P), so that the survivors
    still train long enough. Measured with the 600 s default (benchmarks/results/reconstruct_devset.jsonl,
    "families": each family's best validation D_stsp and last rung): on Lorenz-63, Chen and Rucklidge every AL-RNN
    fell out in the first rung (best validation D_stsp 5.9–9.2 against 0.9–1.2 for the shPLRNNs); on Aizawa,
    GenesioTesi and SprottC one reached the second to fourth rung; on Rössler an AL-RNN was selected.
    """
    from .search import Candidate

    sg = suggestion
    noise = float(sg.input_noise)
    if starts not in STARTS:
        raise ValueError(f"starts must be one of {list(STARTS)}, got {starts!r}")
    sh = [Candidate("shplrnn", {"hidden_dim": int(sg.shplrnn_hidden)}, "adaptive_gtf", {},
                    lr=(lr, 1e-5), input_noise=noise, seed=seed + i,
                    init="regression" if starts == "mixed" and i % 2 == 0 else "random")
          for i, lr in enumerate((1e-3, 2e-3, 1e-3, 2e-3, 1e-3, 5e-4, 1e-3, 2e-3))]
    ps = sorted(set(int(p) for p in sg.relu_units))
    mid = next((p for p in ps if p >= 2), ps[0])  # P = 1 has only two subregions: start at 2 where possible
    ps = ps[:3] if interpretable else sorted({mid, ps[-1]})
    al = [Candidate("alrnn", {"latent_dim": int(sg.latent_dim), "relu_units": p}, "stf", {"interval": int(tau)},
                    lr=(1e-3, 1e-5), input_noise=noise, seed=seed + 100 + j)
          for p in ps for j, tau in enumerate(sg.stf_intervals)]
    small = budget is not None and budget < SMALL_SEARCH and not interpretable
    if small:
        sh, al = sh[:4], al[:len(sg.stf_intervals)]
    if lr is not None:
        sh, al = ([dataclasses.replace(c, lr=tuple(lr)) for c in group] for group in (sh, al))
    if model == "shplrnn":
        return sh
    if model == "alrnn":
        return al + [dataclasses.replace(c, seed=c.seed + 50) for c in al]
    return sh if small else sh[:6] + al


def visited_subregions(model, x0: np.ndarray, n_steps: int = 5000) -> int | None:
    """Number of distinct linear subregions a free run of `n_steps` from the observation x0 visits (None for a
    model without subregions or a non-finite run)."""
    import jax.numpy as jnp

    from ..analysis import subregions
    from ..rollout import free_run_latent

    if not hasattr(model, "region_code"):
        return None
    z = free_run_latent(model, np.asarray(model.init_state(jnp.asarray(x0, model.dtype)), np.float64), n_steps)
    if not np.all(np.isfinite(z)):
        return None
    return int(len(subregions(model, z[n_steps // 5:]).counts))


def choose(result, validation: np.ndarray, interpretable: bool):
    """(selected CandidateResult, frontier rows). The frontier lists every candidate with a checkpoint: its
    validation D_stsp and the subregions its free run visits. Default: the best validation score; interpretable:
    the AL-RNN with the fewest subregions among those within INTERPRETABLE_FACTOR × the best validation D_stsp."""
    rows = []
    for c in result.candidates:
        if c.model is None or not math.isfinite(c.score):
            continue
        rows.append({"candidate": c.index, "model": c.candidate.model, "label": c.candidate.label(),
                     "val_d_stsp": c.metrics.get("val_d_stsp"), "val_d_h": c.metrics.get("val_d_h"),
                     "score": c.score, "subregions": visited_subregions(c.model, validation[0])})
    best = result.best
    if not interpretable:
        return best, rows
    bound = INTERPRETABLE_FACTOR * min(r["val_d_stsp"] for r in rows)
    eligible = [r for r in rows if r["model"] == "alrnn" and r["val_d_stsp"] <= bound and r["subregions"]]
    if not eligible:
        return best, rows
    pick = min(eligible, key=lambda r: (r["subregions"], r["score"]))
    return result.candidates[pick["candidate"]], rows
