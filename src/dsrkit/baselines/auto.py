"""The main job's population search as a benchmark method: `auto`.

`fit` does on the training trajectories what `dsrkit.reconstruct` does on a user's data, without the test split
(the benchmark holds its own): the last `validation_fraction` of every trajectory (at most 20 000 points) is held
out, both parts are standardised with their joint statistics, the settings come from the data
(`training.suggest`), the default candidates (`training.population.candidates_for`) train by successive halving for
`budget` seconds (`training.search`), and the best validation score's checkpoint is the model (`interpretable`:
the AL-RNN with the fewest subregions near the best, as `dsr reconstruct --interpretable`). So a leaderboard row
`auto` is what a user gets from the main job with that budget.
"""

from __future__ import annotations

import json

import numpy as np

from ._base import Reconstructor
from ._params import Boolean, Interval


class PopulationSearch(Reconstructor):
    """dsrkit's population search over the PLRNN family with data-derived settings (see the module docstring).

    Args:
        budget: seconds of training for the search (default 600, the main job's default for a data file).
        interpretable: pick the AL-RNN with the fewest subregions within a factor of the best (default False).
        validation_fraction: share of every training trajectory held out for selection (default 0.2, at most
            20 000 points, as the main job).
        max_epochs: no candidate trains more epochs than this (default None: the budget alone ends the search).
            The budget is wall-clock time, so a fit depends on the machine's speed; a max_epochs that ends the
            search before the budget does makes it repeatable (same data and seed, same model).
    Learned: `model_` (the selected Equinox model), `model_kind_` and `model_args_` (its family and constructor
    arguments, JSON), `label_` (the selected candidate), `mean_`, `scale_` (the standardisation).
    """

    name = "auto"
    _bucket_steps = True
    _parameter_constraints = {"budget": [Interval(float, 0, None, closed="neither")],
                              "interpretable": [Boolean()],
                              "validation_fraction": [Interval(float, 0, 1, closed="neither")],
                              "max_epochs": [Interval(int, 1, None), None]}

    def __init__(self, budget: float = 600.0, interpretable: bool = False, validation_fraction: float = 0.2,
                 max_epochs: int | None = None):
        self.budget = budget
        self.interpretable = interpretable
        self.validation_fraction = validation_fraction
        self.max_epochs = max_epochs

    def _min_length(self) -> int:
        """The main job's minimum of training points, and a validation part of at least 320 (D_H's minimum)."""
        from ..training.population import MIN_TRAIN_POINTS

        f = self.validation_fraction
        return int(max(np.ceil(MIN_TRAIN_POINTS / (1 - f)), np.ceil(320 / f)))

    def _fit(self, trajectories, dt, seed):
        from ..data import Dataset
        from ..training.population import MAX_VALIDATION, candidates_for, choose, split_off
        from ..training.search import search
        from ..training.suggest import suggest

        stacked = np.concatenate(trajectories)
        self.mean_, self.scale_ = stacked.mean(0), np.where(stacked.std(0) > 0, stacked.std(0), 1.0)
        data = Dataset([(x - self.mean_) / self.scale_ for x in trajectories], dt)
        train, validation = split_off(data, self.validation_fraction, MAX_VALIDATION)
        sg = suggest(train)
        candidates = candidates_for(sg, "auto", seed, self.interpretable, self.budget)
        val = validation.trajectories[-1]
        result = search(train, val, candidates, budget=self.budget, seq_len=sg.seq_len,
                        max_epochs=self.max_epochs or 100_000, by_family=self.interpretable)
        if result.best_index is None:
            raise RuntimeError("no candidate of the population search reached a finite validation score")
        chosen, _ = choose(result, val, self.interpretable)
        self.model_ = chosen.model
        self.model_kind_ = chosen.candidate.model
        self.model_args_ = json.dumps(chosen.candidate.model_args, sort_keys=True)
        self.label_ = chosen.candidate.label()

    def _skeleton(self, attr, key=None):
        import jax

        from ..training.config import build_model

        return build_model({"model": self.model_kind_, "model_args": json.loads(self.model_args_)}, self.dim_,
                           key=jax.random.key(0))

    def _predict(self, context, n_steps):
        from ..rollout import generate

        x0 = ((np.asarray(context[-1], np.float64) - self.mean_) / self.scale_).astype(np.float32)
        z = np.asarray(generate(self.model_, x0, n_steps + 1), np.float64)[1:]
        return z * self.scale_ + self.mean_
