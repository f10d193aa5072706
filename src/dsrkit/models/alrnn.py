"""Almost-linear RNN (AL-RNN).

    z_{t+1} = A z_t + W φ(z_t) + h,   φ(z) = [z_1, …, z_{M−P}, relu(z_{M−P+1}), …, relu(z_M)]

A diagonal (M,), W full (M, M), h (M,). Only the last P units are piecewise linear, so the model has 2^P linear
subregions, named by the sign pattern of those P units. With the identity observation the first N units are the
read-outs (keep N <= M − P so that the read-outs are linear units, as in the paper).

Reference: Brenner, Hemmer, Monfared, Durstewitz (2024), "Almost-Linear RNNs Yield Highly Interpretable Symbolic
Codes in Dynamical Systems Reconstruction", NeurIPS. Initialisation as in the published code
(DurstewitzLab/ALRNN-DSR, `initialize_A_W_h`): A = diag of (RᵀR/M + I)/λ_max, W ~ N(0, 0.01²), h = 0.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._common import (
    PiecewiseLinearRNN,
    build_observation,
    check_dims,
    check_dtype,
    check_key,
    check_size,
    normalized_positive_definite,
)


class ALRNN(PiecewiseLinearRNN):
    """AL-RNN with M latent units of which the last P (`relu_units`) are ReLU units.

    Args:
        obs_dim: N, observed dimension.
        latent_dim: M >= N.
        relu_units: P, 1 <= P <= M. docs/design.md reads the first N units out linearly, which needs N <= M - P;
            `training.build_model` and the baselines always choose M >= N + P. Smaller M is accepted on purpose
            (then some read-outs pass through the ReLU), e.g. for M = N models whose data stay in one subregion.
        key: JAX random key (required).
        observation: "identity" (default; x̂ = z[:N], z0 = [x0; L x0]) or "affine" (x̂ = B z + b).
        dtype: parameter dtype, float32 (default) or float64.

    Parameters: A (M,), W (M, M), h (M,), obs.
    """

    equation = "z' = A ⊙ z + W φ(z) + h,  φ(z) = z on the first M − P units, relu(z) on the last P"
    description = "almost-linear RNN (Brenner, Hemmer, Monfared & Durstewitz 2024, NeurIPS)"

    A: jax.Array
    W: jax.Array
    h: jax.Array
    relu_units: int = eqx.field(static=True)

    def __init__(self, obs_dim: int, latent_dim: int, relu_units: int, *, key=None, observation: str = "identity",
                 dtype=jnp.float32):
        n, m = check_dims(obs_dim, latent_dim)
        p = check_size("relu_units", relu_units)
        if p > m:
            raise ValueError(f"relu_units (P={p}) must be <= latent_dim (M={m})")
        dtype = check_dtype(dtype)
        k_a, k_w, k_o = jax.random.split(check_key(key), 3)
        self.obs_dim, self.latent_dim, self.relu_units = n, m, p
        self.A = jnp.diag(normalized_positive_definite(k_a, m, dtype))
        self.W = 0.01 * jax.random.normal(k_w, (m, m), dtype=dtype)
        self.h = jnp.zeros((m,), dtype)
        self.obs = build_observation(observation, n, m, k_o, dtype)

    @property
    def n_switch(self) -> int:
        return self.relu_units

    @property
    def config(self) -> dict:
        return {"obs_dim": self.obs_dim, "latent_dim": self.latent_dim, "relu_units": self.relu_units,
                "observation": self.observation, "dtype": str(self.dtype)}

    def _slope(self, d: jax.Array) -> jax.Array:
        """φ'(z) given the code d of the last P units: (M,) of 1s (linear units) and d."""
        ones = jnp.ones((self.latent_dim - self.relu_units,), self.W.dtype)
        return jnp.concatenate([ones, d.astype(self.W.dtype)])

    def __call__(self, z: jax.Array) -> jax.Array:
        # φ(z): linear units pass, ReLU units are zeroed where negative (threshold −inf vs 0).
        threshold = np.where(np.arange(self.latent_dim) < self.latent_dim - self.relu_units, -np.inf, 0.0)
        phi = jnp.where(z > threshold.astype(z.dtype), z, 0)
        return self.A * z + self.W @ phi + self.h

    def jacobian(self, z: jax.Array) -> jax.Array:
        return jnp.diag(self.A) + self.W * self._slope(self.region_code(z))[None, :]

    def region_code(self, z: jax.Array) -> jax.Array:
        return (z[self.latent_dim - self.relu_units:] > 0).astype(jnp.int8)

    def region_affine(self, d: jax.Array) -> tuple[jax.Array, jax.Array]:
        d = jnp.asarray(d)
        return jnp.diag(self.A) + self.W * self._slope(d)[None, :], self.h

    def penalty(self) -> jax.Array:
        """Σ|1 − A| + Σ|W| + Σ|h| (L1, as `regularize` in DurstewitzLab/ALRNN-DSR): it pulls the model towards the
        identity map, a line-attractor-like prior (cf. manifold attractor regularisation, Schmidt et al. 2021)."""
        return jnp.sum(jnp.abs(1 - self.A)) + jnp.sum(jnp.abs(self.W)) + jnp.sum(jnp.abs(self.h))
