"""Abstract bases of dsrkit models: a model is a one-step map of a latent state.

Rollout, teacher forcing and training live in `dsrkit.training`; the model only knows one step.
Shapes: latent state z is (M,), observation x is (N,) with N <= M.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def parameter_arrays(model) -> dict[str, np.ndarray]:
    """Every trainable array of a model by dotted name ("A", "W", "obs.L", ...), as NumPy arrays in the order of
    the model's fields. Shapes as stored (see each model's docstring)."""
    leaves, _ = jax.tree_util.tree_flatten_with_path(eqx.filter(model, eqx.is_inexact_array))
    out = {}
    for path, leaf in leaves:
        name = ".".join(str(getattr(k, "name", getattr(k, "key", getattr(k, "idx", k)))) for k in path)
        out[name] = np.asarray(leaf)
    return out


class AbstractModel(eqx.Module):
    """A latent one-step map z_{t+1} = F(z_t) with an observation model x_t = G(z_t)."""

    obs_dim: eqx.AbstractVar[int]
    latent_dim: eqx.AbstractVar[int]
    #: the one-step map in words (shown by `summary` and written by `dsrkit.export`)
    equation: ClassVar[str] = ""
    #: the model's name and its reference
    description: ClassVar[str] = ""

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

    def step_equation(self) -> str:
        """The one-step map of this model (its variant included) as a string."""
        return self.equation

    def summary(self) -> str:
        """A short human-readable description: class and reference, the step equation, latent and observed
        dimensions, the observation model, the hyperparameters that set its structure, and the parameters (count,
        names and shapes, dtype). E.g. `print(model.summary())`."""
        params = parameter_arrays(self)
        config = dict(getattr(self, "config", {}) or {})
        structure = {k: v for k, v in config.items() if k not in ("obs_dim", "latent_dim", "observation", "dtype")}
        observation = getattr(self, "observation", None)
        obs_text = {"identity": "identity (x̂ = z[:N], z0 = [x0; L x0])",
                    "affine": "affine (x̂ = B z + b, z0 = B⁺(x0 − b))"}.get(observation, str(observation))
        lines = [f"{type(self).__name__}" + (f": {self.description}" if self.description else "")]
        if self.step_equation():
            lines.append(f"  step:        {self.step_equation()}")
        lines.append(f"  latent M = {self.latent_dim}, observed N = {self.obs_dim}, observation {obs_text}")
        if structure:
            lines.append("  structure:   " + ", ".join(f"{k} = {v}" for k, v in structure.items()))
        n_switch = getattr(self, "n_switch", None)
        if isinstance(n_switch, int):
            lines.append(f"  linear subregions: 2^{n_switch} possible (code length {n_switch})")
        dtype = next((str(a.dtype) for a in params.values()), "none")
        listed = ", ".join(f"{k} {tuple(v.shape)}" for k, v in params.items())
        lines.append(f"  parameters:  {sum(int(v.size) for v in params.values())} {dtype} ({listed})")
        return "\n".join(lines)

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
