"""Adapter to the dysts catalogue (Gilpin 2021, "Chaos as an interpretable benchmark for forecasting and data-driven
modelling", NeurIPS Datasets and Benchmarks), pinned to dysts 0.95 (optional extra: ``pip install 'dsrkit[dysts]'``).

``get("dysts:Lorenz")`` gives a ``CatalogueSystem`` with the same interface as the native systems. Differences:
``rhs``/``jacobian`` are NumPy (dysts' numba/NumPy code, evaluated at t = 0; the Jacobian falls back to central
differences where dysts has none); trajectories come from SciPy ``solve_ivp`` with DOP853 at rtol = atol = 1e-10
(never dysts' Radau default: 752 s for 100 000 Lorenz points); the default ``dt`` is the catalogue period / 100,
i.e. 100 samples per dominant period like dysts' ``make_trajectory``; ``x0`` is the catalogue initial condition
and ``x0_spread`` is 1 % of the mean catalogue standard deviation. Only the continuous, non-delay flows are
listed. ``.reference`` holds dysts' numerical estimates (maximum Lyapunov exponent, spectrum, correlation and
Kaplan–Yorke dimensions, period) at the catalogue parameters.

dysts 0.95 reseeds NumPy's global generator when a system is built; every call into dysts here saves and restores
``np.random``'s state, so using the catalogue leaves the global generator untouched.
"""

from __future__ import annotations

import contextlib
import functools
import json
import warnings

import numpy as np

from ._base import System

INSTALL_HINT = "the dysts catalogue needs the optional extra: pip install 'dsrkit[dysts]'  (dysts==0.95)"
SOURCE = ("dysts 0.95 database, numerical estimates: Gilpin, W. (2021). Chaos as an interpretable benchmark for "
          "forecasting and data-driven modelling. NeurIPS Datasets and Benchmarks.")
_REFERENCE_KEYS = {"maximum_lyapunov_estimated": "lyapunov_max", "lyapunov_spectrum_estimated": "lyapunov_spectrum",
                   "correlation_dimension": "correlation_dimension",
                   "kaplan_yorke_dimension": "kaplan_yorke_dimension", "period": "period"}
RTOL = ATOL = 1e-10


def _import_dysts():
    try:
        with _global_rng_preserved(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Numba not installed")
            import dysts  # noqa: F401
            import dysts.flows as flows
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    return flows


@contextlib.contextmanager
def _global_rng_preserved():
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


@functools.lru_cache(maxsize=1)
def _catalogue() -> dict:
    flows = _import_dysts()
    from importlib import resources

    path = resources.files("dysts").joinpath("data/chaotic_attractors.json")
    data = json.loads(path.read_text())
    return {name: entry for name, entry in data.items() if not entry.get("delay", False) and hasattr(flows, name)}


def catalogue_names() -> list[str]:
    return sorted(f"dysts:{name}" for name in _catalogue())


def build_catalogue_system(name: str, **overrides) -> "CatalogueSystem":
    catalogue = _catalogue()
    if name not in catalogue:
        raise ValueError(f"unknown catalogue system 'dysts:{name}'; valid names: {', '.join(catalogue_names())}")
    entry = catalogue[name]
    defaults = dict(entry.get("parameters", {}))
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for 'dysts:{name}'; valid parameters: "
                         f"{', '.join(sorted(defaults)) or '(none)'}")
    params = {**defaults, **overrides}
    for key, value in params.items():
        if not np.all(np.isfinite(np.asarray(value, dtype=float))):
            raise ValueError(f"dysts:{name}.{key} must be finite, got {value!r}")
    flows = _import_dysts()
    with _global_rng_preserved():
        model = getattr(flows, name)(**params)
    reference, sources = {}, {}
    unchanged = all(np.array_equal(np.asarray(params[k], float), np.asarray(defaults[k], float)) for k in defaults)
    if unchanged:
        for key, ours in _REFERENCE_KEYS.items():
            if entry.get(key) is not None:
                reference[ours] = entry[key]
                sources[ours] = SOURCE
    x0 = np.asarray(entry["initial_conditions"], dtype=np.float64)
    std = np.asarray(entry.get("std", np.ones_like(x0)), dtype=float)
    return CatalogueSystem(
        model=model, nonautonomous=bool(entry.get("nonautonomous", False)),
        name=f"dysts:{name}", params=params, dim=x0.shape[0], dt=float(entry.get("period", 1.0)) / 100.0, x0=x0,
        x0_spread=0.01 * float(np.mean(std)), reference=reference, reference_sources=sources,
        citation=entry.get("citation") or "", description=(entry.get("description") or "").strip(),
        factory=functools.partial(build_catalogue_system, name),
    )


class CatalogueSystem(System):
    """A flow from the dysts catalogue behind the native interface (see module docstring)."""

    kind = "flow"

    def __init__(self, *, model, nonautonomous, **metadata):
        super().__init__(**metadata)
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "nonautonomous", nonautonomous)

    def _f(self, t, x):
        return np.asarray(self._model.rhs(x, t), dtype=np.float64)

    def rhs(self, x):
        """Vector field at t = 0 (NumPy), (dim,) -> (dim,)."""
        return self._f(0.0, x)

    def jacobian(self, x, eps: float = 1e-6):
        """Jacobian (dim, dim) at t = 0: dysts' analytic one where it has it, else central differences."""
        x = np.asarray(x, dtype=np.float64)
        with _global_rng_preserved():
            jac = self._model.jac(x, 0.0)
        if jac is not None:
            return np.asarray(jac, dtype=np.float64).reshape(self.dim, self.dim)
        cols = []
        for i in range(self.dim):
            step = eps * max(1.0, abs(x[i]))
            e = np.zeros_like(x)
            e[i] = step
            cols.append((self.rhs(x + e) - self.rhs(x - e)) / (2 * step))
        return np.stack(cols, axis=1)

    def _simulate(self, x0, n_samples, dt, *, batched, progress, process_noise, seeds, method):
        from scipy.integrate import solve_ivp

        if process_noise > 0:
            raise ValueError("process_noise is not available for catalogue systems")
        times = dt * np.arange(n_samples)
        rows = []
        for start in np.atleast_2d(x0):
            if n_samples == 1:
                rows.append(start[None, :])
                continue
            with _global_rng_preserved():
                sol = solve_ivp(self._f, (0.0, times[-1]), start, method="DOP853", rtol=RTOL, atol=ATOL,
                                t_eval=times)
            if not sol.success or sol.y.shape[1] != n_samples:
                raise FloatingPointError(f"{self.name}: SciPy DOP853 failed ({sol.message})")
            rows.append(sol.y.T)
        out = np.stack(rows)
        return out if batched else out[0]
