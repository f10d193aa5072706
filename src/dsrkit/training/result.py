"""What `train` returns: a `TrainResult` over all members of the population (always member-stacked, for any
population size) and `MemberFit`, one member of it.

    fit = train(model, data, ...)        # a population of one
    fit.model, fit.status, fit.best_epoch, fit.best_metrics    # its member (for k > 1: the best member's)
    fit.best()                          # MemberFit of the member the selection rule ranks first
    fit.member(i)                       # MemberFit of member i
    fit.scores, fit.statuses, fit.best_epochs, fit.diverged_epochs              # (k,) arrays, one entry per member
    fit.models                          # the k returned models stacked along a leading member axis
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._status import Status


@dataclasses.dataclass(frozen=True)
class MemberFit:
    """One member of a trained population (also what a report of a saved run shows).

    Attributes:
        model: the member's returned checkpoint: the evaluated epoch the selection rule scored best, or with
            evaluation off the last epoch. With best_epoch == -1 (no such checkpoint) it is the member's last
            finite parameters (the initialisation if it diverged in epoch 0), not a result.
        history: the member's rows of the training history (epoch, member, loss, alpha, lr, the selection's
            metrics — d_stsp, d_h for the published rule — NaN where not evaluated, time_s).
        best_epoch: epoch e of the returned checkpoint, i.e. the parameters after epoch e's updates; -1 when there
            is none (training diverged first, or no evaluation was finite).
        status: `Status.OK` ("ok") exactly when best_epoch >= 0 and the returned model's free run (1.25 ·
            eval_steps steps from the first data point) is finite; else `Status.DIVERGED` ("diverged").
        best_metrics: the selection's metrics of the returned checkpoint ({"d_stsp", "d_h"} for the published
            rule), NaN when not evaluated.
        diverged_epoch: first epoch whose loss or updated parameters the divergence rule rejected (the member
            stopped training there; its later history rows have NaN loss), else None.
        seconds: wall time of the whole training (all members).
        member: index of the member in its population.
        score: the selection metric of the returned checkpoint (NaN when there is none).
        selection: name of the rule that chose the checkpoint (and ranks the members).
        final_model: the member's parameters when training ended (after the last epoch, or its last finite
            parameters when it diverged): where a continued training starts (`dsrkit.training.search`).
    """

    model: Any
    history: list
    best_epoch: int
    status: Status
    best_metrics: dict
    diverged_epoch: int | None = None
    seconds: float = 0.0
    member: int = 0
    score: float = math.nan
    selection: str = ""
    final_model: Any = None


def rank_key(fit: MemberFit):
    """Order of members: "ok" members with a finite score first, by score; then the rest; ties by index."""
    ok = fit.status == Status.OK and fit.score is not None and math.isfinite(fit.score)
    return (0, fit.score, fit.member) if ok else (1, 0.0, fit.member)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """Outcome of `train` for a population of k >= 1 members (k = 1 for a single model).

    Per member: `member(i)` (a `MemberFit`), and the (k,) arrays `scores`, `statuses`, `best_epochs`,
    `diverged_epochs` (-1: never diverged); `models` stacks the k returned models along a leading axis.
    `best()` is the member the selection rule ranks first: "ok" members with a finite score before the others,
    lower score first, ties by lower index (for the published rule: the lowest training-data D_stsp).

    Shortcuts for the common single-model case: `model`, `best_epoch`, `status`, `best_metrics` and
    `diverged_epoch` are those of `best()` — for a population of one, of its only member; `fit.model` is always
    one model, never a list.

    Attributes:
        members: the k `MemberFit`s in member order.
        history: the whole population's history, one row per (epoch, member), epoch-major; every row carries
            "member"; `csv.DictWriter(f, result.history[0].keys())` exports it.
        seconds: wall time. config: the settings used (JSON-serialisable). selection: name of the selection rule.
    """

    members: tuple
    history: list
    seconds: float = 0.0
    config: dict = dataclasses.field(default_factory=dict)
    selection: str = ""

    # ------------------------------------------------------------------------------------------- members

    def __len__(self) -> int:
        return len(self.members)

    @property
    def size(self) -> int:
        """Number of members k."""
        return len(self.members)

    def member(self, i: int) -> MemberFit:
        """Member i (0 <= i < k)."""
        if not -len(self.members) <= i < len(self.members):
            raise IndexError(f"member {i} out of range for a population of {len(self.members)}")
        return self.members[i]

    def best(self) -> MemberFit:
        """The member the selection rule ranks first (see the class docstring)."""
        return min(self.members, key=rank_key)

    def ranking(self) -> list[int]:
        """Member indices, best first."""
        return [m.member for m in sorted(self.members, key=rank_key)]

    @property
    def scores(self) -> np.ndarray:
        """The selection metric of each member's returned checkpoint, (k,) float (NaN: none)."""
        return np.array([m.score for m in self.members], dtype=float)

    @property
    def statuses(self) -> np.ndarray:
        return np.array([m.status for m in self.members])

    @property
    def best_epochs(self) -> np.ndarray:
        return np.array([m.best_epoch for m in self.members], dtype=int)

    @property
    def diverged_epochs(self) -> np.ndarray:
        """First diverged epoch of each member, -1 for members that never diverged."""
        return np.array([-1 if m.diverged_epoch is None else m.diverged_epoch for m in self.members], dtype=int)

    @property
    def models(self):
        """The k returned models as one model whose parameter arrays have a leading member axis."""
        params = [eqx.filter(m.model, eqx.is_array) for m in self.members]
        static = eqx.filter(self.members[0].model, eqx.is_array, inverse=True)
        return eqx.combine(jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *params), static)

    # ------------------------------------------------------------------------------------------- shortcuts

    @property
    def model(self):
        return self.best().model

    @property
    def best_epoch(self) -> int:
        return self.best().best_epoch

    @property
    def status(self) -> Status:
        return self.best().status

    @property
    def best_metrics(self) -> dict:
        return self.best().best_metrics

    @property
    def diverged_epoch(self) -> int | None:
        return self.best().diverged_epoch
