"""Shared pieces of the PLRNN family: argument checks, published initialisers, the observation plumbing."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int
from .._precision import uses_x64, x64
from ._base import AbstractPiecewiseLinear
from .observation import IdentityObservation, make_observation


check_size = check_int  # integer hyperparameters of the models


def check_dims(obs_dim, latent_dim) -> tuple[int, int]:
    """Validate (N, M): both positive, M >= N."""
    n = check_size("obs_dim", obs_dim)
    m = check_size("latent_dim", latent_dim)
    if m < n:
        raise ValueError(f"latent_dim (M={m}) must be >= obs_dim (N={n}): the first N latent units are read out")
    return n, m


def check_dtype(dtype) -> jnp.dtype:
    """Only float32 and float64 parameters are supported."""
    dt = jnp.dtype(dtype)
    if dt not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def check_key(key) -> jax.Array:
    if key is None:
        raise TypeError("a JAX random key is required: pass key=jax.random.key(seed)")
    return key


def normalized_positive_definite(key: jax.Array, m: int, dtype) -> jax.Array:
    """(RᵀR/M + I) / λ_max with R ~ N(0, 1) (M, M): symmetric positive definite with spectral radius 1.

    Talathi & Vartak (2016), arXiv:1511.03771; used for A (and W) in the published PLRNN/AL-RNN code
    (DurstewitzLab/GTF-shPLRNN and ALRNN-DSR, `normalized_positive_definite`).
    """
    with x64():  # R is drawn in float64 for every parameter dtype (the same draws as the published code's)
        r = np.asarray(jax.random.normal(key, (m, m), dtype=jnp.float64))
    k = r.T @ r / m + np.eye(m)
    return jnp.asarray(k / np.max(np.abs(np.linalg.eigvalsh(k))), dtype=dtype)


def offdiag(w: jax.Array) -> jax.Array:
    return w * (1 - jnp.eye(w.shape[0], dtype=w.dtype))


class PiecewiseLinearRNN(AbstractPiecewiseLinear):
    """Common base of the dsrkit PLRNN family: holds the observation model `obs` and the hyperparameters.

    Subclasses define `__call__`, `jacobian`, `region_code`, `region_affine`, `n_switch` and `config`. Their
    constructors run inside `dsrkit._precision.x64()`, so `dtype=float64` gives float64 parameters whatever JAX's
    global setting (using such a model outside dsrkit's functions needs `with jax.enable_x64(True):`).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_dsrkit_x64", False):
            wrapped = uses_x64(init)
            wrapped._dsrkit_x64 = True
            cls.__init__ = wrapped

    obs: eqx.Module
    obs_dim: int = eqx.field(static=True)
    latent_dim: int = eqx.field(static=True)

    def observe(self, z: jax.Array) -> jax.Array:
        """x̂ = G(z): (M,) -> (N,)."""
        return self.obs.observe(z)

    def init_state(self, x: jax.Array) -> jax.Array:
        """Data-inferred state: identity observation [x; L x], affine B⁺(x − b). (N,) -> (M,)."""
        return self.obs.init_state(jnp.asarray(x, self.dtype))

    @property
    def n_forced(self) -> int:
        """Number of leading latent units that teacher forcing acts on (N for identity, M for affine)."""
        return self.obs.n_forced

    @property
    def observation(self) -> str:
        return "identity" if isinstance(self.obs, IdentityObservation) else "affine"

    @property
    def dtype(self) -> jnp.dtype:
        """Parameter dtype (of the diagonal A)."""
        return self.A.dtype

    @property
    def config(self) -> dict:
        """Constructor arguments (JSON-serialisable) that rebuild a model of this structure."""
        raise NotImplementedError


def build_observation(observation: str, n: int, m: int, key, dtype):
    return make_observation(observation, n, m, key=key, dtype=dtype)


@uses_x64
def astype(model: eqx.Module, dtype) -> eqx.Module:
    """Cast every floating parameter of `model` to `dtype` (float32 or float64).

    Outside a trace the cast goes through NumPy (a host copy), so no XLA program is compiled per parameter shape;
    inside `jax.jit` it is an ordinary traced cast. Runs inside `dsrkit._precision.x64()`, so float64 is float64."""
    dt = check_dtype(dtype)

    def cast(leaf):
        if not (eqx.is_array(leaf) and jnp.issubdtype(leaf.dtype, jnp.floating)):
            return leaf
        if isinstance(leaf, jax.core.Tracer):
            return leaf.astype(dt)
        return jnp.asarray(np.asarray(leaf, dtype=dt))

    return jax.tree_util.tree_map(cast, model)
