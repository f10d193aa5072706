"""Context parroting: find the training segment closest to the recent context and copy what followed it.

Reference: Y. Zhang, W. Gilpin, "Context parroting: a simple but tough-to-beat baseline for foundation models in
scientific machine learning", arXiv:2505.11349 (2025). Here the search runs over the training history (all
trajectories) instead of the context alone. When the copied continuation reaches the end of its trajectory, the last
`match_length` generated points are matched again, so a free run of any length is a concatenation of training
segments. It reproduces the training distribution (noise included) by construction and has no model of the dynamics:
a floor for the attractor metrics, not a reconstruction.
"""

from __future__ import annotations

import numpy as np

from ._base import Reconstructor
from ._params import Interval


class ContextParroting(Reconstructor):
    """Nearest-neighbour copying.

    Args:
        match_length: number of most recent observations D that are matched (Euclidean distance on the D x N
            window; a shorter context is matched on its own length). Default 10.
    """

    name = "parroting"
    _parameter_constraints = {"match_length": [Interval(int, 1, None)]}

    def __init__(self, match_length: int = 10):
        self.match_length = match_length

    def _min_length(self):
        return self.match_length + 1

    def _fit(self, trajectories, dt, seed):
        self.history_ = np.concatenate(trajectories, axis=0)
        self.lengths_ = np.array([len(x) for x in trajectories], dtype=np.int64)
        self._trees = {}

    def _after_load(self):
        self._trees = {}

    def _tree(self, length: int):
        """KD-tree over all windows of `length` points that have at least one successor in their trajectory."""
        if length not in self._trees:
            from scipy.spatial import cKDTree

            ends, windows = [], []
            start = 0
            for T in self.lengths_.tolist():
                x = self.history_[start : start + T]
                idx = np.arange(length - 1, T - 1)
                if len(idx):
                    windows.append(np.stack([x[i - length + 1 : i + 1].ravel() for i in idx]) if length > 1 else x[idx])
                    ends.append(start + idx)
                start += T
            ends = np.concatenate(ends)
            self._trees[length] = (cKDTree(np.concatenate(windows, axis=0)), ends)
        return self._trees[length]

    def _predict(self, context, n_steps):
        bounds = np.cumsum(self.lengths_)  # exclusive end index of each trajectory in history_
        out = np.empty((n_steps, self.dim_))
        recent = context[-self.match_length :]
        k = 0
        while k < n_steps:
            L = len(recent)
            tree, ends = self._tree(L)
            _, j = tree.query(recent.ravel())
            i = int(ends[j])
            stop = int(bounds[np.searchsorted(bounds, i, side="right")])
            seg = self.history_[i + 1 : min(stop, i + 1 + n_steps - k)]
            out[k : k + len(seg)] = seg
            k += len(seg)
            recent = np.concatenate([recent, seg], axis=0)[-self.match_length :]
        return out
