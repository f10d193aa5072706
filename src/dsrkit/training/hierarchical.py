"""Training a hierarchical model on several series, and fitting the features of a new series (few-shot).

    fit = train_hierarchical(dataset, K=3, kind="alrnn", scheme=STF(16), epochs=..., ...)  -> HierarchicalFit
    fit.model.for_series(s)                   -> the ordinary model of series s
    new = fit_features(fit, series, ...)      -> FeatureFit: new.model (ordinary), new.features (K,)

Protocol (the published batch of `dsrkit.training.epoch`, extended by a series axis): windows of T̃ + 1 points are
drawn uniformly among all windows of all series, and each window carries the index of its series. A batch builds
the ordinary model of every window's series (`HierarchicalModel.stacked`: the features gathered by index, the
parameters projected) and vmaps the teacher-forced loss (`ForcedMSE`, the loss of `train`) over (model, window)
pairs: the series axis is a batch axis, with no Python loop over series, so the cost of an epoch grows with the
number of windows, not of series. Inputs get Gaussian `input_noise`, targets stay clean; RAdam with an exponential
per-epoch learning-rate decay (as `train`); STF, GTF or adaptive GTF (whose α* uses the Jacobians of each window's
own model, the maximum over the batch as in the published rule).

Model selection (the published rule of `train`, over series): every `eval_every` epochs the free run of each
series' model from that series' first training point (the protocol's run, `protocol_free_run`) is compared with
its training data by D_stsp; the checkpoint with the lowest median over series is returned.

Reference: Brenner, Weber, Koppe, Durstewitz (2025), ICLR (arXiv:2410.04814); see `dsrkit.models.hierarchical`.
"""

from __future__ import annotations

import dataclasses
import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int
from .._precision import uses_x64
from .._status import Status
from ..models import ALRNN, ShallowPLRNN
from ..models.hierarchical import HierarchicalModel
from ..rollout import protocol_free_run
from .config import learning_rates, lr_at
from .epoch import make_optimizer, window_table
from .loss import ForcedMSE
from .schemes import GTF, STF, AdaptiveGTF, jacobian_norm_bound

# ------------------------------------------------------------------------------------------------ data


def as_series(data) -> list[np.ndarray]:
    """A Dataset, a (S, T, N) array or a list of (T_s, N) arrays -> list of S float64 (T_s, N) arrays, each
    finite and of the same N (ValueError naming the series otherwise)."""
    trajs = list(data.trajectories) if hasattr(data, "trajectories") else (
        list(np.asarray(data)) if isinstance(data, np.ndarray) and np.ndim(data) == 3 else list(data))
    out = []
    for i, x in enumerate(trajs):
        x = np.asarray(x, np.float64)
        if x.ndim != 2:
            raise ValueError(f"series {i} has shape {x.shape}; expected (T, N)")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"series {i} contains NaN/inf at (time, dim) {np.argwhere(~np.isfinite(x))[:5].tolist()}")
        out.append(x)
    dims = sorted({x.shape[1] for x in out})
    if len(dims) > 1:
        listed = ", ".join(f"series {i}: N={x.shape[1]}" for i, x in enumerate(out))
        raise ValueError(f"all series must have the same number of variables N; got {listed}")
    return out


