"""Reconstruction metrics and dynamical invariants.

Metrics are pure functions `(true, generated, **options) -> float` (arrays time-first, (T, N)):

    state_space_divergence (D_stsp)   power_spectrum_distance (D_H)   prediction_error (PE(n))
    smape   mase   valid_prediction_time (VPT)
    lyapunov_spectrum   max_lyapunov_from_data   correlation_dimension   kaplan_yorke_dimension

The evaluation protocol that runs a model and returns all of them in a dict is `dsrkit.evaluation.evaluate`
(also `dsrkit.evaluate`).
`get(name)` returns a metric by name (aliases: d_stsp, d_h, pe, vpt); `names()` lists the names.
"""

from __future__ import annotations

from .dimension import CorrelationDimensionResult, correlation_dimension, kaplan_yorke_dimension
from .geometry import StateSpaceDivergence, state_space_divergence, state_space_divergence_result
from .lyapunov import RosensteinResult, lyapunov_spectrum, max_lyapunov_from_data
from .prediction import mase, prediction_error, smape, valid_prediction_time
from .spectrum import power_spectrum_distance, power_spectrum_distance_per_dim

_REGISTRY = {
    "state_space_divergence": state_space_divergence,
    "power_spectrum_distance": power_spectrum_distance,
    "prediction_error": prediction_error,
    "smape": smape,
    "mase": mase,
    "valid_prediction_time": valid_prediction_time,
    "lyapunov_spectrum": lyapunov_spectrum,
    "max_lyapunov_from_data": max_lyapunov_from_data,
    "correlation_dimension": correlation_dimension,
    "kaplan_yorke_dimension": kaplan_yorke_dimension,
}
_ALIASES = {
    "d_stsp": "state_space_divergence",
    "d_h": "power_spectrum_distance",
    "pe": "prediction_error",
    "vpt": "valid_prediction_time",
}


def names() -> list[str]:
    """Names of the registered metrics (aliases d_stsp, d_h, pe, vpt are accepted by `get` too)."""
    return list(_REGISTRY)


def get(name: str):
    """The metric function registered under `name` (or an alias); unknown names raise a ValueError."""
    if not isinstance(name, str):
        raise TypeError(f"metric name must be a string, got {type(name).__name__}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _REGISTRY:
        raise ValueError(f"unknown metric {name!r}; valid names: {names()} (aliases: {sorted(_ALIASES)})")
    return _REGISTRY[key]


__all__ = [
    "CorrelationDimensionResult",
    "RosensteinResult",
    "StateSpaceDivergence",
    "correlation_dimension",
    "get",
    "kaplan_yorke_dimension",
    "lyapunov_spectrum",
    "mase",
    "max_lyapunov_from_data",
    "names",
    "power_spectrum_distance",
    "power_spectrum_distance_per_dim",
    "prediction_error",
    "smape",
    "state_space_divergence",
    "state_space_divergence_result",
    "valid_prediction_time",
]
