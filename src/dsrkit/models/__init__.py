"""Piecewise-linear RNN models (Equinox modules, one-step maps) and their observation models.

    ALRNN(obs_dim, latent_dim, relu_units, key=...)        almost-linear RNN (Brenner et al. 2024)
    PLRNN(obs_dim, latent_dim, key=...)                    vanilla PLRNN (Durstewitz 2017)
    ShallowPLRNN(obs_dim, latent_dim, hidden_dim, clipped=False, key=...)   shPLRNN (Hess et al. 2023)
    DendPLRNN(obs_dim, latent_dim, n_bases, key=...)       clipped dendPLRNN (Brenner et al. 2022)

Every model takes `observation="identity"|"affine"` and `dtype=float32|float64`. Rollout and training live in
`dsrkit.training`.
"""

from ._base import AbstractModel, AbstractPiecewiseLinear
from ._common import astype
from .alrnn import ALRNN
from .dendplrnn import DendPLRNN
from .observation import AffineObservation, IdentityObservation
from .plrnn import PLRNN
from .shplrnn import ShallowPLRNN
from .hierarchical import HierarchicalModel

MODELS = {"ALRNN": ALRNN, "PLRNN": PLRNN, "ShallowPLRNN": ShallowPLRNN, "DendPLRNN": DendPLRNN}


def from_config(name: str, config: dict, *, key=None):
    """Build a model of class `name` (a key of MODELS) from its `config` dict (see `model.config`)."""
    import jax

    if name not in MODELS:
        raise ValueError(f"unknown model class {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name](**config, key=jax.random.key(0) if key is None else key)


__all__ = ["ALRNN", "PLRNN", "ShallowPLRNN", "DendPLRNN", "AbstractModel", "AbstractPiecewiseLinear",
           "IdentityObservation", "AffineObservation", "MODELS", "from_config", "astype"]