def series_windows(trajs: list[np.ndarray], seq_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat (ΣT, N), starts (W,), series (W,)): every window start and the series it belongs to."""
    short = [(i, len(x)) for i, x in enumerate(trajs) if len(x) <= seq_len]
    if short:
        listed = ", ".join(f"series {i} has {t}" for i, t in short)
        raise ValueError(f"every series needs more than seq_len + 1 = {seq_len + 1} points to give a training "
                         f"window; {listed}; lower seq_len")
    flat, starts = window_table(trajs, seq_len)
    series = np.concatenate([np.full(len(x) - seq_len, i, np.int32) for i, x in enumerate(trajs)])
    return flat, starts, series


# ------------------------------------------------------------------------------------------------ the epoch


@dataclasses.dataclass(frozen=True)
class Spec:
    """Compile-time settings of an epoch."""

    seq_len: int
    batch_size: int
    batches_per_epoch: int
    noisy: bool
    grad_clip: float | None = None
    unroll: int = 1


def _update_scheme(scheme, sstate, models, x_in, i):
    """The scheme's per-batch update; adaptive GTF takes 𝒩 as the maximum over windows of the geometric-mean
    Jacobian norm of each window's own model at its data-inferred states (`jacobian_norm_bound` per window)."""
    if not isinstance(scheme, AdaptiveGTF):
        return scheme.update(sstate, None, None, i)
    alpha = sstate["alpha"]

    def new_alpha(_):
        z_hat = jax.vmap(lambda m, x: jax.vmap(m.init_state)(x))(models, x_in)
        bound = jnp.max(jax.vmap(lambda m, z: jacobian_norm_bound(m, z[None]))(models, z_hat))
        a_star = jax.lax.stop_gradient(jnp.maximum(0.0, 1.0 - 1.0 / bound)).astype(alpha.dtype)
        return jnp.where(a_star > alpha, a_star, (1 - scheme.decay) * alpha + scheme.decay * a_star)

    return {"alpha": jax.lax.cond(i % scheme.update_every == 0, new_alpha, lambda _: alpha, None)}


def window_loss(models, scheme, sstate, x_in, x, unroll: int = 1):
    """Mean over windows of the teacher-forced MSE of each window under its own model: models stacked (B, ...),
    x_in, x (B, T̃ + 1, N)."""
    loss = ForcedMSE(unroll)
    per = jax.vmap(lambda m, xi, xt: loss(m, scheme, sstate, xi[None], xt[None]))(models, x_in, x)
    return jnp.mean(per)


@eqx.filter_jit
def _epoch(params, opt_state, sstate, key, lr, noise, flat, starts, series, *, static, scheme, spec, trainable):
    """One epoch: `spec.batches_per_epoch` RAdam steps. `trainable(params, static, index)` -> the stacked
    models of the windows' series, differentiable in `params`."""
    optimizer = make_optimizer(spec.grad_clip)

    def one_batch(carry, i):
        params, opt_state, sstate, key = carry
        key, k_idx, k_noise = jax.random.split(key, 3)
        j = jax.random.randint(k_idx, (spec.batch_size,), 0, starts.shape[0])
        x = jax.vmap(lambda s0: jax.lax.dynamic_slice(flat, (s0, jnp.zeros((), s0.dtype)),
                                                      (spec.seq_len + 1, flat.shape[1])))(starts[j])
        x_in = x + noise * jax.random.normal(k_noise, x.shape, x.dtype) if spec.noisy else x
        sstate = _update_scheme(scheme, sstate, trainable(params, static, series[j]), x_in, i)

        def objective(p):
            return window_loss(trainable(p, static, series[j]), scheme, sstate, x_in, x, spec.unroll)

        value, grads = jax.value_and_grad(objective)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = eqx.apply_updates(params, jax.tree_util.tree_map(lambda u: lr * u, updates))
        return (params, opt_state, sstate, key), value

    (params, opt_state, sstate, key), losses = jax.lax.scan(one_batch, (params, opt_state, sstate, key),
                                                            jnp.arange(spec.batches_per_epoch))
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(params)]))
    return params, opt_state, sstate, key, jnp.mean(losses), finite


def _family_models(params, static, index):
    return eqx.combine(params, static).stacked(index)


def _check_scheme(scheme):
    scheme = STF(16) if scheme is None else scheme
    if not isinstance(scheme, (STF, GTF, AdaptiveGTF)):
        raise TypeError(f"scheme must be STF(...), GTF(...) or AdaptiveGTF(...), got {scheme!r}")
    if any(np.ndim(x) for x in jax.tree_util.tree_leaves(scheme)):
        raise ValueError(f"{scheme!r}: hierarchical training takes one forcing strength, not one per member")
    return scheme


def _d_stsp(model, true: np.ndarray) -> float:
    from ..metrics import state_space_divergence

    gen = protocol_free_run(model, true)
    if not np.all(np.isfinite(gen)):
        return math.nan
    try:
        return float(state_space_divergence(true, gen))
    except (ValueError, FloatingPointError):
        return math.nan


