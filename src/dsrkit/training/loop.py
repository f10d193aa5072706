"""The teacher-forcing training loop: `train`.

One epoch (`batches_per_epoch` batches) is ONE compiled call: a `lax.scan` over batches, each batch a `lax.scan`
over time, vmapped over the batch; with `seeds=k` the whole epoch is additionally vmapped over k independent
models. Python only loops over epochs (learning-rate schedule, evaluation, checkpointing, progress bar).

Protocol (published code: DurstewitzLab/ALRNN-DSR, GTF-shPLRNN):
- windows of T̃ + 1 consecutive points, start drawn uniformly among all windows that fit inside one trajectory;
- z_0 = model.init_state(x̃_0); for k = 1 … T̃: z_k = F(z̃_{k−1}), loss term ‖observe(z_k) − x_k‖², then
  z̃_k = scheme.force(z_k, ẑ_k); the loss is the MSE over batch, time and dimensions of these predictions made
  BEFORE forcing; x̃ = x + noise·ε (ε ~ N(0, 1), fresh per batch) feeds z_0 and the forcing signals, the
  targets x_k stay clean;
- RAdam (optax.radam), learning rate lr_e = lr0 · (lr1/lr0)^(e/(epochs−1)) in epoch e (exponential per-epoch
  decay from lr0 to lr1); optional global-norm gradient clipping;
- optional regularisation λ·R(model) (see `penalty`);
- every `eval_every` epochs (and after the last) each model is rolled out freely and compared with the training
  data by D_stsp and D_H; the checkpoint with the lowest D_stsp is returned. "Epoch e" always means the
  parameters after epoch e's updates;
- divergence is checked after every epoch (evaluated or not): a member whose mean loss or parameters turn
  non-finite in epoch e keeps its parameters of epoch e − 1 and stops training (`diverged_epoch` = e); those last
  finite parameters are evaluated as the checkpoint of epoch e − 1 if that epoch was not evaluated (none when
  e = 0: the initialisation is never a checkpoint). A member without a finite evaluated checkpoint of trained
  parameters is "diverged".
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import check_int
from ..models.alrnn import ALRNN
from ..rollout import generate, protocol_free_run
from .schemes import STF

# ----------------------------------------------------------------------------------------------- data handling


def as_trajectories(data, obs_dim: int) -> list[np.ndarray]:
    """Accept a dsrkit.Dataset, a (T, N) or (B, T, N) array, or a list of (T_i, N) arrays -> list of float64."""
    if hasattr(data, "trajectories"):
        trajs = list(data.trajectories)
    elif isinstance(data, (list, tuple)):
        trajs = list(data)
    else:
        arr = np.asarray(data)
        if arr.ndim == 2:
            trajs = [arr]
        elif arr.ndim == 3:
            trajs = list(arr)
        else:
            raise ValueError(f"data must be (T, N), (B, T, N), a list of (T_i, N) arrays or a Dataset; got shape {arr.shape}")
    if not trajs:
        raise ValueError("data contains no trajectory")
    out = []
    for i, x in enumerate(trajs):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != obs_dim:
            raise ValueError(f"trajectory {i} has shape {x.shape}; expected (T, {obs_dim}) to match the model's obs_dim")
        bad = np.argwhere(~np.isfinite(x))
        if bad.size:
            raise ValueError(f"trajectory {i} contains NaN/inf at (time, dim) {bad[:5].tolist()}")
        out.append(x)
    return out


def window_table(trajs: list[np.ndarray], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate trajectories; return (flat (ΣT, N), starts) where starts lists every valid window start."""
    starts, offset = [], 0
    for x in trajs:
        n_win = len(x) - seq_len
        if n_win > 0:
            starts.append(offset + np.arange(n_win))
        offset += len(x)
    if not starts:
        raise ValueError(f"no trajectory is longer than seq_len + 1 = {seq_len + 1} points "
                         f"(lengths {[len(x) for x in trajs]}); lower seq_len")
    return np.concatenate(trajs, axis=0), np.concatenate(starts).astype(np.int32)


