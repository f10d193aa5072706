"""Abstract bases of dsrkit models: a model is a one-step map of a latent state.

Rollout, teacher forcing and training live in `dsrkit.training`; the model only knows one step.
Shapes: latent state z is (M,), observation x is (N,) with N <= M.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp


class AbstractModel(eqx.Module):
    """A latent one-step map z_{t+1} = F(z_t) with an observation model x_t = G(z_t)."""

    obs_dim: eqx.AbstractVar[int]
    latent_dim: eqx.AbstractVar[int]

    @abc.abstractmethod
    def __call__(self, z: jax.Array) -> jax.Array:
        """One step: (M,) -> (M,)."""

    @abc.abstractmethod
    def jacobian(self, z: jax.Array) -> jax.Array:
        """Analytic Jacobian dF/dz at z: (M,) -> (M, M)."""

    @abc.abstractmethod
    def observe(self, z: jax.Array) -> jax.Array:
        """Observation model: (M,) -> (N,)."""

    @abc.abstractmethod
    def init_state(self, x: jax.Array) -> jax.Array:
        """Data-inferred latent state from one observation: (N,) -> (M,)."""

    def penalty(self) -> jax.Array:
        """Regulariser R(model) that training weights by `regularization` (a scalar).

        Default: the L2 norm squared of every weight matrix (parameters with ndim == 2, the observation model's
        included), as the published L2 option. Models with a published regulariser of their own override it.
        """
        leaves = [x for x in jax.tree_util.tree_leaves(eqx.filter(self, eqx.is_inexact_array)) if x.ndim == 2]
        return sum(jnp.sum(x**2) for x in leaves)


class AbstractPiecewiseLinear(AbstractModel):
    """A model whose step is affine within each linear subregion.

    A subregion is named by a 0/1 code d of length `n_switch` (which ReLU arguments are positive); within it
    z' = J(d) z + c(d). PLRNN: the M latent units; AL-RNN: its last P units; shPLRNN: its H hidden units.
    """

    @property
    @abc.abstractmethod
    def n_switch(self) -> int:
        """Length of the subregion code."""

    @abc.abstractmethod
    def region_code(self, z: jax.Array) -> jax.Array:
        """Subregion code of z: (M,) -> (n_switch,) int8 in {0, 1}."""

    @abc.abstractmethod
    def region_affine(self, d: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The affine map of subregion d: returns J (M, M) and c (M,) with z' = J z + c there."""
