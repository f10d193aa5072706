"""Trivial reference baselines: the training mean and the last observed value.

Any method worth its training time must beat both on every metric; they also calibrate metric scales (a constant
forecast has the D_stsp of a point mass and the D_H of a flat spectrum).
"""

from __future__ import annotations

import numpy as np

from ._base import Reconstructor


class Mean(Reconstructor):
    """Forecast the per-variable mean of the training data at every future step. No hyperparameters."""

    name = "mean"

    def __init__(self):
        pass

    def _fit(self, trajectories, dt, seed):
        self.mean_ = np.concatenate(trajectories, axis=0).mean(axis=0)

    def _predict(self, context, n_steps):
        return np.repeat(self.mean_[None, :], n_steps, axis=0)


class LastValue(Reconstructor):
    """Persistence forecast: repeat the last observation of the context. No hyperparameters."""

    name = "last_value"

    def __init__(self):
        pass

    def _fit(self, trajectories, dt, seed):
        pass

    def _predict(self, context, n_steps):
        return np.repeat(context[-1:], n_steps, axis=0)
