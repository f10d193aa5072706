"""Observation models: how a latent state z (M,) is read out as an observation x (N,) and inferred back.

- `IdentityObservation`: x̂ = z[:N]; the data-inferred state is z = [x; L x] with a trainable L ((M−N, N)),
  as in the published PLRNN/AL-RNN code (Brenner et al. 2022, ICML; Hess et al. 2023, ICML; Brenner et al. 2024,
  NeurIPS). Teacher forcing acts on the first N units only (partial forcing).
- `AffineObservation`: x̂ = B z + b; the data-inferred state is the least-squares (minimum-norm) solution
  z = B⁺ (x − b), and teacher forcing acts on all M units.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._precision import uses_x64


def uniform_init(key: jax.Array, shape: tuple[int, ...], dtype) -> jax.Array:
    """U(−r, r) with r = 1/√shape[-1], the `uniform_init` of the published PLRNN code (GTF-shPLRNN,
    src/models/initialization.jl)."""
    r = 1.0 / jnp.sqrt(float(shape[-1]))
    return jax.random.uniform(key, shape, dtype=dtype, minval=-r, maxval=r)


class IdentityObservation(eqx.Module):
    """x̂ = z[:N]; z0 = [x0; L x0]. L: (M − N, N), initialised U(±1/√N)."""

    L: jax.Array
    obs_dim: int = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)

    @uses_x64  # dtype=float64 gives float64 whatever JAX's global setting
    def __init__(self, obs_dim: int, latent_dim: int, *, key: jax.Array, dtype=jnp.float32):
        self.obs_dim = obs_dim
        self.latent_dim = latent_dim
        self.L = uniform_init(key, (latent_dim - obs_dim, obs_dim), dtype)

    @property
    def n_forced(self) -> int:
        """Number of leading latent units replaced/interpolated by teacher forcing."""
        return self.obs_dim

    def observe(self, z: jax.Array) -> jax.Array:
        return z[: self.obs_dim]

    def init_state(self, x: jax.Array) -> jax.Array:
        return jnp.concatenate([x, self.L @ x])

    def forcing_signal(self, X: jax.Array) -> jax.Array:
        """Data-inferred values of the forced units for observations X (..., N): X itself."""
        return X


class AffineObservation(eqx.Module):
    """x̂ = B z + b with B (N, M) initialised U(±1/√M) and b = 0; inferred state z = B⁺ (x − b)."""

    B: jax.Array
    b: jax.Array
    obs_dim: int = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)

    @uses_x64  # dtype=float64 gives float64 whatever JAX's global setting
    def __init__(self, obs_dim: int, latent_dim: int, *, key: jax.Array, dtype=jnp.float32):
        self.obs_dim = obs_dim
        self.latent_dim = latent_dim
        self.B = uniform_init(key, (obs_dim, latent_dim), dtype)
        self.b = jnp.zeros((obs_dim,), dtype)

    @property
    def n_forced(self) -> int:
        return self.latent_dim

    def observe(self, z: jax.Array) -> jax.Array:
        return self.B @ z + self.b

    def init_state(self, x: jax.Array) -> jax.Array:
        return jnp.linalg.pinv(self.B) @ (x - self.b)

    def forcing_signal(self, X: jax.Array) -> jax.Array:
        """Data-inferred states B⁺(x − b) for observations X (..., N) -> (..., M)."""
        return (X - self.b) @ jnp.linalg.pinv(self.B).T


OBSERVATIONS = {"identity": IdentityObservation, "affine": AffineObservation}


def make_observation(kind: str, obs_dim: int, latent_dim: int, *, key: jax.Array, dtype):
    """Build the observation model named `kind` ("identity" or "affine")."""
    if kind not in OBSERVATIONS:
        raise ValueError(f"observation must be one of {sorted(OBSERVATIONS)}, got {kind!r}")
    return OBSERVATIONS[kind](obs_dim, latent_dim, key=key, dtype=dtype)
