"""Baselines for dynamical systems reconstruction, all behind the `Reconstructor` protocol.

    import dsrkit as dsr
    dsr.baselines.names()                        # registered methods
    m = dsr.baselines.get("esn", units=500)      # unknown name or parameter -> ValueError listing the valid ones
    m.fit(dataset, seed=0)
    Y = m.generate(x0, 10_000)                   # (10000, N); m.status_ in {"ok", "diverged", "failed"}
    m.save("esn.eqx"); m2 = dsr.baselines.load("esn.eqx")   # dsrkit's model file format: dsr.load reads it too

Methods are imported lazily, so optional dependencies (pysindy) are only needed by the methods that use them.
"""

from __future__ import annotations

import importlib

from ._base import Reconstructor

# name -> (module, class)
_METHODS: dict[str, tuple[str, str]] = {
    "mean": ("trivial", "Mean"),
    "last_value": ("trivial", "LastValue"),
    "parroting": ("parroting", "ContextParroting"),
    "sindy": ("sindy", "SINDy"),
    "esn": ("reservoir", "ESN"),
    "nvar": ("reservoir", "NVAR"),
    "edmd": ("koopman", "EDMD"),
    "mpedmd": ("koopman", "MPEDMD"),
    "havok": ("koopman", "HAVOK"),
    "node": ("node", "NeuralODE"),
    "lstm": ("recurrent", "LSTM"),
    "gru": ("recurrent", "GRU"),
    "alrnn": ("plrnn", "ALRNNBaseline"),
    "plrnn": ("plrnn", "PLRNNBaseline"),
    "shplrnn": ("plrnn", "ShallowPLRNNBaseline"),
    "auto": ("auto", "PopulationSearch"),
}


def names() -> list[str]:
    """Registered baseline names."""
    return list(_METHODS)


def _registry_class(name: str) -> type[Reconstructor]:
    if name not in _METHODS:
        raise ValueError(f"unknown baseline {name!r}; valid names: {names()}")
    module, cls = _METHODS[name]
    return getattr(importlib.import_module(f".{module}", __name__), cls)


def get(name: str, **params) -> Reconstructor:
    """A fresh, unfitted baseline `name` with the given hyperparameters (the rest at their defaults)."""
    cls = _registry_class(name)
    valid = cls.param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"baseline {name!r} has no parameter(s) {unknown}; valid parameters: {valid}")
    return cls(**params)


def load(path) -> Reconstructor:
    """Load any baseline written by `Reconstructor.save` (or `dsrkit.save`), or an older-format baseline `.npz`."""
    return Reconstructor.load(path)


__all__ = ["Reconstructor", "get", "load", "names"]