def _check_settings(epochs, seq_len, batch_size, batches_per_epoch, lr, input_noise):
    for name, v in (("epochs", epochs), ("seq_len", seq_len), ("batch_size", batch_size),
                    ("batches_per_epoch", batches_per_epoch)):
        check_int(name, v, 1)
    if isinstance(learning_rates(lr)[0], tuple):
        raise ValueError(f"lr must be one (start, end) pair for the whole family, got {lr!r}")
    if not (np.isfinite(input_noise) and input_noise >= 0):
        raise ValueError(f"input_noise must be a finite number >= 0, got {input_noise!r}")


# ------------------------------------------------------------------------------------------------ results


@dataclasses.dataclass(frozen=True)
class HierarchicalFit:
    """What `train_hierarchical` returns.

    model: the selected `HierarchicalModel` checkpoint (the last finite parameters when none was evaluated).
    history: one row per epoch: epoch, loss, lr, alpha, d_stsp_median (NaN where not evaluated), time_s.
    best_epoch: epoch of the returned checkpoint (-1: none). status: "ok" when a finite checkpoint was selected
    and every series' free run is finite, else "diverged". d_stsp: (S,) training-data D_stsp of each series at
    the checkpoint. seconds: wall time. config: the settings (JSON-serialisable).
    """

    model: HierarchicalModel
    history: list
    best_epoch: int
    status: Status
    d_stsp: np.ndarray
    seconds: float
    config: dict


@dataclasses.dataclass(frozen=True)
class FeatureFit:
    """What `fit_features` returns: model (an ordinary model at the fitted features), features (K,),
    family (the hierarchical model with the new series appended as its last series, group parameters unchanged),
    d_stsp (of the new series' free run against it), history, seconds."""

    model: object
    features: np.ndarray
    family: HierarchicalModel
    d_stsp: float
    history: list
    seconds: float


# ------------------------------------------------------------------------------------------------ training


def build_family(kind: str, obs_dim: int, n_series: int, feature_dim: int, *, latent_dim: int = 20,
                 relu_units: int = 2, hidden_dim: int = 50, seed: int = 0) -> HierarchicalModel:
    """A fresh `HierarchicalModel` over an AL-RNN ("alrnn": M, P) or a shPLRNN ("shplrnn": M, L)."""
    key = jax.random.key(seed)
    if kind in ("alrnn", "ALRNN"):
        template = ALRNN(obs_dim, max(latent_dim, obs_dim + relu_units), relu_units, key=key)
    elif kind in ("shplrnn", "ShallowPLRNN"):
        template = ShallowPLRNN(obs_dim, max(latent_dim, obs_dim), hidden_dim, key=key)
    else:
        raise ValueError(f"kind must be 'alrnn' or 'shplrnn', got {kind!r}")
    return HierarchicalModel(template, n_series, feature_dim, key=jax.random.fold_in(key, 1))


def check_family_size(n_series: int, feature_dim) -> int:
    """K as an int: 1 <= K <= S, with S >= 2 series (ValueError naming what is wrong otherwise)."""
    if n_series < 2:
        raise ValueError(f"hierarchical training needs at least 2 series, got {n_series}; train a single model "
                         "with dsrkit.train instead")
    k = check_int("K (the feature dimension)", feature_dim, 1)
    if k > n_series:
        raise ValueError(f"the feature dimension K={k} is larger than the number of series S={n_series}: the "
                         f"features would not be determined by the data; choose K <= {n_series}")
    return k


