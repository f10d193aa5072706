"""The parts of `train` that may be replaced: how checkpoints are scored and members ranked (`Selection`), when a
member counts as diverged (`divergence=`), and what happens after each epoch (`Callback`, e.g. `ProgressBar`).

    train(..., selection=Selection(my_scores, metric="val_d_stsp", name="validation D_stsp"))
    train(..., divergence=lambda epoch, losses, finite, alive: alive & finite & (losses < 1e3))
    train(..., callbacks=[MyLogger()])
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class Selection:
    """A model-selection rule: `evaluate(model, true) -> {name: value}` scores a checkpoint against `true`, the
    first `eval_steps` points of the first training trajectory; `metric` names the value to minimise (NaN or
    inf: the checkpoint is unusable). Each member returns its checkpoint with the lowest metric, and
    `TrainResult.best()` ranks the members by it. `columns` are the history's columns for the metrics (NaN where
    a checkpoint was not evaluated); `name` is recorded in the result and the run directory.

    The published rule (`training.loop.PUBLISHED_SELECTION`, the default): D_stsp of the protocol's free run
    against the training data, columns d_stsp and d_h.
    """

    evaluate: Callable
    metric: str = "d_stsp"
    name: str = "custom"
    columns: Sequence[str] = ("d_stsp", "d_h")

    def __post_init__(self):
        if not callable(self.evaluate):
            raise TypeError(f"Selection.evaluate must be callable, got {self.evaluate!r}")
        columns = tuple(self.columns)
        if self.metric not in columns:
            columns = (self.metric, *columns)
        object.__setattr__(self, "columns", columns)


def non_finite(epoch: int, losses: np.ndarray, finite: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """The default divergence rule: a member stops when its epoch's mean loss or its updated parameters are
    non-finite. Args: epoch; losses (k,) mean losses of the epoch; finite (k,) whether the updated parameters are
    finite; alive (k,) members still training. Returns (k,) members that go on training (a subset of alive)."""
    return alive & np.isfinite(losses) & finite


class Callback:
    """Hooks `train` calls; subclass and override what you need.

    on_train_start(epochs, members): before the first epoch.
    on_epoch_end(epoch, rows, alive): after each epoch's updates, divergence check and evaluation; rows are the
        epoch's history rows (one per member), alive the members still training. Return True to stop training.
    on_train_end(): after the last epoch (also when training stopped early or raised).
    """

    def on_train_start(self, epochs: int, members: int) -> None:
        pass

    def on_epoch_end(self, epoch: int, rows: list[dict], alive: np.ndarray) -> bool | None:
        return None

    def on_train_end(self) -> None:
        pass


class ProgressBar(Callback):
    """A rich progress bar: epoch, median loss, α of member 0, the last evaluated metrics, diverged members."""

    def __init__(self, columns: Sequence[str] = ("d_stsp", "d_h")):
        self.columns = tuple(columns)
        self.bar = self.task = None
        self.last = None

    def on_train_start(self, epochs: int, members: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        # progress goes to stderr: stdout is for results
        self.bar = Progress(TextColumn("epoch {task.completed}/{task.total}"), BarColumn(),
                            TextColumn("{task.description}"), TimeElapsedColumn(), TimeRemainingColumn(),
                            transient=False, console=Console(stderr=True))
        self.task = self.bar.add_task("compiling", total=epochs)
        self.bar.start()

    _LABELS = {"d_stsp": "D_stsp", "d_h": "D_H"}

    def on_epoch_end(self, epoch: int, rows: list[dict], alive: np.ndarray) -> None:
        losses = np.array([r["loss"] for r in rows], dtype=float)
        metric = self.columns[0]
        evaluated = [r for r in rows if np.isfinite(r.get(metric, np.nan))]
        if evaluated:  # the latest evaluation: of the last member evaluated in this epoch
            self.last = evaluated[-1]
        desc = f"loss {np.nanmedian(losses) if np.isfinite(losses).any() else np.nan:.4g}  α {rows[0]['alpha']:.3f}"
        if self.last:
            desc += "".join(f"  {self._LABELS.get(c, c)} {self.last[c]:.3f}" for c in self.columns if c in self.last)
        if not alive.all():
            desc += f"  diverged {int((~alive).sum())}/{len(alive)}"
        self.bar.update(self.task, completed=epoch + 1, description=desc)

    def on_train_end(self) -> None:
        if self.bar is not None:
            self.bar.stop()
