"""Vanilla PLRNN.

    z_{t+1} = A z_t + W relu(z_t) + h,   A diagonal (M,), W off-diagonal (M, M), h (M,)

Its linear subregions are the 2^M sign patterns of the M latent units.

Reference: Durstewitz (2017), PLoS Comput Biol 13(6): e1005542; Koppe et al. (2019), PLoS Comput Biol.
Initialisation as in the published code (DurstewitzLab/GTF-shPLRNN, src/models/initialization.jl,
`initialize_A_W_h`): AW = (RᵀR/M + I)/λ_max (Talathi & Vartak 2016), A = diag(AW), W = offdiag(AW), h = 0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._common import (
    PiecewiseLinearRNN,
    build_observation,
    check_dims,
    check_dtype,
    check_key,
    normalized_positive_definite,
    offdiag,
)


class PLRNN(PiecewiseLinearRNN):
    """PLRNN with M latent units, all ReLU.

    Args:
        obs_dim: N; latent_dim: M >= N; key: JAX random key (required);
        observation: "identity" (default) or "affine"; dtype: float32 (default) or float64.

    Parameters: A (M,), W (M, M) (its diagonal is masked out in the step), h (M,), obs.
    """

    equation = "z' = A ⊙ z + W relu(z) + h  (W with zero diagonal)"
    description = "piecewise-linear RNN (Durstewitz 2017; Koppe et al. 2019, PLoS Comput Biol)"

    A: jax.Array
    W: jax.Array
    h: jax.Array

    def __init__(self, obs_dim: int, latent_dim: int, *, key=None, observation: str = "identity",
                 dtype=jnp.float32):
        n, m = check_dims(obs_dim, latent_dim)
        dtype = check_dtype(dtype)
        k_aw, k_o = jax.random.split(check_key(key))
        self.obs_dim, self.latent_dim = n, m
        aw = normalized_positive_definite(k_aw, m, dtype)
        self.A = jnp.diag(aw)
        self.W = offdiag(aw)
        self.h = jnp.zeros((m,), dtype)
        self.obs = build_observation(observation, n, m, k_o, dtype)

    @property
    def n_switch(self) -> int:
        return self.latent_dim

    @property
    def config(self) -> dict:
        return {"obs_dim": self.obs_dim, "latent_dim": self.latent_dim, "observation": self.observation,
                "dtype": str(self.dtype)}

    def __call__(self, z: jax.Array) -> jax.Array:
        return self.A * z + offdiag(self.W) @ jax.nn.relu(z) + self.h

    def jacobian(self, z: jax.Array) -> jax.Array:
        return self.region_affine(self.region_code(z))[0]

    def region_code(self, z: jax.Array) -> jax.Array:
        return (z > 0).astype(jnp.int8)

    def region_affine(self, d: jax.Array) -> tuple[jax.Array, jax.Array]:
        d = jnp.asarray(d).astype(self.W.dtype)
        return jnp.diag(self.A) + offdiag(self.W) * d[None, :], self.h