# ----------------------------------------------------------------------------------------------- loss


def penalty(model) -> jax.Array:
    """Regulariser R(model) used with weight `regularization`.

    AL-RNN: Σ|1 − A| + Σ|W| + Σ|h| (L1, as `regularize` in DurstewitzLab/ALRNN-DSR); it pulls the model
    towards the identity map, a line-attractor-like prior (cf. manifold attractor regularisation, Schmidt et al.
    2021, ICLR). Other models: L2 of every weight matrix (parameters with ndim == 2), as the published L2 option.
    """
    if isinstance(model, ALRNN):
        return jnp.sum(jnp.abs(1 - model.A)) + jnp.sum(jnp.abs(model.W)) + jnp.sum(jnp.abs(model.h))
    leaves = [x for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array)) if x.ndim == 2]
    return sum(jnp.sum(x**2) for x in leaves)


def window_predictions(model, scheme, sstate, x_in: jax.Array, unroll: int = 1) -> jax.Array:
    """Reference forced unroll of one window by plain autodiff: x_in (T̃+1, N) -> predictions observe(z_k)
    made before forcing, (T̃, N). `forced_unroll` computes the same states with a hand-written BPTT."""
    z_hat = model.obs.forcing_signal(x_in[1:])
    ks = jnp.arange(1, x_in.shape[0])

    def step(z, inp):
        zh, k = inp
        z_pred = model(z)
        return scheme.force(sstate, z_pred, zh, k), model.observe(z_pred)

    _, preds = jax.lax.scan(step, model.init_state(x_in[0]), (z_hat, ks), unroll=unroll)
    return preds


def forced_unroll(params, static, coeff: jax.Array, z0: jax.Array, u: jax.Array, unroll: int = 1) -> jax.Array:
    """Forced unroll of a batch, time-major: z_k = F(z̃_{k−1}), z̃_k = c_k ⊙ z_k + u_k, z̃_0 = z0.

    Args: params/static: the model split by `eqx.partition`; coeff (T, M) the forcing coefficients c_k;
    z0 (B, M); u (T, B, M) the forcing offsets d_k ⊙ [ẑ_k; 0] (see `scheme.coefficients`).
    Returns the pre-forcing states z_1 … z_T, (T, B, M).

    Differentiable in params, z0 and u through a custom VJP (backpropagation through time written out): the
    reverse scan carries only the state cotangent, μ_{k−1} = J_F(z̃_{k−1})ᵀ λ_k with λ_k = ḡ_k + c_k ⊙ μ_k, and
    the parameter gradient Σ_k (∂F/∂θ)ᵀ λ_k is taken afterwards in one batched VJP over all T·B states. Same
    gradients as autodiff of the scan (tested), several times faster on CPU because the per-step
    parameter-gradient accumulation leaves the loop.
    """

    def run(params, z0, u):
        step_fn = jax.vmap(eqx.combine(params, static))

        def step(z, inp):
            c, u_k = inp
            zp = step_fn(z)
            return c * zp + u_k, (z, zp)

        _, (z_in, z_pred) = jax.lax.scan(step, z0, (coeff, u), unroll=unroll)
        return z_in, z_pred

    @jax.custom_vjp
    def unroll_fn(params, z0, u):
        return run(params, z0, u)[1]

    def fwd(params, z0, u):
        z_in, z_pred = run(params, z0, u)
        return z_pred, (params, z_in)

    def bwd(res, g):
        params, z_in = res
        step_fn = jax.vmap(eqx.combine(params, static))

        def rstep(mu, inp):
            g_k, c, zi = inp
            lam = g_k + c * mu
            return jax.vjp(step_fn, zi)[1](lam)[0], (lam, mu)

        mu0, (lams, mus) = jax.lax.scan(rstep, jnp.zeros_like(z0), (g, coeff, z_in), reverse=True, unroll=unroll)
        flat_in = z_in.reshape(-1, z_in.shape[-1])
        _, param_vjp = jax.vjp(lambda p: jax.vmap(eqx.combine(p, static))(flat_in), params)
        (d_params,) = param_vjp(lams.reshape(flat_in.shape))
        return d_params, mu0, mus

    unroll_fn.defvjp(fwd, bwd)
    return unroll_fn(params, z0, u)


