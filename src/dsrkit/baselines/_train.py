"""Window-based gradient training shared by the neural baselines (float32, Adam, gradient clipping).

The jitted training chunk is a module-level function whose loss and configuration are static, hashable arguments,
so refitting the same architecture on data of the same size reuses the compiled code.
"""

from __future__ import annotations

import math
import numbers

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import check_int


def make_sampler(trajectories: list[np.ndarray], length: int):
    """All trajectories concatenated as float32 and the start indices of every window of `length` rows that stays
    inside one trajectory, repeated cyclically to sum T_i entries so that the compiled training step depends on the
    total length only. Returns (data (sum T_i, N) jax array, starts (sum T_i,) int32 jax array)."""
    starts, offset = [], 0
    for x in trajectories:
        starts.append(offset + np.arange(0, len(x) - length + 1))
        offset += len(x)
    starts = np.resize(np.concatenate(starts), offset)
    data = jnp.asarray(np.concatenate(trajectories), dtype=jnp.float32)
    return data, jnp.asarray(starts, dtype=jnp.int32)


def _optimizer(learning_rate: float, steps: int):
    schedule = optax.exponential_decay(learning_rate, transition_steps=max(steps, 1), decay_rate=0.1)
    return optax.chain(optax.clip_by_global_norm(1.0), optax.adam(schedule))


@eqx.filter_jit
def _chunk(params, static, state, key, data, starts, *, loss_fn, cfg, length, batch_size, lr, steps, n):
    opt = _optimizer(lr, steps)
    offsets = jnp.arange(length)

    def body(carry, k):
        p, s = carry
        idx = jax.random.choice(k, starts, (batch_size,))
        batch = data[idx[:, None] + offsets]
        loss, grads = jax.value_and_grad(lambda q: loss_fn(eqx.combine(q, static), batch, cfg))(p)
        updates, s = opt.update(grads, s, p)
        return (optax.apply_updates(p, updates), s), loss

    (params, state), losses = jax.lax.scan(body, (params, state), jax.random.split(key, n))
    return params, state, losses


def fit_windows(model, loss_fn, cfg, trajectories, *, length: int, steps: int, batch_size: int,
                learning_rate: float, seed: int, check_every: int = 250):
    """Minimise `loss_fn(model, batch, cfg)` over random windows (batch (B, length, N) float32) with Adam.

    `loss_fn` must be a module-level function and `cfg` a hashable tuple (both are static for jit). The learning
    rate decays exponentially to 1/10 of its start over `steps`; gradients are clipped at global norm 1. Training
    stops at a non-finite loss and returns the last model checked as finite.
    Returns (model, mean loss of the last chunk, reason) with reason "" on success.
    Raises ValueError/TypeError for a learning rate that is not a finite number > 0 or non-positive-integer
    steps, batch_size, length or check_every (no step would be taken, yet the untrained model would look fitted).
    """
    for name, value in (("steps", steps), ("batch_size", batch_size), ("length", length), ("check_every", check_every)):
        check_int(name, value)
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise TypeError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    if not (math.isfinite(float(learning_rate)) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    data, starts = make_sampler(trajectories, length)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    state = _optimizer(learning_rate, steps).init(params)
    key = jax.random.key(seed)
    good, last_loss, done = params, float("nan"), 0
    while done < steps:
        n = min(check_every, steps - done)
        key, sub = jax.random.split(key)
        params, state, losses = _chunk(params, static, state, sub, data, starts, loss_fn=loss_fn, cfg=cfg,
                                       length=length, batch_size=batch_size, lr=float(learning_rate), steps=steps, n=n)
        losses = np.asarray(losses)
        finite = np.all(np.isfinite(losses)) and all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree_util.tree_leaves(params))
        if not finite:
            if not done:
                return eqx.combine(good, static), float("nan"), f"non-finite loss in the first {n} steps"
            return eqx.combine(good, static), last_loss, f"non-finite loss after {done + n} of {steps} steps; kept step {done}"
        good, last_loss, done = params, float(losses.mean()), done + n
    return eqx.combine(good, static), last_loss, ""
