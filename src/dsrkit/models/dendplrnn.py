"""Dendritic PLRNN (dendPLRNN), clipped by default.

    clipped:  z_{t+1} = A z_t + W Σ_b α_b [relu(z_t − H_b) − relu(z_t)] + h
    plain:    z_{t+1} = A z_t + W Σ_b α_b relu(z_t − H_b) + h

A diagonal (M,), W off-diagonal (M, M), h (M,), α (B,), H (M, B) (column b is the threshold vector H_b).
The clipped form keeps orbits bounded when ‖A‖ < 1. A linear subregion is named by which ReLU arguments are
positive: the M·B bits [z_m > H_mb] (row-major over (m, b)), followed, when clipped, by the M bits [z_m > 0];
so n_switch = M·B (plain) or M·(B + 1) (clipped).

Reference: Brenner, Hess, Mikhaeil, Bereska, Monfared, Kuo, Durstewitz (2022), "Tractable Dendritic RNNs for
Reconstructing Nonlinear Dynamical Systems", ICML. Initialisation as in the published code
(DurstewitzLab/dendPLRNN; GTF-shPLRNN src/models/dendritic_plrnn.jl): A, W from (RᵀR/M + I)/λ_max, h = 0,
α ~ U(±1/√B), H ~ N(0, 1).
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
    offdiag,
)
from .observation import uniform_init


class DendPLRNN(PiecewiseLinearRNN):
    """dendPLRNN with M latent units and B bases per unit.

    Args:
        obs_dim: N; latent_dim: M >= N; n_bases: B >= 1; key: JAX random key (required);
        clipped: True (default) for the bounded clipped form; observation: "identity" or "affine";
        dtype: float32 (default) or float64.
    """

    equation = "z' = A ⊙ z + W Σ_b alpha_b relu(z − H[:, b]) + h  (W with zero diagonal)"
    description = "dendritic PLRNN (Brenner et al. 2022, ICML)"

    A: jax.Array
    W: jax.Array
    h: jax.Array
    alpha: jax.Array
    H: jax.Array
    n_bases: int = eqx.field(static=True)
    clipped: bool = eqx.field(static=True)

    def __init__(self, obs_dim: int, latent_dim: int, n_bases: int, *, key=None, clipped: bool = True,
                 observation: str = "identity", dtype=jnp.float32):
        n, m = check_dims(obs_dim, latent_dim)
        b = check_size("n_bases", n_bases)
        dtype = check_dtype(dtype)
        k_aw, k_al, k_h, k_o = jax.random.split(check_key(key), 4)
        self.obs_dim, self.latent_dim, self.n_bases, self.clipped = n, m, b, bool(clipped)
        aw = normalized_positive_definite(k_aw, m, dtype)
        self.A = jnp.diag(aw)
        self.W = offdiag(aw)
        self.h = jnp.zeros((m,), dtype)
        self.alpha = uniform_init(k_al, (b,), dtype)
        self.H = jax.random.normal(k_h, (m, b), dtype=dtype)
        self.obs = build_observation(observation, n, m, k_o, dtype)

    def step_equation(self) -> str:
        if self.clipped:
            return "z' = A ⊙ z + W Σ_b alpha_b [relu(z − H[:, b]) − relu(z)] + h  (W with zero diagonal)"
        return self.equation

    @property
    def n_switch(self) -> int:
        return self.latent_dim * (self.n_bases + int(self.clipped))

    @property
    def config(self) -> dict:
        return {"obs_dim": self.obs_dim, "latent_dim": self.latent_dim, "n_bases": self.n_bases,
                "clipped": self.clipped, "observation": self.observation, "dtype": str(self.dtype)}

    def _phi(self, z: jax.Array) -> jax.Array:
        basis = jax.nn.relu(z[:, None] - self.H)
        if self.clipped:
            basis = basis - jax.nn.relu(z)[:, None]
        return basis @ self.alpha

    def __call__(self, z: jax.Array) -> jax.Array:
        return self.A * z + offdiag(self.W) @ self._phi(z) + self.h

    def jacobian(self, z: jax.Array) -> jax.Array:
        return self.region_affine(self.region_code(z))[0]

    def region_code(self, z: jax.Array) -> jax.Array:
        code = (z[:, None] > self.H).reshape(-1)
        if self.clipped:
            code = jnp.concatenate([code, z > 0])
        return code.astype(jnp.int8)

    def region_affine(self, d: jax.Array) -> tuple[jax.Array, jax.Array]:
        m, b = self.latent_dim, self.n_bases
        d = jnp.asarray(d).astype(self.W.dtype)
        d_basis = d[: m * b].reshape(m, b)
        slope = d_basis @ self.alpha
        if self.clipped:
            slope = slope - d[m * b:] * jnp.sum(self.alpha)
        intercept = -(d_basis * self.H) @ self.alpha
        w = offdiag(self.W)
        return jnp.diag(self.A) + w * slope[None, :], w @ intercept + self.h
