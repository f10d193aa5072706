"""Model stepping used by the metrics: n-step predictions of one-step latent models and free runs of generators."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def is_latent_model(obj) -> bool:
    """True for objects with the one-step model interface: __call__(z), init_state(x), observe(z)."""
    return callable(obj) and all(hasattr(obj, a) for a in ("init_state", "observe"))


def model_dtype(model) -> jnp.dtype:
    """Floating dtype of the model's parameters (float64 when it has none)."""
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))
    return leaves[0].dtype if leaves else jnp.dtype(jnp.float64)


@eqx.filter_jit
def _predict_chunk(model, x0: jax.Array, n_steps: int) -> jax.Array:
    def one(x):
        z = model.init_state(x)
        z = jax.lax.fori_loop(0, n_steps, lambda _, s: model(s), z)
        return model.observe(z)

    return jax.vmap(one)(x0)


def n_step_predictions(model, x0: np.ndarray, n_steps: int, chunk: int = 32_768) -> np.ndarray:
    """Observation after `n_steps` model steps from the state inferred from each row of x0 (K, N) -> (K, N)."""
    dtype = model_dtype(model)
    out = [
        np.asarray(_predict_chunk(model, jnp.asarray(x0[s : s + chunk], dtype=dtype), n_steps), dtype=np.float64)
        for s in range(0, x0.shape[0], chunk)
    ]
    return np.concatenate(out, axis=0)


def generate(model, x0, n_steps: int) -> np.ndarray:
    """Free run of any supported generator: (n_steps, N) float64 observations starting at x0.

    dsrkit models (the latent one-step interface) go through `dsrkit.training.generate` (a compiled scan that
    keeps only the observations); other objects must have a `generate(x0, n_steps)` method (the baselines'
    protocol).
    """
    if is_latent_model(model):
        from dsrkit.training import generate as training_generate

        return np.asarray(training_generate(model, np.asarray(x0), n_steps), dtype=np.float64)
    if hasattr(model, "generate"):
        return np.asarray(model.generate(np.asarray(x0), n_steps), dtype=np.float64)
    raise TypeError(
        f"cannot roll out a {type(model).__name__}: expected a dsrkit model (init_state/__call__/observe) "
        "or an object with a generate(x0, n_steps) method"
    )
