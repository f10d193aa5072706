"""Reconstruction metrics and dynamical invariants.

Metrics are pure functions `(true, generated, **options) -> float` (arrays time-first, (T, N)):

    state_space_divergence (D_stsp)   power_spectrum_distance (D_H)   prediction_error (PE(n))
    smape   mase   valid_prediction_time (VPT)
    lyapunov_spectrum   max_lyapunov_from_data   correlation_dimension   kaplan_yorke_dimension

The evaluation protocol that runs a model and returns all of them in a dict is `dsrkit.evaluation.evaluate`
(also `dsrkit.evaluate`).
`get(name)` returns a pair metric by name (aliases: d_stsp, d_h, vpt) and `names()` lists them: the metrics a
benchmark suite may name. Invariants and PE(n) are listed by `invariant_names()` and returned by `get_invariant`.
"""

from __future__ import annotations

from .dimension import CorrelationDimensionResult, correlation_dimension, kaplan_yorke_dimension
from .geometry import StateSpaceDivergence, state_space_divergence, state_space_divergence_result
from .lyapunov import RosensteinResult, lyapunov_spectrum, max_lyapunov_from_data
from .prediction import mase, prediction_error, smape, valid_prediction_time
from .spectrum import autocorrelation_peak, power_spectrum_distance, power_spectrum_distance_per_dim

#: Metrics comparing a true and a generated series, `(true, generated, **options) -> float`: what a benchmark
#: suite may name.
_PAIR = {
    "state_space_divergence": state_space_divergence,
    "power_spectrum_distance": power_spectrum_distance,
    "smape": smape,
    "mase": mase,
    "valid_prediction_time": valid_prediction_time,
}
#: Invariants of one series, model or system (dimensions, Lyapunov exponents) and model-based scores: not pair
#: metrics, so a suite cannot name them.
_OTHER = {
    "prediction_error": prediction_error,
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
    """Names of the pair metrics `(true, generated) -> float` (aliases d_stsp, d_h, vpt are accepted by `get`)."""
    return list(_PAIR)


def invariant_names() -> list[str]:
    """Names of the functions that are not pair metrics: invariants (Lyapunov, dimensions) and PE(n), which
    needs a model; `get_invariant(name)` returns them."""
    return list(_OTHER)


def _key(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"metric name must be a string, got {type(name).__name__}")
    return _ALIASES.get(name.lower(), name.lower())


def get(name: str):
    """The pair metric registered under `name` (or an alias); other names raise a ValueError naming the valid
    ones (and saying so where `name` is an invariant rather than a pair metric)."""
    key = _key(name)
    if key in _OTHER:
        raise ValueError(f"{name!r} is not a (true, generated) metric but an invariant or a model score; pair "
                         f"metrics: {names()} (use get_invariant({key!r}) for the function)")
    if key not in _PAIR:
        raise ValueError(f"unknown metric {name!r}; valid names: {names()} (aliases: {sorted(_ALIASES)})")
    return _PAIR[key]


def get_invariant(name: str):
    """The invariant or model score registered under `name` (see `invariant_names`)."""
    key = _key(name)
    if key not in _OTHER:
        raise ValueError(f"unknown invariant {name!r}; valid names: {invariant_names()}")
    return _OTHER[key]


__all__ = [
    "CorrelationDimensionResult",
    "RosensteinResult",
    "StateSpaceDivergence",
    "autocorrelation_peak",
    "correlation_dimension",
    "get",
    "get_invariant",
    "invariant_names",
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
