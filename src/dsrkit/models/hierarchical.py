"""Hierarchical PLRNN-family model: one family of models for S series, modulated by a feature vector per series.

For series s with feature vector l_s ∈ R^K, every parameter θ of the dynamics of an ordinary model (AL-RNN: A, W,
h; shPLRNN: A, W1, W2, h1, h2; PLRNN: A, W, h) is a learned linear function of l_s:

    θ_s = reshape(P_θ l_s) = Σ_k l_s[k] · P_θ[k]          P_θ: (K, *shape(θ)), stored as `projections[θ]`

and z_{t+1} = F_{θ_s}(z_t) is the ordinary model's step with those parameters (for the AL-RNN
z' = A_s z + W_s φ(z) + h_s). The projections P_θ and the observation model are group-level (shared by all
series); the features l_s (S, K) are series-level. `at(l)` returns an ordinary `ALRNN` / `ShallowPLRNN` / `PLRNN`
with the parameters θ(l), so generation, evaluation and analysis (fixed points, subregions) work unchanged;
`for_series(s)` is `at(features[s])`.

Construction: Brenner, Weber, Koppe, Durstewitz (2025), "Learning Interpretable Hierarchical Dynamical Systems
Models from Time Series Data", ICLR (arXiv:2410.04814; the hier-shPLRNN: every subject-level parameter is the
group-level projection of the subject's feature vector, θ_j = reshape(P_θ l_j), no bias). (The title is
sometimes cited with the author list of Brenner et al. 2022, ICML; the hierarchical paper is the 2025 one.)
Deviations, and why:
- The observation model (identity read-out with z0 = [x0; L x0], or the affine B, b) is group-level, not
  projected: the published model starts from z0 = 0 with the data forced in and has no L; dsrkit's models infer
  z0 with a trainable L, and sharing it keeps `at(l)` an ordinary dsrkit model of the same observation.
- Initialisation: P_θ[0] is the ordinary model's published initialisation of θ (`template`) and l_s[0] = 1, so
  every series starts from the initial model dsrkit trains well from; P_θ[k ≥ 1] are Xavier-uniform with gain 0.1
  and l_s[k ≥ 1] ~ U(±1/√K), as in the published code (small series-specific perturbations). The first feature is
  trained like the others; the construction stays purely linear (no bias).
- The paper's construction is given for the shPLRNN; the same projection is applied here to the AL-RNN and the
  PLRNN (their dynamics parameters A, W, h).

Shapes: features (S, K); projections[θ] (K, *shape(θ)); latent z (M,); observation x (N,).
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int
from .._precision import uses_x64
from .alrnn import ALRNN
from .plrnn import PLRNN
from .shplrnn import ShallowPLRNN

#: The dynamics parameters projected from the features, per ordinary model class.
PROJECTED = {"ALRNN": ("A", "W", "h"), "ShallowPLRNN": ("A", "W1", "W2", "h1", "h2"), "PLRNN": ("A", "W", "h")}
BASES = {"ALRNN": ALRNN, "ShallowPLRNN": ShallowPLRNN, "PLRNN": PLRNN}


def _leaf_name(path) -> str:
    return ".".join(str(getattr(k, "name", getattr(k, "key", k))) for k in path)


def xavier_uniform(key: jax.Array, shape: tuple[int, ...], gain: float, dtype) -> jax.Array:
    """U(±gain·√(6/(fan_in + fan_out))) with torch's fans of a (K, *shape) tensor: fan_in = shape[1]·r,
    fan_out = shape[0]·r, r = prod(shape[2:]) (torch.nn.init.xavier_uniform_, used for the projections in the
    published code)."""
    r = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in, fan_out = (shape[1] if len(shape) > 1 else 1) * r, shape[0] * r
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, dtype=dtype, minval=-bound, maxval=bound)


class HierarchicalModel(eqx.Module):
    """A family of ordinary PLRNN-family models indexed by feature vectors (see the module docstring).

    Args:
        template: an ordinary `ALRNN`, `ShallowPLRNN` or `PLRNN`: the structure of every member, its parameters
            the initialisation of P_θ[0], its observation model the shared one.
        n_series: S >= 1, number of series (rows of `features`).
        feature_dim: K >= 1, length of each feature vector.
        key: JAX random key (required) for P_θ[k >= 1] and l_s[k >= 1].

    Attributes:
        projections: {θ: (K, *shape(θ))}, group-level. group: {name: array}, the shared observation parameters.
        features: (S, K), series-level.
    """

    projections: dict
    group: dict
    features: jax.Array
    base: str = eqx.field(static=True)
    base_config: tuple = eqx.field(static=True)
    treedef: Any = eqx.field(static=True)
    leaf_names: tuple = eqx.field(static=True)

    @uses_x64  # a float64 template gives float64 projections whatever JAX's global setting
    def __init__(self, template, n_series: int, feature_dim: int, *, key=None):
        name = type(template).__name__
        if name not in PROJECTED:
            raise TypeError(f"a hierarchical model is built on an ALRNN, ShallowPLRNN or PLRNN, got {name}")
        s = check_int("n_series", n_series, 1)
        k = check_int("feature_dim (K)", feature_dim, 1)
        if key is None:
            raise TypeError("a JAX random key is required: pass key=jax.random.key(seed)")
        flat, treedef = jax.tree_util.tree_flatten_with_path(template)
        names = tuple(_leaf_name(p) for p, _ in flat)
        leaves = dict(zip(names, (leaf for _, leaf in flat)))
        dtype = leaves["A"].dtype
        k_p, k_l = jax.random.split(key)
        projections = {}
        for i, n in enumerate(PROJECTED[name]):
            theta = leaves[n]
            rest = xavier_uniform(jax.random.fold_in(k_p, i), (k, *theta.shape), 0.1, dtype)
            projections[n] = rest.at[0].set(theta)
        self.projections = projections
        self.group = {n: leaf for n, leaf in leaves.items() if n not in PROJECTED[name]}
        r = 1.0 / math.sqrt(k)
        feats = jax.random.uniform(k_l, (s, k), dtype=dtype, minval=-r, maxval=r)
        self.features = feats.at[:, 0].set(1.0)
        self.base = name
        self.base_config = tuple(sorted(template.config.items()))
        self.treedef = treedef
        self.leaf_names = names

    # ------------------------------------------------------------------------------------------- sizes

    @property
    def n_series(self) -> int:
        return int(self.features.shape[0])

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    @property
    def obs_dim(self) -> int:
        return int(dict(self.base_config)["obs_dim"])

    @property
    def latent_dim(self) -> int:
        return int(dict(self.base_config)["latent_dim"])

    @property
    def dtype(self):
        return self.features.dtype

    @property
    def config(self) -> dict:
        """JSON-serialisable description that rebuilds a model of this structure (`from_config`)."""
        return {"base": self.base, "base_config": dict(self.base_config), "n_series": self.n_series,
                "feature_dim": self.feature_dim}

    # ------------------------------------------------------------------------------------------- the map

    def _check_features(self, features) -> jax.Array:
        l = jnp.asarray(features, self.dtype)
        if l.shape != (self.feature_dim,):
            raise ValueError(f"features must have shape (K,) = ({self.feature_dim},) for this model, got {l.shape}")
        return l

    def parameters(self, features) -> dict:
        """{θ: reshape(P_θ l)} for one feature vector l (K,): the series-level dynamics parameters."""
        l = self._check_features(features)
        return {n: jnp.tensordot(l, p, axes=1) for n, p in self.projections.items()}

    def at(self, features):
        """The ordinary model (an instance of the base class) at feature vector `features` (K,).

        Traceable (works under jit/vmap). The observation parameters are the shared ones."""
        params = self.parameters(features)
        leaves = [params[n] if n in params else self.group[n] for n in self.leaf_names]
        return jax.tree_util.tree_unflatten(self.treedef, leaves)

    def check_series(self, series) -> int:
        """`series` as an index 0 <= s < S, or a ValueError naming the valid range."""
        if isinstance(series, bool) or not isinstance(series, (int, np.integer)):
            raise TypeError(f"series must be an integer index, got {series!r}")
        if not 0 <= int(series) < self.n_series:
            raise ValueError(f"unknown series {int(series)}: this model has {self.n_series} series, "
                             f"indices 0 … {self.n_series - 1}")
        return int(series)

    def for_series(self, series: int):
        """The ordinary model of training series `series` (0 <= series < S): `at(features[series])`."""
        return self.at(self.features[self.check_series(series)])

    def stacked(self, index: jax.Array):
        """The ordinary models of series `index` (B,) stacked along a leading axis (one per entry; traceable):
        what training vmaps over, each window with the model of its series."""
        return jax.vmap(self.at)(self.features[index])

    def step(self, z: jax.Array, index: jax.Array) -> jax.Array:
        """Hierarchical step of a batch: z (B, M), index (B,) series of each row -> (B, M)."""
        return jax.vmap(lambda m, zi: m(zi))(self.stacked(jnp.asarray(index)), z)

    def with_features(self, features) -> "HierarchicalModel":
        """The same group-level parameters with another feature table (S', K) (e.g. new series appended)."""
        f = jnp.asarray(features, self.dtype)
        if f.ndim != 2 or f.shape[1] != self.feature_dim or f.shape[0] < 1:
            raise ValueError(f"features must be an (S, {self.feature_dim}) array with S >= 1, got shape {f.shape}")
        return eqx.tree_at(lambda m: m.features, self, f)


def from_config(config: dict, *, key=None) -> HierarchicalModel:
    """A `HierarchicalModel` of the structure `config` (`HierarchicalModel.config`), freshly initialised."""
    base = config.get("base")
    if base not in BASES:
        raise ValueError(f"unknown base model {base!r}; expected one of {sorted(BASES)}")
    key = jax.random.key(0) if key is None else key
    template = BASES[base](**config["base_config"], key=key)
    return HierarchicalModel(template, config["n_series"], config["feature_dim"], key=key)