@uses_x64
def train_hierarchical(data, *, model: HierarchicalModel | None = None, K: int | None = None, kind: str = "alrnn",
                       latent_dim: int = 20, relu_units: int = 2, hidden_dim: int = 50, scheme=None,
                       epochs: int = 200, seq_len: int = 200, batch_size: int = 16, batches_per_epoch: int = 50,
                       lr=(1e-3, 1e-5), input_noise: float = 0.05, eval_every: int | None = None,
                       eval_steps: int = 10_000, grad_clip: float | None = None, seed: int = 0,
                       progress: bool = False) -> HierarchicalFit:
    """Train a hierarchical model on S >= 2 series (see the module docstring).

    Args:
        data: a `dsrkit.Dataset` (series = its trajectories, usually standardised), an (S, T, N) array or a
            list of S (T_s, N) arrays; series index s = position.
        model: a `HierarchicalModel` with S series to start from; default a fresh one (`build_family(kind, N, S,
            K, latent_dim=..., relu_units=..., hidden_dim=..., seed=seed)`).
        K: feature dimension, 1 <= K <= S (default min(3, S) for a fresh model).
        scheme: STF(τ) (default STF(16)), GTF(α) or AdaptiveGTF().
        epochs, seq_len (T̃), batch_size, batches_per_epoch, lr (start, end), input_noise, grad_clip: as `train`.
        eval_every: epochs between checkpoint evaluations (default epochs // 10); eval_steps: points of each
            series compared (capped by its length).
        seed: data and noise stream (and the fresh model's initialisation).
        progress: print one line per evaluation.

    Returns:
        `HierarchicalFit`.

    Raises:
        ValueError/TypeError: fewer than 2 series, series of different N, K < 1 or K > S, a model whose S or N
        does not match the data, series shorter than one window, settings out of range.
    """
    t0 = time.perf_counter()
    trajs = as_series(data)
    n_series, n = len(trajs), trajs[0].shape[1]
    scheme = _check_scheme(scheme)
    _check_settings(epochs, seq_len, batch_size, batches_per_epoch, lr, input_noise)
    if model is None:
        k = check_family_size(n_series, min(3, n_series) if K is None else K)
        model = build_family(kind, n, n_series, k, latent_dim=latent_dim, relu_units=relu_units,
                             hidden_dim=hidden_dim, seed=seed)
    else:
        if not isinstance(model, HierarchicalModel):
            raise TypeError(f"model must be a HierarchicalModel, got {type(model).__name__}")
        check_family_size(n_series, model.feature_dim)
        if model.n_series != n_series or model.obs_dim != n:
            raise ValueError(f"the model has {model.n_series} series of N={model.obs_dim}; the data have "
                             f"{n_series} series of N={n}")
    flat, starts, series = series_windows(trajs, seq_len)
    dtype = model.dtype
    spec = Spec(seq_len, batch_size, batches_per_epoch, bool(input_noise > 0), grad_clip)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    opt_state = make_optimizer(grad_clip).init(params)
    sstate = scheme.init(dtype)
    key = jax.random.key(seed)
    flat_j, starts_j, series_j = jnp.asarray(flat, dtype), jnp.asarray(starts), jnp.asarray(series)
    eval_every = max(1, epochs // 10) if eval_every is None else check_int("eval_every", eval_every, 1)
    truths = [x[:min(len(x), eval_steps)] for x in trajs]

    best = (math.inf, -1, np.full(n_series, np.nan), model)
    history = []
    for epoch in range(epochs):
        lr_e = lr_at(epoch, epochs, lr)
        out = _epoch(params, opt_state, sstate, key, jnp.asarray(lr_e, dtype), jnp.asarray(input_noise, dtype),
                     flat_j, starts_j, series_j, static=static, scheme=scheme, spec=spec, trainable=_family_models)
        loss, finite = float(out[4]), bool(out[5])
        if not (finite and np.isfinite(loss)):
            history.append({"epoch": epoch, "loss": loss, "lr": lr_e, "alpha": float(scheme.alpha(sstate)),
                            "d_stsp_median": math.nan, "time_s": time.perf_counter() - t0})
            break
        params, opt_state, sstate, key = out[:4]
        row = {"epoch": epoch, "loss": loss, "lr": lr_e, "alpha": float(scheme.alpha(sstate)),
               "d_stsp_median": math.nan}
        if (epoch + 1) % eval_every == 0 or epoch == epochs - 1:
            current = eqx.combine(params, static)
            scores = np.array([_d_stsp(current.for_series(s), truths[s]) for s in range(n_series)])
            median = float(np.median(scores)) if np.all(np.isfinite(scores)) else math.nan
            row["d_stsp_median"] = median
            if np.isfinite(median) and median < best[0]:
                best = (median, epoch, scores, current)
            if progress:
                print(f"epoch {epoch + 1}/{epochs}  loss {loss:.4g}  median D_stsp {median:.3f}", flush=True)
        row["time_s"] = time.perf_counter() - t0
        history.append(row)

    _, best_epoch, scores, chosen = best
    if best_epoch < 0:
        chosen = eqx.combine(params, static)
    ok = best_epoch >= 0 and all(np.all(np.isfinite(protocol_free_run(chosen.for_series(s), truths[s],
                                                                       with_transient=True)))
                                 for s in range(n_series))
    config = {"kind": chosen.base, "model": chosen.config, "scheme": scheme_record(scheme), "epochs": epochs,
              "seq_len": seq_len, "batch_size": batch_size, "batches_per_epoch": batches_per_epoch,
              "lr": list(lr), "input_noise": input_noise, "eval_every": eval_every, "eval_steps": eval_steps,
              "grad_clip": grad_clip, "seed": seed,
              "selection": "lowest median over series of the training-data D_stsp (published rule per series)"}
    return HierarchicalFit(model=chosen, history=history, best_epoch=best_epoch,
                           status=Status.OK if ok else Status.DIVERGED, d_stsp=scores,
                           seconds=time.perf_counter() - t0, config=config)


# ------------------------------------------------------------------------------------------------ few-shot


def _feature_models(features, family, index):
    """The model at the trainable feature vector (K,), once per window (the family is frozen: no gradient)."""
    return _broadcast(family.at(features), index.shape[0])


@uses_x64
def fit_features(model, series, *, epochs: int = 100, seq_len: int | None = None, scheme=None,
                 batch_size: int = 16, batches_per_epoch: int = 20, lr=(1e-2, 1e-3), input_noise: float = 0.05,
                 eval_every: int | None = None, seed: int = 0) -> FeatureFit:
    """Fit only the feature vector of a new series, the group-level parameters frozen (few-shot).

    Args:
        model: a trained `HierarchicalModel`, or a `HierarchicalFit` (then seq_len and scheme default to those of
            its training).
        series: the new series (T, N) (in the units the model was trained in, e.g. standardised alike).
        epochs, batch_size, batches_per_epoch, lr (start, end), input_noise, seed: as `train_hierarchical`;
        seq_len: training window T̃ (default the training's, else 200); scheme: default the training's, else STF(16).
        eval_every: epochs between checks of the free run against the series (default epochs // 5).

    Start: among the training series' feature vectors the one whose model has the lowest teacher-forced loss on
    windows of the new series; then RAdam on l alone. The returned features are the checkpoint whose free run
    has the lowest D_stsp against the series (the published selection rule).

    Returns:
        `FeatureFit` (an ordinary model, its features, the family with the new series appended).

    Raises:
        ValueError: a series of another N than the model's, non-finite values, or shorter than one window
            (seq_len + 1 points).
    """
    t0 = time.perf_counter()
    trained = None
    if isinstance(model, HierarchicalFit):
        trained, model = model.config, model.model
    if not isinstance(model, HierarchicalModel):
        raise TypeError(f"model must be a HierarchicalModel or a HierarchicalFit, got {type(model).__name__}")
    x = np.asarray(series, np.float64)
    if x.ndim != 2 or x.shape[1] != model.obs_dim:
        raise ValueError(f"the new series has shape {x.shape}; expected (T, {model.obs_dim}) like the model's series")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"the new series contains NaN/inf at (time, dim) {np.argwhere(~np.isfinite(x))[:5].tolist()}")
    seq_len = int((trained or {}).get("seq_len", 200)) if seq_len is None else check_int("seq_len", seq_len, 1)
    if len(x) <= seq_len:
        raise ValueError(f"the new series has {len(x)} points, shorter than one training window of seq_len + 1 = "
                         f"{seq_len + 1}; give a longer series or a smaller seq_len")
    if scheme is None and trained is not None:
        scheme = scheme_from_record(trained.get("scheme"))
    scheme = _check_scheme(scheme)
    _check_settings(epochs, seq_len, batch_size, batches_per_epoch, lr, input_noise)
    eval_every = max(1, epochs // 5) if eval_every is None else check_int("eval_every", eval_every, 1)
    dtype = model.dtype
    flat, starts, index = series_windows([x], seq_len)
    flat_j, starts_j, index_j = jnp.asarray(flat, dtype), jnp.asarray(starts), jnp.asarray(index)
    params = l0 = _start_features(model, scheme, flat, starts, seq_len, dtype, seed)  # only l is trained
    spec = Spec(seq_len, batch_size, batches_per_epoch, bool(input_noise > 0))
    opt_state = make_optimizer(None).init(params)
    sstate, key = scheme.init(dtype), jax.random.key(seed)
    truth = x[:min(len(x), 10_000)]
    best = (_d_stsp(model.at(l0), truth), np.asarray(l0))
    history = [{"epoch": -1, "loss": math.nan, "d_stsp": best[0]}]
    for epoch in range(epochs):
        out = _epoch(params, opt_state, sstate, key, jnp.asarray(lr_at(epoch, epochs, lr), dtype),
                     jnp.asarray(input_noise, dtype), flat_j, starts_j, index_j, static=model, scheme=scheme,
                     spec=spec, trainable=_feature_models)
        if not (bool(out[5]) and np.isfinite(float(out[4]))):
            break
        params, opt_state, sstate, key = out[:4]
        row = {"epoch": epoch, "loss": float(out[4]), "d_stsp": math.nan}
        if (epoch + 1) % eval_every == 0 or epoch == epochs - 1:
            row["d_stsp"] = _d_stsp(model.at(params), truth)
            if np.isfinite(row["d_stsp"]) and not row["d_stsp"] >= best[0]:
                best = (row["d_stsp"], np.asarray(params))
        history.append(row)
    d, l = best
    family = model.with_features(jnp.concatenate([model.features, jnp.asarray(l, dtype)[None]], axis=0))
    return FeatureFit(model=model.at(l), features=np.asarray(l, np.float64), family=family, d_stsp=float(d),
                      history=history, seconds=time.perf_counter() - t0)


def _start_features(model, scheme, flat, starts, seq_len, dtype, seed) -> jax.Array:
    """The training series' feature vector with the lowest teacher-forced loss on (up to 64) windows of the
    new series."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(starts, size=min(64, len(starts)), replace=False)
    x = jnp.asarray(np.stack([flat[s:s + seq_len + 1] for s in pick]), dtype)
    sstate = scheme.init(dtype)
    losses = [float(window_loss(_broadcast(model.for_series(s), len(pick)), scheme, sstate, x, x))
              for s in range(model.n_series)]
    losses = np.where(np.isfinite(losses), losses, np.inf)
    return model.features[int(np.argmin(losses))]


def _broadcast(model, b: int):
    return jax.tree_util.tree_map(lambda v: jnp.broadcast_to(v, (b,) + v.shape), model)


def scheme_record(scheme) -> dict:
    """The scheme as a JSON-serialisable dict (recorded in `HierarchicalFit.config` and run directories)."""
    if isinstance(scheme, STF):
        return {"name": "stf", "interval": int(scheme.interval)}
    if isinstance(scheme, GTF):
        return {"name": "gtf", "alpha": float(scheme.alpha0)}
    return {"name": "adaptive_gtf", "update_every": scheme.update_every, "decay": scheme.decay,
            "alpha_start": float(scheme.alpha_start)}


def scheme_from_record(record):
    """The scheme `scheme_record` describes (None for anything else)."""
    if not isinstance(record, dict):
        return None
    args = {k: v for k, v in record.items() if k != "name"}
    cls = {"stf": STF, "gtf": GTF, "adaptive_gtf": AdaptiveGTF}.get(record.get("name"))
    return None if cls is None else cls(**args)
