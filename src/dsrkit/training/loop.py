"""The teacher-forcing training loop: `train`.

`train` is a thin Python loop over epochs around one compiled program (`epoch.run_epoch`, one call per epoch and
chunk of members); what it does around that program is given as parts that can be replaced:

    train(model, data, scheme=STF(16), config=TrainConfig(...),   # or the TrainConfig fields as keywords
          loss=ForcedMSE(),                  # loss(model, scheme, state, x_in, x_target) -> scalar
          selection=PUBLISHED_SELECTION,     # how checkpoints are scored and members ranked
          divergence=non_finite,             # (epoch, losses, finite, alive) -> members that go on
          callbacks=[...], progress=True)    # per-epoch hooks; progress adds a `ProgressBar`
      -> TrainResult (member-stacked, for any number of members)

A population: a list of models, `seeds=k`, or any per-member setting (a (k, 2) `lr`, a length-k `input_noise`,
`regularization` or `seed`, a scheme with k forcing strengths such as `STF(interval=[8, 16])`) trains k members
in one compiled program. Member i trains exactly as a single run of that member with its own settings would
(`init_members` gives the models of `seeds=k`; member i's data stream is seed + i for one seed s). The members
share the training data, or each has its own: `data` a list of k Datasets (e.g. the seeds of a benchmark task,
whose training trajectories differ), still one compiled program.

Protocol (published code: DurstewitzLab/ALRNN-DSR, GTF-shPLRNN; the batch itself in `epoch` and `loss`):
- RAdam (optax.radam), learning rate lr_e = lr0 · (lr1/lr0)^(e/(epochs−1)) in epoch e (exponential per-epoch
  decay from lr0 to lr1); optional global-norm gradient clipping; optional regularisation λ·model.penalty();
- every `eval_every` epochs (and after the last) each member is scored by the selection rule (published: its free
  run against the training data by D_stsp and D_H); the checkpoint with the lowest score is returned. "Epoch e"
  always means the parameters after epoch e's updates;
- divergence is checked after every epoch (evaluated or not): a member whose mean loss or parameters turn
  non-finite in epoch e keeps its parameters of epoch e − 1 and stops training (`diverged_epoch` = e); those last
  finite parameters are evaluated as the checkpoint of epoch e − 1 if that epoch was not evaluated (none when
  e = 0: the initialisation is never a checkpoint). A member without a finite evaluated checkpoint of trained
  parameters is "diverged".
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from .._precision import uses_x64
from .._status import Status
from ..rollout import protocol_free_run
from .callbacks import Callback, ProgressBar, Selection, non_finite
from .config import TrainConfig, check_train_settings
from .epoch import EpochSpec, Members, as_trajectories, member_tables, window_table
from .loss import ForcedMSE
from .result import MemberFit, TrainResult
from .schemes import STF, members as scheme_members, scheme_size

if TYPE_CHECKING:
    import equinox as eqx
    from numpy.typing import ArrayLike

    from ..data import Dataset
    from .schemes import GTF, AdaptiveGTF


def penalty(model) -> jax.Array:
    """The regulariser R(model) that `regularization` weights: `model.penalty()`."""
    return model.penalty()


def init_members(model, seeds: int, seed: int) -> list:
    """The k models trained by `train(..., seeds=k, seed=seed)`: the given model, then fresh initialisations
    of the same class and configuration with keys jax.random.fold_in(jax.random.key(seed), i), i = 1 … k−1.
    Member i is trained with the data/noise stream of `seed + i`, so it equals a single-seed run of
    `init_members(...)[i]` with `seed=seed + i`."""
    members = [model]
    for i in range(1, seeds):
        members.append(type(model)(**model.config, key=jax.random.fold_in(jax.random.key(seed), i)))
    return members


def _evaluate(model, true: np.ndarray, n_eval: int) -> tuple[float, float]:
    """The protocol's free run (`protocol_free_run`: from true[0], 1.25·n_eval steps, the first 0.25·n_eval
    dropped) compared with true[:n_eval]."""
    from ..metrics import power_spectrum_distance, state_space_divergence

    true = true[:n_eval]
    gen = protocol_free_run(model, true)
    if not np.all(np.isfinite(gen)):
        return math.nan, math.nan
    try:
        d_stsp = float(state_space_divergence(true, gen))
        d_h = float(power_spectrum_distance(true, gen))
    except (ValueError, FloatingPointError):
        return math.nan, math.nan
    return d_stsp, d_h


def _training_data_scores(model, true: np.ndarray) -> dict:
    d_stsp, d_h = _evaluate(model, true, len(true))
    return {"d_stsp": d_stsp, "d_h": d_h}


PUBLISHED_SELECTION = Selection(_training_data_scores, metric="d_stsp", columns=("d_stsp", "d_h"),
                                name="lowest D_stsp of the free run against the training data (published)")


def default_members_per_call(k: int) -> int:
    """All k members in one vmapped call, on every backend.

    Measured (2-core CPU, float32, T̃ = 200, batch 16, 8 members, medians of 10–16 alternating epochs per setting,
    load average 4–5): AL-RNN M=20 P=2 one member per call 8.4–11.7 ms per batch (all members), chunks of 4
    7.4–10.9 ms, one vmapped call 8.6–12.4 ms: equal within the noise of the shared machine; shPLRNN M=3 L=50
    one member per call 18.5–26.0 ms, chunks of 4 15.3–17.5 ms, one vmapped call 15.5–16.3 ms: vmap 1.2–1.6×
    faster. On a GPU (NVIDIA H200, BENCHMARKS.md) 8 vmapped AL-RNNs cost 1.06× one. A loop over members is
    therefore never the faster choice measured here; it remains available (members_per_call=1), and runs each
    member with the program of a single run."""
    return k


def _population(model, scheme, config: TrainConfig, n_data: int | None = None) -> tuple[list, int]:
    """The member models and k from the model list, `seeds`, the per-member settings, the scheme and the number of
    per-member datasets."""
    sizes = config.per_member_sizes()
    if n_data is not None:
        sizes["datasets"] = n_data
    if isinstance(model, (list, tuple)):
        if not model:
            raise ValueError("the list of models to train is empty")
        sizes["models"] = len(model)
    if scheme_size(scheme) is not None:
        sizes["scheme"] = scheme_size(scheme)
    if len(set(sizes.values())) > 1:
        said = ", ".join(f"seeds={v}" if n == "seeds" else f"{v} {n}" if n in ("models", "datasets") else f"{n} has {v}"
                         for n, v in sizes.items())
        raise ValueError(f"the population size is ambiguous: {said}")
    k = next(iter(sizes.values()), 1)
    if isinstance(model, (list, tuple)):
        models = list(model)
    else:
        seed0 = config.seed[0] if isinstance(config.seed, tuple) else config.seed
        models = init_members(model, k, seed0)
    template = models[0]
    for m in models[1:]:
        if type(m) is not type(template) or m.config != template.config:
            raise ValueError("all models trained together must share class and configuration")
    return models, k


@uses_x64
def train(model: eqx.Module | Sequence[eqx.Module], data: Dataset | ArrayLike | Sequence[ArrayLike],
          scheme: STF | GTF | AdaptiveGTF | str | None = None, config: TrainConfig | None = None, *,
          loss: Callable | None = None, selection: Selection | None = None, divergence: Callable | None = None,
          callbacks: Sequence[Callback] = (), progress: bool = True, **settings: Any) -> TrainResult:
    """Train a dsrkit model, or a population of them, by teacher forcing (see the module docstring).

    Args:
        model: a dsrkit model (e.g. `dsrkit.models.ALRNN(3, 20, 2, key=...)`), or a list of k models of identical
            structure (a population of k).
        data: dsrkit.Dataset, (T, N) / (B, T, N) array, or list of (T_i, N) arrays (usually standardised), shared
            by all members; or a list of k Datasets, member i's own (e.g. the seeds of a benchmark task, each with
            its own training trajectory): member i draws its windows from, and its selection scores against,
            dataset i only.
        scheme: STF(interval), GTF(alpha) or AdaptiveGTF(); default STF(16). Its forcing strength may be given
            per member.
        config: a `TrainConfig`; keyword settings (epochs=..., lr=..., seed=..., seeds=..., any `TrainConfig`
            field) override its fields. A setting given per member makes a population.
        loss: loss(model, scheme, state, x_in, x_target) -> scalar; default `ForcedMSE(unroll=config.unroll)`.
        selection: the model-selection rule (a `Selection`); default `PUBLISHED_SELECTION`.
        divergence: (epoch, losses, finite, alive) -> members that go on training; default `non_finite`.
        callbacks: `Callback`s called at the start, after each epoch and at the end.
        progress: show a rich progress bar.

    Returns:
        TrainResult (member-stacked; `fit.model`, `fit.status`, ... are the best member's, for one model its own).

    Raises:
        ValueError / TypeError: a setting out of range or not finite (NaN, inf), naming it; data that do not fit.

    Runs with JAX's 64-bit types on (`dsrkit._precision.x64`: this thread, the caller's setting restored on
    return): float64 models train in float64, and the windows are drawn with 64-bit random integers, so a run is
    the same whatever the caller's setting.
    """
    t_start = time.perf_counter()
    check_train_settings(settings)
    config = dataclasses.replace(config, **settings) if config is not None else TrainConfig(**settings)
    scheme = STF(16) if scheme is None else scheme
    if not all(hasattr(scheme, a) for a in ("init", "coefficients", "update", "alpha")):
        raise TypeError(f"scheme must be STF(...), GTF(...) or AdaptiveGTF(...), got {scheme!r}")
    selection = PUBLISHED_SELECTION if selection is None else selection
    if not isinstance(selection, Selection):
        raise TypeError(f"selection must be a dsrkit.training.Selection, got {selection!r}")
    divergence = non_finite if divergence is None else divergence
    loss = ForcedMSE(config.unroll) if loss is None else loss

    own = isinstance(data, (list, tuple)) and bool(data) and all(hasattr(d, "trajectories") for d in data)
    models, k = _population(model, scheme, config, len(data) if own else None)
    per_member = [as_trajectories(d, models[0].obs_dim) for d in (data if own else [data])]
    dtype = models[0].dtype
    if own:
        flat_np, starts_np, n_starts = member_tables(per_member, config.seq_len)
        n_starts = jax.numpy.asarray(n_starts)
    else:
        (flat_np, starts_np), n_starts = window_table(per_member[0], config.seq_len), None
    hyper = config.member_values(k)
    epochs = config.epochs
    eval_every = max(1, epochs // 10) if config.eval_every is None else config.eval_every
    trues = [t[0][:int(min(len(t[0]), config.eval_steps))] for t in per_member] * (1 if own else k)
    n_eval = len(trues[0]) if len({len(t) for t in trues}) == 1 else [len(t) for t in trues]
    spec = EpochSpec(config.seq_len, config.batch_size, config.batches_per_epoch, config.grad_clip,
                     noisy=bool(np.any(hyper["input_noise"] > 0)),
                     regularized=bool(np.any(hyper["regularization"] > 0)))
    per_call = config.members_per_call or default_members_per_call(k)
    pop = Members(models, scheme_members(scheme, k), hyper, hyper["seed"], min(per_call, k), loss=loss, spec=spec,
                  flat=jax.numpy.asarray(flat_np, dtype), starts=jax.numpy.asarray(starts_np), n_starts=n_starts)

    columns = tuple(selection.columns)
    alive = np.ones(k, bool)
    diverged_epoch: list = [None] * k
    best = [(math.inf, -1, {c: math.nan for c in columns}, models[i]) for i in range(k)]  # (score, epoch, metrics, model)

    def consider(i, epoch, metrics, candidate):
        score = float(metrics.get(selection.metric, math.nan))
        if np.isfinite(score) and score < best[i][0]:
            best[i] = (score, epoch, dict(metrics), candidate)

    def scored(candidate, i) -> dict:
        metrics = dict(selection.evaluate(candidate, trues[i]))
        return {c: float(metrics.get(c, math.nan)) for c in columns} | metrics

    hooks: list[Callback] = ([ProgressBar(columns)] if progress else []) + list(callbacks)
    history: list[dict] = []
    try:
        for h in hooks:
            h.on_train_start(epochs, k)
        for epoch in range(epochs):
            lr_e = pop.learning_rates(epoch, epochs)
            losses, finite = pop.run(lr_e)
            was_alive = alive
            ok = np.asarray(divergence(epoch, losses, finite, alive), bool) & alive  # checked at every epoch
            for i in np.flatnonzero(alive & ~ok):
                diverged_epoch[i] = epoch
            pop.accept(ok)  # members that diverged keep their last finite state (of epoch - 1) and stop training
            alive = ok
            evaluate = eval_every > 0 and ((epoch + 1) % eval_every == 0 or epoch == epochs - 1)
            rows = []
            for i in range(k):
                metrics = {c: math.nan for c in columns}
                if evaluate and alive[i]:  # the parameters after this epoch's updates
                    current = pop.model(i)
                    metrics = scored(current, i)
                    consider(i, epoch, metrics, current)
                elif diverged_epoch[i] == epoch and epoch > 0 and eval_every > 0:
                    # the member's parameters are those after epoch - 1: the last finite state, evaluated as that
                    # epoch's checkpoint unless it already was (epoch 0 leaves only the untrained initialisation)
                    prev = history[(epoch - 1) * k + i]
                    if math.isnan(prev[selection.metric]):
                        current = pop.model(i)
                        prev.update(scored(current, i))
                        consider(i, epoch - 1, prev, current)
                loss_i = float(losses[i]) if was_alive[i] else math.nan  # a stopped member's loss is not computed
                rows.append({"epoch": epoch, "member": i, "loss": loss_i, "alpha": float(pop.alpha[i]),
                             "lr": float(lr_e[i]), **metrics, "time_s": time.perf_counter() - t_start})
            history.extend(rows)
            stop = [h.on_epoch_end(epoch, rows, alive) for h in hooks]
            if not alive.any() or any(stop):
                break
    finally:
        for h in hooks:
            h.on_train_end()

    seconds = time.perf_counter() - t_start
    fits = []
    for i in range(k):
        score, b_epoch, metrics, m = best[i]
        if b_epoch < 0:
            score, metrics = math.nan, {c: math.nan for c in columns}
            # no evaluated checkpoint: the last finite parameters (after the last epoch when evaluation is off)
            m = pop.model(i)
            if eval_every == 0 and diverged_epoch[i] is None:
                b_epoch = history[-1]["epoch"]
        # "ok" needs a checkpoint of trained parameters (b_epoch >= 0) AND a finite free run of it: the whole run
        # of the evaluation protocol (the same program `_evaluate` compiled), transient included
        finite = b_epoch >= 0 and bool(np.all(np.isfinite(protocol_free_run(m, trues[i], with_transient=True))))
        status = Status.OK if finite else Status.DIVERGED
        fits.append(MemberFit(model=m, history=history[i::k], best_epoch=b_epoch,
                              status=status, best_metrics={c: metrics[c] for c in columns},
                              diverged_epoch=diverged_epoch[i], seconds=seconds, member=i, score=score,
                              selection=selection.name, final_model=pop.model(i)))
    record = {"scheme": repr(scheme), **config.to_dict(), "seeds": k, "eval_every": eval_every, "eval_steps": n_eval,
              "members_per_call": min(per_call, k), "loss": repr(loss), "selection": selection.name,
              "data": "per member" if own else "shared"}
    return TrainResult(members=tuple(fits), history=history, seconds=seconds, config=record,
                       selection=selection.name)
