"""Free runs and n-step predictions of a model: the one place where models are iterated.

    generate(model, x0, n_steps, dtype=None)              -> (n_steps, N) free run (also `dsrkit.generate`)
    protocol_free_run(model, test, protocol=None)         -> (T, N) the evaluation protocol's compared free run
    rollout_lengths(t, rollout_factor=1.25, transient_fraction=0.25) -> (steps dropped, total steps)
    n_step_predictions(model, x0, n_steps)                -> (K, N) observation n steps after each start
    free_run_latent(model, z0, n_steps)                   -> (n_steps, M) latent free run in float64
    rollout_latent(model, z0, n_steps)                    -> (n_steps, M) traceable latent free run

Models are dsrkit latent models (one-step map `__call__(z)`, `init_state(x)`, `observe(z)`) or, for `generate`
and `protocol_free_run`, any object with a `generate(x0, n_steps)` method (the baselines' protocol).

The public functions run inside `dsrkit._precision.x64()`: a model runs in its parameters' dtype (or the one
asked for), float64 included, whatever JAX's global setting.

The evaluation protocol (Hess et al. 2023 ICML; Brenner et al. 2024 NeurIPS; docs/design.md): from the first
point of a test series of length T the model runs freely for round(1.25 T) steps; the first round(0.25 T) are
dropped as transient and the next T are compared with the test series. `protocol_free_run` is that free run for
every caller (evaluation, training's checkpoint selection, analysis, reports, the benchmark runner).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._checks import check_int
from ._precision import uses_x64
from .models._common import astype

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike

__all__ = [
    "ROLLOUT_FACTOR",
    "TRANSIENT_FRACTION",
    "SELF_RUN_STEPS",
    "SELF_RUN_TRANSIENT",
    "free_run_latent",
    "generate",
    "is_latent_model",
    "model_dtype",
    "n_step_predictions",
    "protocol_free_run",
    "rollout_latent",
    "rollout_lengths",
]

ROLLOUT_FACTOR = 1.25  # the protocol's free run has round(1.25 T) steps for a test series of T points ...
TRANSIENT_FRACTION = 0.25  # ... of which the first round(0.25 T) are dropped as transient
#: a free run with |x| above this (standardised units) counts as diverged (benchmark runs, validation scores)
DIVERGENCE_BOUND = 1e8

# The free run that stands in for data when a model is analysed without any (`dsr analyze RUN` without --data,
# `dsrkit.pipeline.analyze_run`): from the zero observation, SELF_RUN_TRANSIENT steps dropped, the next
# SELF_RUN_STEPS kept. It is not the evaluation protocol: there is no test series to start from or compare with.
SELF_RUN_STEPS = 10_000
SELF_RUN_TRANSIENT = 2_000


def is_latent_model(obj) -> bool:
    """True for objects with the one-step model interface: __call__(z), init_state(x), observe(z)."""
    return callable(obj) and all(hasattr(obj, a) for a in ("init_state", "observe"))


def model_dtype(model) -> jnp.dtype:
    """Floating dtype of the model's parameters (float64 when it has none)."""
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))
    return leaves[0].dtype if leaves else jnp.dtype(jnp.float64)


# ------------------------------------------------------------------------------------------------ free runs


def _scan(model, z0: jax.Array, n_steps: int, observe: bool) -> jax.Array:
    """z0, F(z0), …, F^{n−1}(z0) as latent states (n_steps, M) or, with `observe`, their observations (n_steps, N).

    The one free-run loop of dsrkit (a lax.scan); everything else calls it."""
    emit = model.observe if observe else (lambda z: z)

    def step(z, _):
        z_next = model(z)
        return z_next, emit(z_next)

    _, ys = jax.lax.scan(step, z0, None, length=n_steps - 1)
    return jnp.concatenate([emit(z0)[None], ys], axis=0)


@eqx.filter_jit
def _free_run(model, start: jax.Array, n_steps: int, from_observation: bool, observe: bool) -> jax.Array:
    """Compiled `_scan`; `start` is an observation (z0 = init_state(start)) or, if not `from_observation`, z0."""
    z0 = model.init_state(start) if from_observation else start
    return _scan(model, z0, n_steps, observe)


def rollout_latent(model, z0: jax.Array, n_steps: int) -> jax.Array:
    """Latent trajectory z0, F(z0), …: (n_steps, M) (jit-compatible, not compiled on its own)."""
    return _scan(model, z0, n_steps, False)


@uses_x64
def free_run_latent(model, z0, n_steps: int) -> np.ndarray:
    """Latent free run z0, F(z0), ..., F^{n-1}(z0) of a model in float64: (n_steps, M). May contain inf/NaN."""
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    z0 = jnp.asarray(z0, jnp.float64)
    with np.errstate(all="ignore"):
        return np.asarray(_free_run(astype(model, np.float64), z0, int(n_steps), False, False))