def batch_loss(model, scheme, sstate, x_in, x_target, reg: float, unroll: int = 1):
    """MSE of the pre-forcing predictions over a batch: x_in, x_target (B, T̃+1, N)."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    z0 = jax.vmap(model.init_state)(x_in[:, 0])
    z_hat = jnp.swapaxes(model.obs.forcing_signal(x_in[:, 1:]), 0, 1)             # (T, B, n)
    n_steps, n = z_hat.shape[0], z_hat.shape[-1]
    coeff, d = scheme.coefficients(sstate, n_steps, n, model.latent_dim, z0.dtype)
    pad = jnp.zeros(z_hat.shape[:2] + (model.latent_dim - n,), z_hat.dtype)
    u = d[:, None, :] * jnp.concatenate([z_hat, pad], axis=-1)
    z_pred = forced_unroll(params, static, coeff, z0, u, unroll)
    preds = jax.vmap(jax.vmap(model.observe))(z_pred)
    loss = jnp.mean((preds - jnp.swapaxes(x_target[:, 1:], 0, 1)) ** 2)
    if reg:
        loss = loss + reg * penalty(model)
    return loss


def reference_batch_loss(model, scheme, sstate, x_in, x_target, reg: float = 0.0):
    """`batch_loss` by plain autodiff through `window_predictions` (reference for tests)."""
    preds = jax.vmap(lambda x: window_predictions(model, scheme, sstate, x))(x_in)
    loss = jnp.mean((preds - x_target[:, 1:]) ** 2)
    if reg:
        loss = loss + reg * penalty(model)
    return loss


# ----------------------------------------------------------------------------------------------- compiled epoch


def make_epoch(static, scheme, optimizer, *, seq_len, batch_size, batches_per_epoch, noise, reg, unroll):
    """Build epoch(params, opt_state, sstate, key, lr, flat, starts) -> (params, opt_state, sstate, key, loss)."""

    def epoch(params, opt_state, sstate, key, lr, flat, starts):
        def one_batch(carry, i):
            params, opt_state, sstate, key = carry
            key, k_idx, k_noise = jax.random.split(key, 3)
            s = starts[jax.random.randint(k_idx, (batch_size,), 0, starts.shape[0])]
            x = jax.vmap(lambda s0: jax.lax.dynamic_slice(flat, (s0, jnp.zeros((), s0.dtype)), (seq_len + 1, flat.shape[1])))(s)
            x_in = x + noise * jax.random.normal(k_noise, x.shape, x.dtype) if noise else x
            model = eqx.combine(params, static)
            sstate = scheme.update(sstate, model, jax.vmap(jax.vmap(model.init_state))(x_in), i)

            def loss_fn(p):
                return batch_loss(eqx.combine(p, static), scheme, sstate, x_in, x, reg, unroll)

            loss, grads = jax.value_and_grad(loss_fn)(params)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            params = eqx.apply_updates(params, jax.tree_util.tree_map(lambda u: lr * u, updates))
            return (params, opt_state, sstate, key), loss

        (params, opt_state, sstate, key), losses = jax.lax.scan(
            one_batch, (params, opt_state, sstate, key), jnp.arange(batches_per_epoch))
        return params, opt_state, sstate, key, jnp.mean(losses)

    return epoch


def make_optimizer(grad_clip):
    """RAdam with unit learning rate (the per-epoch rate multiplies its updates), optionally after clipping."""
    optimizer = optax.radam(1.0)
    if grad_clip:
        optimizer = optax.chain(optax.clip_by_global_norm(float(grad_clip)), optimizer)
    return optimizer


_COMPILED: dict = {}


def compiled_epoch(static, scheme, grad_clip, seq_len, batch_size, batches_per_epoch, noise, reg, unroll, vmapped):
    """The jitted epoch for these settings, cached across `train` calls (jit itself caches per input shape)."""
    cache_key = (static, scheme, grad_clip, seq_len, batch_size, batches_per_epoch, noise, reg, unroll, vmapped)
    try:
        return _COMPILED[cache_key]
    except (KeyError, TypeError):
        pass
    epoch_fn = make_epoch(static, scheme, make_optimizer(grad_clip), seq_len=seq_len, batch_size=batch_size,
                          batches_per_epoch=batches_per_epoch, noise=noise, reg=reg, unroll=unroll)

    def wrapped(params, opt_state, sstate, key_data, lr, flat, starts):
        p, o, s, k, loss = epoch_fn(params, opt_state, sstate, jax.random.wrap_key_data(key_data), lr, flat, starts)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(p)]))
        return p, o, s, jax.random.key_data(k), loss, finite

    def single(params, opt_state, sstate, key_data, lr, flat, starts):
        squeeze = lambda t: jax.tree_util.tree_map(lambda x: x[0], t)  # noqa: E731
        out = wrapped(squeeze(params), squeeze(opt_state), squeeze(sstate), key_data[0], lr, flat, starts)
        return jax.tree_util.tree_map(lambda x: x[None], out)

    # Both take and return member-stacked state (leading axis k; k = 1 for `single`, squeezed inside the jit).
    fn = jax.jit(jax.vmap(wrapped, in_axes=(0, 0, 0, 0, None, None, None)) if vmapped else single)
    try:
        if len(_COMPILED) > 32:
            _COMPILED.clear()
        _COMPILED[cache_key] = fn
    except TypeError:
        pass
    return fn


# ----------------------------------------------------------------------------------------------- result


@dataclasses.dataclass
class TrainResult:
    """Outcome of `train`.

    Attributes:
        model: the best checkpoint (lowest D_stsp on the training data); with seeds > 1 a list of k models.
        history: list of flat dicts, one per (epoch, member): epoch, member, loss, alpha, lr, d_stsp, d_h
            (NaN where not evaluated), time_s; `csv.DictWriter(f, result.history[0].keys())` exports it.
        best_epoch: epoch e of the returned checkpoint, i.e. the parameters after epoch e's updates: the evaluated
            epoch with the lowest finite D_stsp, or with eval_every=0 the last epoch (list with seeds > 1). -1 when
            there is no such checkpoint (training diverged first, or no evaluation was finite); the model is then
            the member's last finite parameters (the initialisation if it diverged in epoch 0), not a result.
        status: "ok" or "diverged" (list with seeds > 1). "ok" exactly when best_epoch >= 0 and the returned
            model's free run (1.25 · eval_steps steps from the first data point) is finite; else "diverged".
        best_metrics: {"d_stsp", "d_h"} of the returned checkpoint, NaN when not evaluated (list with seeds > 1).
        diverged_epoch: first epoch whose mean loss or updated parameters were non-finite (that member stopped
            training there; its history rows after that epoch have NaN loss), else None.
        seconds: wall time.
    """

    model: Any
    history: list
    best_epoch: Any
    status: Any
    best_metrics: Any = None
    diverged_epoch: Any = None
    seconds: float = 0.0
    config: dict = dataclasses.field(default_factory=dict)


# ----------------------------------------------------------------------------------------------- helpers


def init_members(model, seeds: int, seed: int) -> list:
    """The k models trained by `train(..., seeds=k, seed=seed)`: the given model, then fresh initialisations
    of the same class and configuration with keys jax.random.fold_in(jax.random.key(seed), i), i = 1 … k−1.
    Member i is trained with the data/noise stream of `seed + i`, so it equals a single-seed run of
    `init_members(...)[i]` with `seed=seed + i`."""
    members = [model]
    for i in range(1, seeds):
        members.append(type(model)(**model.config, key=jax.random.fold_in(jax.random.key(seed), i)))
    return members


def _check_real(name: str, value, *, positive: bool = False, expected: str | None = None) -> float:
    """`value` as float when it is a finite real number >= 0 (> 0 with `positive`); TypeError for a non-number,
    ValueError (naming the argument and what is expected) otherwise."""
    expected = expected or f"a finite number {'> 0' if positive else '>= 0'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return v


def learning_rates(lr) -> tuple[float, float]:
    """(start, end) of `train`'s `lr` argument: one positive finite float (constant) or a pair of them."""
    expected = "a positive finite learning rate or a (start, end) pair of positive finite learning rates"
    if np.ndim(lr) == 0:
        pair = (lr, lr)
    else:
        pair = tuple(np.asarray(lr).tolist()) if np.ndim(lr) == 1 else ()
        if len(pair) != 2:
            raise ValueError(f"lr must be {expected}, got {lr!r}")
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"lr must be {expected}, got {lr!r}")
        if not (math.isfinite(float(v)) and float(v) > 0):
            raise ValueError(f"lr must be {expected}, got {lr!r}")
    return float(pair[0]), float(pair[1])


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


