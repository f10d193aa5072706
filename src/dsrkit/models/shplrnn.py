"""Shallow PLRNN (shPLRNN).

    plain:    z_{t+1} = A z_t + W1 relu(W2 z_t + h2) + h1
    clipped:  z_{t+1} = A z_t + W1 [relu(W2 z_t + h2) − relu(W2 z_t)] + h1

A diagonal (M,), W1 (M, L), W2 (L, M), h1 (M,), h2 (L,). Its linear subregions are named by the hidden units:
d = [W2 z + h2 > 0] (L bits), followed, when clipped, by [W2 z > 0] (L more bits). Within region d
(plain) z' = (diag(A) + W1 diag(d) W2) z + W1 (d ⊙ h2) + h1.

Reference: Hess, Monfared, Brenner, Durstewitz (2023), "Generalized Teacher Forcing for Learning Chaotic
Dynamics", ICML. Initialisation as in the published code (DurstewitzLab/GTF-shPLRNN,
src/models/shallow_plrnn.jl): A = diag of (RᵀR/M + I)/λ_max, h1 = 0, W1 ~ U(±1/√L), W2 ~ U(±1/√M); h2 = 0
(plain) or U(±1/√L) (clipped: with h2 = 0 the clipped map would be exactly linear).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from ._common import (
    PiecewiseLinearRNN,
    build_observation,
    check_dims,
    check_dtype,
    check_key,
    check_size,
    normalized_positive_definite,
)
from .observation import uniform_init


class ShallowPLRNN(PiecewiseLinearRNN):
    """shPLRNN with M latent and L hidden units.

    Args:
        obs_dim: N; latent_dim: M >= N; hidden_dim: L >= 1; clipped: False (default) or True;
        key: JAX random key (required); observation: "identity" or "affine"; dtype: float32 (default) or float64.
    """

    equation = "z' = A ⊙ z + W1 relu(W2 z + h2) + h1"
    description = "shallow PLRNN (Hess, Monfared, Brenner & Durstewitz 2023, ICML)"

    A: jax.Array
    W1: jax.Array
    W2: jax.Array
    h1: jax.Array
    h2: jax.Array
    hidden_dim: int = eqx.field(static=True)
    clipped: bool = eqx.field(static=True)

    def __init__(self, obs_dim: int, latent_dim: int, hidden_dim: int, clipped: bool = False, *, key=None,
                 observation: str = "identity", dtype=jnp.float32):
        n, m = check_dims(obs_dim, latent_dim)
        hid = check_size("hidden_dim", hidden_dim)
        dtype = check_dtype(dtype)
        k_a, k_1, k_2, k_h, k_o = jax.random.split(check_key(key), 5)
        self.obs_dim, self.latent_dim, self.hidden_dim, self.clipped = n, m, hid, bool(clipped)
        self.A = jnp.diag(normalized_positive_definite(k_a, m, dtype))
        self.W1 = uniform_init(k_1, (m, hid), dtype)
        self.W2 = uniform_init(k_2, (hid, m), dtype)
        self.h1 = jnp.zeros((m,), dtype)
        self.h2 = uniform_init(k_h, (hid,), dtype) if clipped else jnp.zeros((hid,), dtype)
        self.obs = build_observation(observation, n, m, k_o, dtype)

    def step_equation(self) -> str:
        if self.clipped:
            return "z' = A ⊙ z + W1 [relu(W2 z + h2) − relu(W2 z)] + h1"
        return self.equation

    @property
    def n_switch(self) -> int:
        return self.hidden_dim * (1 + int(self.clipped))

    @property
    def config(self) -> dict:
        return {"obs_dim": self.obs_dim, "latent_dim": self.latent_dim, "hidden_dim": self.hidden_dim,
                "clipped": self.clipped, "observation": self.observation, "dtype": str(self.dtype)}

    def __call__(self, z: jax.Array) -> jax.Array:
        u = self.W2 @ z
        hidden = jax.nn.relu(u + self.h2)
        if self.clipped:
            hidden = hidden - jax.nn.relu(u)
        return self.A * z + self.W1 @ hidden + self.h1

    def jacobian(self, z: jax.Array) -> jax.Array:
        return self.region_affine(self.region_code(z))[0]

    def region_code(self, z: jax.Array) -> jax.Array:
        u = self.W2 @ z
        code = u + self.h2 > 0
        if self.clipped:
            code = jnp.concatenate([code, u > 0])
        return code.astype(jnp.int8)

    def region_affine(self, d: jax.Array) -> tuple[jax.Array, jax.Array]:
        hid = self.hidden_dim
        d = jnp.asarray(d).astype(self.W1.dtype)
        slope = d[:hid] - d[hid:] if self.clipped else d
        jac = jnp.diag(self.A) + (self.W1 * slope[None, :]) @ self.W2
        return jac, self.W1 @ (d[:hid] * self.h2) + self.h1