@uses_x64
def generate(model: eqx.Module, x0: ArrayLike, n_steps: int, dtype: DTypeLike | None = None) -> np.ndarray:
    """Free-running trajectory of `model` started from the observation `x0`.

    Args:
        model: a dsrkit model (one-step map with `init_state` and `observe`); a single model, not a seed stack
            (a k-seed `TrainResult.model` is a list: pass one of its members). Any other object with a
            `generate(x0, n_steps)` method (a baseline) is run by that method.
        x0: (N,) initial observation; z0 = model.init_state(x0).
        n_steps: number of rows returned (>= 1).
        dtype: dtype to run in (float32 or float64); default the model's parameter dtype. float64 casts a copy of
            the parameters. For an object with its own `generate`, the dtype its result is cast to (default: as
            returned).

    Returns:
        np.ndarray (n_steps, N); the first row is observe(z0). A diverging model yields inf/NaN rows, not an error.
    """
    check_int("n_steps", n_steps)
    if not is_latent_model(model):
        if hasattr(model, "generate"):
            return np.asarray(model.generate(np.asarray(x0), n_steps), dtype=dtype)
        raise TypeError(
            f"cannot roll out a {type(model).__name__}: expected a dsrkit model (init_state/__call__/observe) "
            "or an object with a generate(x0, n_steps) method"
        )
    x0 = np.asarray(x0)
    if x0.shape != (model.obs_dim,):
        raise ValueError(f"x0 must have shape ({model.obs_dim},) for this model, got {x0.shape}")
    if dtype is not None:
        model = astype(model, dtype)
    run_dtype = model.dtype if hasattr(model, "dtype") else jnp.float32
    return np.asarray(_free_run(model, jnp.asarray(x0, run_dtype), int(n_steps), True, True))


# ------------------------------------------------------------------------------------------ the protocol's run


def rollout_lengths(t: int, rollout_factor: float = ROLLOUT_FACTOR,
                    transient_fraction: float = TRANSIENT_FRACTION) -> tuple[int, int]:
    """(steps dropped as transient, total free-run steps) for a test series of t points:
    (round(transient_fraction · t), max(round(rollout_factor · t), that + t)); (round(t/4), t + round(t/4)) by
    default. Python's round (halves to even), so t = 6 drops 2 and t = 1003 drops 251."""
    t = check_int("t", t, 1)
    for name, v in (("rollout_factor", rollout_factor), ("transient_fraction", transient_fraction)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    n_drop = int(round(transient_fraction * t))
    return n_drop, max(int(round(rollout_factor * t)), n_drop + t)


def _factors(protocol) -> tuple[float, float]:
    if protocol is None:
        return ROLLOUT_FACTOR, TRANSIENT_FRACTION
    if hasattr(protocol, "rollout_factor") and hasattr(protocol, "transient_fraction"):
        return protocol.rollout_factor, protocol.transient_fraction
    if isinstance(protocol, (tuple, list)) and len(protocol) == 2:
        return protocol[0], protocol[1]
    raise TypeError("protocol must be None (the defaults), a dsrkit.evaluation.Protocol or a pair "
                    f"(rollout_factor, transient_fraction), got {protocol!r}")


@uses_x64
def protocol_free_run(model, test, protocol=None, *, dtype=None, latent: bool = False,
                      with_transient: bool = False) -> np.ndarray:
    """The evaluation protocol's free run against a test series: (T, N) float64, compared row by row with `test`.

    From z0 = init_state(test[0]) the model runs freely for n_total steps and the first n_drop are dropped, with
    (n_drop, n_total) = `rollout_lengths(T, rollout_factor, transient_fraction)`: 1.25 T steps, 0.25 T dropped
    by default.

    Args:
        model: a dsrkit model or any object with `generate(x0, n_steps)` (see `generate`).
        test: the test series (T, N); only its first point and its length are used.
        protocol: None (the defaults 1.25, 0.25), a `dsrkit.evaluation.Protocol` (its `rollout_factor` and
            `transient_fraction`) or a pair (rollout_factor, transient_fraction).
        dtype: dtype the model runs in (see `generate`); the result is float64 in any case.
        latent: return the latent states (T, M) instead of observations, computed in float64 (dsrkit models
            only; `dtype` must then be None or float64).
        with_transient: return the whole free run (n_total rows) instead of rows n_drop .. n_drop + T.

    Returns:
        np.ndarray float64; a diverging model yields inf/NaN rows, not an error.
    """
    test = np.asarray(test)
    if test.ndim != 2 or test.shape[0] < 1:
        raise ValueError(f"test must be a (T, N) array with T >= 1, got shape {test.shape}")
    t = test.shape[0]
    n_drop, n_total = rollout_lengths(t, *_factors(protocol))
    if latent:
        if dtype is not None and np.dtype(dtype) != np.float64:
            raise ValueError(f"the latent free run is computed in float64, got dtype={dtype!r}")
        if not is_latent_model(model):
            raise TypeError(f"latent=True needs a dsrkit model (init_state/__call__/observe), got {type(model).__name__}")
        z0 = np.asarray(astype(model, np.float64).init_state(np.asarray(test[0], np.float64)), np.float64)
        y = free_run_latent(model, z0, n_total)
    else:
        y = np.asarray(generate(model, test[0], n_total, dtype=dtype), dtype=np.float64)
        if y.shape != (n_total, test.shape[1]):
            raise ValueError(f"generate(x0, {n_total}) returned shape {y.shape}, expected {(n_total, test.shape[1])}")
    return y if with_transient else y[n_drop : n_drop + t]


# ------------------------------------------------------------------------------------- n-step predictions


@eqx.filter_jit
def _predict_chunk(model, x0: jax.Array, n_steps: int) -> jax.Array:
    def one(x):
        z = model.init_state(x)
        z = jax.lax.fori_loop(0, n_steps, lambda _, s: model(s), z)
        return model.observe(z)

    return jax.vmap(one)(x0)


@uses_x64
def n_step_predictions(model, x0: np.ndarray, n_steps: int, chunk: int = 32_768) -> np.ndarray:
    """Observation after `n_steps` model steps from the state inferred from each row of x0 (K, N) -> (K, N)."""
    dtype = model_dtype(model)
    out = [
        np.asarray(_predict_chunk(model, jnp.asarray(x0[s : s + chunk], dtype=dtype), n_steps), dtype=np.float64)
        for s in range(0, x0.shape[0], chunk)
    ]
    return np.concatenate(out, axis=0)