@jax.jit
def _select(keep, new, old):
    """Per member (leading axis): new where keep else old."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(keep.reshape((-1,) + (1,) * (a.ndim - 1)), a, b), new, old)


def _progress(enabled: bool):
    if not enabled:
        return None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn("epoch {task.completed}/{task.total}"), BarColumn(), TextColumn("{task.description}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), transient=False)


# ----------------------------------------------------------------------------------------------- train


def train(model, data, scheme=None, epochs: int = 100, seq_len: int = 200, batch_size: int = 16,
          batches_per_epoch: int = 50, lr=(1e-3, 1e-5), noise: float = 0.0, seeds: int = 1,
          eval_every: int | None = None, eval_steps: int = 10_000, seed: int = 0, progress: bool = True,
          regularization: float = 0.0, grad_clip: float | None = None, unroll: int = 1) -> TrainResult:
    """Train a dsrkit model by teacher forcing (see the module docstring for the exact protocol).

    Args:
        model: a dsrkit model (e.g. `dsrkit.models.ALRNN(3, 20, 2, key=...)`), or a list of k models of identical
            structure (then seeds = k).
        data: dsrkit.Dataset, (T, N) / (B, T, N) array, or list of (T_i, N) arrays (usually standardised).
        scheme: STF(interval), GTF(alpha) or AdaptiveGTF(); default STF(16).
        epochs: number of epochs; seq_len: T̃ (windows have T̃ + 1 points); batch_size: S;
        batches_per_epoch: batches per epoch (one compiled call per epoch);
        lr: (start, end) learning rates of the per-epoch exponential decay, or one float (constant); each
            positive and finite;
        noise: std of the Gaussian noise added to the inputs (z_0 and forcing signals), in data units (finite, >= 0);
        seeds: k independent models trained at once with jax.vmap (see `init_members`);
        eval_every: evaluate D_stsp/D_H every this many epochs (default max(1, epochs // 10)); 0 disables
            evaluation (then the last epoch's model is returned);
        eval_steps: length of the evaluation comparison (capped by the first trajectory's length);
        seed: seed of the window sampling and noise; progress: show a rich progress bar;
        regularization: weight λ >= 0 of `penalty(model)`; grad_clip: global-norm clipping threshold > 0 or None;
        unroll: `lax.scan` unroll factor of the time loop (speed only; results equal to float rounding).

    Returns:
        TrainResult (model, history, best_epoch, status, best_metrics, diverged_epoch, seconds, config); see
        `TrainResult` for what best_epoch, status and diverged_epoch mean when training diverges.

    Raises:
        ValueError / TypeError: a hyperparameter out of range or not finite (NaN, inf), naming the argument.
    """
    t_start = time.perf_counter()
    scheme = STF(16) if scheme is None else scheme
    if not all(hasattr(scheme, a) for a in ("init", "force", "update", "alpha")):
        raise TypeError(f"scheme must be STF(...), GTF(...) or AdaptiveGTF(...), got {scheme!r}")
    epochs = check_int("epochs", epochs)
    seq_len = check_int("seq_len", seq_len)
    batch_size = check_int("batch_size", batch_size)
    batches_per_epoch = check_int("batches_per_epoch", batches_per_epoch)
    unroll = check_int("unroll", unroll)
    lr0, lr1 = learning_rates(lr)
    noise = _check_real("noise", noise, expected="a finite number >= 0 (input-noise std in data units)")
    regularization = _check_real("regularization", regularization)
    if grad_clip is not None:
        grad_clip = _check_real("grad_clip", grad_clip, positive=True,
                                expected="None (no clipping) or a finite global-norm threshold > 0")
    if eval_every is not None:
        eval_every = check_int("eval_every", eval_every, minimum=0)
    eval_steps = check_int("eval_steps", eval_steps)

    if isinstance(model, (list, tuple)):
        members = list(model)
        if seeds not in (1, len(members)):
            raise ValueError(f"seeds={seeds} does not match the {len(members)} models given")
        seeds = len(members)
    else:
        seeds = check_int("seeds", seeds)
        members = init_members(model, seeds, seed)
    template = members[0]
    for m in members[1:]:
        if type(m) is not type(template) or m.config != template.config:
            raise ValueError("all models trained together must share class and configuration")
    dtype = template.dtype

    trajs = as_trajectories(data, template.obs_dim)
    flat_np, starts_np = window_table(trajs, seq_len)
    flat, starts = jnp.asarray(flat_np, dtype), jnp.asarray(starts_np)
    eval_every = max(1, epochs // 10) if eval_every is None else eval_every
    n_eval = int(min(len(trajs[0]), eval_steps))

    optimizer = make_optimizer(grad_clip)

    params_list = [eqx.filter(m, eqx.is_inexact_array) for m in members]
    static = eqx.filter(template, eqx.is_inexact_array, inverse=True)
    params = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *params_list)
    opt_state = jax.vmap(optimizer.init)(params)
    sstate = jax.vmap(lambda _: scheme.init(dtype))(jnp.arange(seeds))
    keys = jnp.stack([jax.random.key_data(jax.random.key(seed + i)) for i in range(seeds)])

    compiled = compiled_epoch(static, scheme, grad_clip, seq_len, batch_size, batches_per_epoch, float(noise),
                              float(regularization), unroll, seeds > 1)

    def run_epoch(p, o, s, k, lr):
        return compiled(p, o, s, k, lr, flat, starts)

    alive = np.ones(seeds, bool)
    diverged_epoch: list = [None] * seeds
    best = [(math.inf, -1, math.nan, members[i]) for i in range(seeds)]   # (d_stsp, epoch, d_h, model)
    history: list[dict] = []
    bar = _progress(progress)
    task = bar.add_task("compiling", total=epochs) if bar else None
    if bar:
        bar.start()
    try:
        for epoch in range(epochs):
            lr_e = lr0 * (lr1 / lr0) ** (epoch / max(epochs - 1, 1))
            new = run_epoch(params, opt_state, sstate, keys, jnp.asarray(lr_e, dtype))
            losses = np.asarray(new[4], dtype=np.float64).reshape(seeds)
            # divergence is checked at every epoch, from the loss and the updated parameters
            ok = alive & np.isfinite(losses) & np.asarray(new[5]).reshape(seeds)
            was_alive = alive
            for i in np.flatnonzero(alive & ~ok):
                diverged_epoch[i] = epoch
            if ok.all():
                params, opt_state, sstate = new[:3]
            else:  # members that diverged keep their last finite state (of epoch - 1) and stop training
                params, opt_state, sstate = _select(jnp.asarray(ok), new[:3], (params, opt_state, sstate))
            keys = new[3]
            alive = ok
            alphas = np.asarray(jax.vmap(scheme.alpha)(sstate), dtype=np.float64).reshape(seeds)
            evaluate = eval_every > 0 and ((epoch + 1) % eval_every == 0 or epoch == epochs - 1)
            rows = []
            for i in range(seeds):
                d_stsp = d_h = math.nan
                if evaluate and alive[i]:  # params[i] are the parameters after this epoch's updates
                    current = eqx.combine(jax.tree_util.tree_map(lambda x: x[i], params), static)
                    d_stsp, d_h = _evaluate(current, trajs[0][:n_eval], n_eval)
                    if np.isfinite(d_stsp) and d_stsp < best[i][0]:
                        best[i] = (d_stsp, epoch, d_h, current)
                elif diverged_epoch[i] == epoch and epoch > 0 and eval_every > 0:
                    # params[i] are the parameters after epoch - 1: the last finite state, evaluated as that
                    # epoch's checkpoint unless it already was (epoch 0 leaves only the untrained initialisation)
                    prev = history[(epoch - 1) * seeds + i]
                    if math.isnan(prev["d_stsp"]):
                        current = eqx.combine(jax.tree_util.tree_map(lambda x: x[i], params), static)
                        prev["d_stsp"], prev["d_h"] = _evaluate(current, trajs[0][:n_eval], n_eval)
                        if np.isfinite(prev["d_stsp"]) and prev["d_stsp"] < best[i][0]:
                            best[i] = (prev["d_stsp"], epoch - 1, prev["d_h"], current)
                loss = float(losses[i]) if was_alive[i] else math.nan  # a stopped member's loss is not computed
                rows.append({"epoch": epoch, "member": i, "loss": loss, "alpha": float(alphas[i]),
                             "lr": lr_e, "d_stsp": d_stsp, "d_h": d_h,
                             "time_s": time.perf_counter() - t_start})
            history.extend(rows)
            if bar:
                r = rows[0]
                last = next((h for h in reversed(history) if np.isfinite(h["d_stsp"])), None)
                desc = f"loss {np.nanmedian(losses):.4g}  α {r['alpha']:.3f}"
                if last:
                    desc += f"  D_stsp {last['d_stsp']:.3f}  D_H {last['d_h']:.3f}"
                if not alive.all():
                    desc += f"  diverged {int((~alive).sum())}/{seeds}"
                bar.update(task, completed=epoch + 1, description=desc)
            if not alive.any():
                break
    finally:
        if bar:
            bar.stop()

    models_out, best_epochs, statuses, metrics = [], [], [], []
    for i in range(seeds):
        d_stsp, b_epoch, d_h, m = best[i]
        if b_epoch < 0:
            d_stsp = d_h = math.nan
            # no evaluated checkpoint: the last finite parameters (after the last epoch when evaluation is off)
            m = eqx.combine(jax.tree_util.tree_map(lambda x: x[i], params), static)
            if eval_every == 0 and diverged_epoch[i] is None:
                b_epoch = epochs - 1
        finite = np.all(np.isfinite(generate(m, trajs[0][0], n_eval + n_eval // 4)))  # same length: compiled once
        # "ok" needs a checkpoint of trained parameters (b_epoch >= 0) AND a finite free run of it
        status = "ok" if finite and b_epoch >= 0 else "diverged"
        models_out.append(m)
        best_epochs.append(b_epoch)
        statuses.append(status)
        metrics.append({"d_stsp": d_stsp, "d_h": d_h})
    config = {"scheme": repr(scheme), "epochs": epochs, "seq_len": seq_len, "batch_size": batch_size,
              "batches_per_epoch": batches_per_epoch, "lr": [lr0, lr1], "noise": noise, "seeds": seeds,
              "eval_every": eval_every, "eval_steps": n_eval, "seed": seed, "regularization": regularization,
              "grad_clip": grad_clip}
    single = seeds == 1 and not isinstance(model, (list, tuple))
    pick = (lambda v: v[0]) if single else (lambda v: v)
    return TrainResult(model=pick(models_out), history=history, best_epoch=pick(best_epochs),
                       status=pick(statuses), best_metrics=pick(metrics), diverged_epoch=pick(diverged_epoch),
                       seconds=time.perf_counter() - t_start, config=config)
