"""Name -> system construction: metadata.json (data) + the JAX functions of each native system (code)."""

from __future__ import annotations

import functools
import json
import numbers
from pathlib import Path

import numpy as np

from . import flows, maps
from ._base import check_int, check_real
from ._kinds import FlowSystem, MapSystem
from .kuramoto_sivashinsky import KuramotoSivashinskySystem
from .mackey_glass import MackeyGlassSystem

_FLOW_NAMES = {
    "lorenz63": "lorenz63", "rossler": "rossler", "lorenz96": "lorenz96", "chua": "chua", "thomas": "thomas",
    "halvorsen": "halvorsen", "sprott_b": "sprott_b", "sprott_jerk": "sprott_jerk",
    "hindmarsh_rose": "hindmarsh_rose", "duffing": "duffing", "van_der_pol": "van_der_pol",
    "lotka_volterra4": "lotka_volterra",
}
_MAP_NAMES = {"logistic": "logistic", "henon": "henon", "leslie_predator_prey": "leslie_predator_prey"}

# Smallest admissible value of each integer (shape-setting) parameter.
_INT_MINIMUM = {("lorenz96", "n"): 4, ("kuramoto_sivashinsky", "n"): 8, ("kuramoto_sivashinsky", "modes"): 0,
                ("mackey_glass", "embedding_dim"): 1}


@functools.lru_cache(maxsize=1)
def metadata() -> dict:
    """The parsed metadata.json: {name: {kind, description, equations, params, x0, dt, citation, reference, ...}}."""
    with open(Path(__file__).with_name("metadata.json"), encoding="utf-8") as fh:
        return json.load(fh)


def native_names() -> list[str]:
    return sorted(metadata())


def _check_params(name: str, defaults: dict, overrides: dict) -> dict:
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        valid = ", ".join(sorted(defaults)) or "(none)"
        raise ValueError(f"unknown parameter(s) {unknown} for system {name!r}; valid parameters: {valid}")
    params = {}
    for key, default in defaults.items():
        value = overrides.get(key, default)
        if isinstance(default, bool) or isinstance(default, int):
            params[key] = check_int(f"{name}.{key}", value, _INT_MINIMUM.get((name, key), 1))
        elif isinstance(default, numbers.Real):
            params[key] = check_real(f"{name}.{key}", value)
        else:
            arr = np.asarray(value, dtype=np.float64)
            if arr.shape != np.shape(default) or not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}.{key} must be a finite array of shape {np.shape(default)}, got {value!r}")
            params[key] = arr.tolist()
    if name == "kuramoto_sivashinsky":
        if params["n"] % 2:
            raise ValueError(f"kuramoto_sivashinsky.n must be even, got {params['n']}")
        if params["L"] <= 0:
            raise ValueError(f"kuramoto_sivashinsky.L must be > 0, got {params['L']}")
    if name == "mackey_glass" and (params["tau"] <= 0 or params["embedding_lag"] <= 0):
        raise ValueError("mackey_glass.tau and embedding_lag must be > 0")
    return params


def _default_x0(name: str, meta: dict, params: dict) -> np.ndarray:
    if meta["x0"] is not None:
        return np.asarray(meta["x0"], dtype=np.float64)
    if name == "lorenz96":
        x0 = np.full(params["n"], params["F"])
        x0[0] += 0.01
        return x0
    if name == "mackey_glass":
        return np.full(params["embedding_dim"], 1.2)
    if name == "kuramoto_sivashinsky":
        x = 2 * np.pi * np.arange(params["n"]) / params["n"]
        return np.cos(x) * (1 + np.sin(x))
    raise KeyError(name)


def _variables(name: str, meta: dict, params: dict, dim: int) -> list[str]:
    if meta.get("variables") and len(meta["variables"]) == dim:
        return list(meta["variables"])
    if name == "kuramoto_sivashinsky":
        return [f"u{j}" for j in range(dim)]
    if name == "mackey_glass":
        return ["x(t)"] + [f"x(t-{k * params['embedding_lag']:g})" for k in range(1, dim)]
    return [f"x{i + 1}" for i in range(dim)]


def _matches(condition: dict, params: dict) -> bool:
    return all(np.allclose(np.asarray(params[k], dtype=float), np.asarray(v, dtype=float), rtol=1e-12, atol=0)
               for k, v in condition.items())


def _references(meta: dict, params: dict) -> tuple[dict, dict]:
    values, sources = {}, {}
    for entry in meta.get("reference", []):
        if _matches(entry.get("params", meta["params"]), params):
            for key, value in entry["values"].items():
                values[key] = value
                sources[key] = entry["source"]
    return values, sources


def build(name: str, **overrides):
    """Construct the native system ``name`` with parameter overrides (validated)."""
    meta = metadata()[name]
    params = _check_params(name, meta["params"], overrides)
    x0 = _default_x0(name, meta, params)
    reference, sources = _references(meta, params)
    common = dict(name=name, params=params, dim=x0.shape[0], dt=meta["dt"], x0=x0, x0_spread=meta["x0_spread"],
                  reference=reference, reference_sources=sources, citation=meta["citation"],
                  description=meta["description"], factory=functools.partial(build, name),
                  domain=meta.get("domain"), variables=_variables(name, meta, params, x0.shape[0]))
    if name in _FLOW_NAMES:
        fn = _FLOW_NAMES[name]
        return FlowSystem(rhs_fn=getattr(flows, fn), jac_fn=getattr(flows, fn + "_jac"), max_step=meta["max_step"],
                          **common)
    if name in _MAP_NAMES:
        fn = _MAP_NAMES[name]
        return MapSystem(step_fn=getattr(maps, fn), jac_fn=getattr(maps, fn + "_jac"), **common)
    if name == "mackey_glass":
        return MackeyGlassSystem(max_step=meta["max_step"], **common)
    if name == "kuramoto_sivashinsky":
        return KuramotoSivashinskySystem(max_step=meta["max_step"], **common)
    raise ValueError(f"system {name!r} is in metadata.json but has no implementation")
