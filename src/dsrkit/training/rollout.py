"""Free-running rollout of a one-step model: `generate`."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int
from ..models._common import astype


@eqx.filter_jit
def _rollout(model, x0: jax.Array, n_steps: int) -> jax.Array:
    """Observations of z0, F(z0), …, F^{n−1}(z0): (n_steps, N); compiled lax.scan."""

    def step(z, _):
        z_next = model(z)
        return z_next, model.observe(z_next)

    z0 = model.init_state(x0)
    _, xs = jax.lax.scan(step, z0, None, length=n_steps - 1)
    return jnp.concatenate([model.observe(z0)[None], xs], axis=0)


def rollout_latent(model, z0: jax.Array, n_steps: int) -> jax.Array:
    """Latent trajectory z0, F(z0), …: (n_steps, M) (jit-compatible, not compiled on its own)."""

    def step(z, _):
        z_next = model(z)
        return z_next, z_next

    _, zs = jax.lax.scan(step, z0, None, length=n_steps - 1)
    return jnp.concatenate([z0[None], zs], axis=0)


def generate(model, x0, n_steps: int, dtype=None) -> np.ndarray:
    """Free-running trajectory of `model` started from the observation `x0`.

    Args:
        model: a dsrkit model (one-step map with `init_state` and `observe`); a single model, not a seed stack
            (a k-seed `TrainResult.model` is a list: pass one of its members).
        x0: (N,) initial observation; z0 = model.init_state(x0).
        n_steps: number of rows returned (>= 1).
        dtype: dtype to run in (float32 or float64); default the model's parameter dtype. float64 casts a copy of
            the parameters.

    Returns:
        np.ndarray (n_steps, N); the first row is observe(z0). A diverging model yields inf/NaN rows, not an error.
    """
    check_int("n_steps", n_steps)
    x0 = np.asarray(x0)
    if x0.shape != (model.obs_dim,):
        raise ValueError(f"x0 must have shape ({model.obs_dim},) for this model, got {x0.shape}")
    if dtype is not None:
        model = astype(model, dtype)
    run_dtype = model.dtype if hasattr(model, "dtype") else jnp.float32
    return np.asarray(_rollout(model, jnp.asarray(x0, run_dtype), int(n_steps)))
