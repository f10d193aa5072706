"""Adapter to the dysts catalogue (Gilpin 2021, "Chaos as an interpretable benchmark for forecasting and data-driven
modelling", NeurIPS Datasets and Benchmarks), pinned to dysts 0.95 (optional extra: ``pip install 'dsrkit[dysts]'``).

``get("dysts:Lorenz")`` gives a ``CatalogueSystem`` with the same interface as the native systems. Differences:
``rhs``/``jacobian`` are NumPy (dysts' numba/NumPy code, evaluated at t = 0; the Jacobian falls back to central
differences where dysts has none); trajectories come from SciPy ``solve_ivp`` with DOP853 at rtol = atol = 1e-10
(never dysts' Radau default: 752 s for 100 000 Lorenz points), compiled where the catalogue's right-hand side
allows (below); the default ``dt`` is the catalogue period / 100,
i.e. 100 samples per dominant period like dysts' ``make_trajectory``; ``x0`` is the catalogue initial condition
and ``x0_spread`` is 1 % of the mean catalogue standard deviation. Only the continuous, non-delay flows are
listed. ``.reference`` holds dysts' numerical estimates (maximum Lyapunov exponent, spectrum, correlation and
Kaplan–Yorke dimensions, period) at the catalogue parameters.

Compiled integration: most catalogue right-hand sides are NumPy expressions of the state and parameters.
``jax_rhs`` re-binds dysts' ``_rhs`` (or a class's own ``rhs``) to ``jax.numpy`` (the function's own code, its
``np`` replaced by ``jnp``) and
accepts it only if it traces and agrees with the NumPy right-hand side to 1e-9 (relative) at 8 points around the
initial condition; such systems are integrated by Diffrax's Dopri8 (Dormand–Prince 8(7)) with a PID controller at
the same rtol = atol = 1e-10, compiled once per system and chunk length (chunks of ``_integrate.CHUNK`` samples).
A right-hand side that does not translate (in-place array updates, Python control flow on the state, calls of
other methods that use NumPy), or a compiled solve that reports failure, uses SciPy's DOP853 as before.
``benchmarks/catalogue_integration.py`` times both per flow; ``CatalogueSystem.use_compiled = False`` turns the
compiled path off.

dysts 0.95 reseeds NumPy's global generator when a system is built; every call into dysts here saves and restores
``np.random``'s state, so using the catalogue leaves the global generator untouched.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import types
import warnings

import jax
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


class _JnpShim:
    """``np`` for a re-bound dysts right-hand side: ``jax.numpy``'s names, NumPy's where jnp has none (constants)."""

    def __init__(self):
        import jax.numpy as jnp

        self._jnp = jnp

    def __getattr__(self, name):
        try:
            return getattr(self._jnp, name)
        except AttributeError:
            return getattr(np, name)


def _rebound(fn) -> "types.FunctionType | None":
    """``fn`` (a function, staticmethod or numba dispatcher) with its module's ``np`` bound to ``jax.numpy``."""
    fn = getattr(fn, "__func__", fn)
    fn = getattr(fn, "py_func", fn)  # a numba dispatcher (dysts' staticjit with numba installed)
    if not isinstance(fn, types.FunctionType) or fn.__closure__:
        return None
    shim = _JnpShim()
    glob = dict(fn.__globals__)
    glob.update({k: shim for k, v in fn.__globals__.items() if v is np})
    return types.FunctionType(fn.__code__, glob, fn.__name__, fn.__defaults__)


def _as_vector(out):
    import jax.numpy as jnp

    if isinstance(out, (tuple, list)):
        return jnp.concatenate([jnp.ravel(jnp.asarray(o, dtype=jnp.float64)) for o in out])
    return jnp.ravel(jnp.asarray(out, dtype=jnp.float64))


_FIELDS: dict = {}


def _jax_field(cls, key=None, model=None):
    """A hashable JAX vector field ``f(t, x, params) -> (dim,)`` for the compiled solver.

    Classes that use dysts' ``DynSys.rhs`` (``_rhs(*x, t, *param_list)``): one field per class, the parameters
    traced. Classes that override ``rhs`` (reading ``self.<param>``): their ``rhs`` re-bound, one field per class
    and parameter values (``key``), the parameters read from ``model`` as constants."""
    import inspect

    from dysts.base import DynSys

    if cls.rhs is DynSys.rhs:
        try:
            fn = _rebound(inspect.getattr_static(cls, "_rhs"))
        except AttributeError:
            return None
        if fn is None:
            return None

        def field(t, x, params):
            return _as_vector(fn(*x, t, *params))
    else:
        fn = _rebound(cls.rhs)
        if fn is None or model is None:
            return None

        def field(t, x, params):
            return _as_vector(fn(model, x, t))

    field.__name__ = f"dysts_{cls.__name__}"
    return field


def _cached_field(cls, key=None, model=None):
    """``_jax_field``, one object per (class, key): the same field reuses the compiled solver."""
    if (cls, key) not in _FIELDS:
        _FIELDS[(cls, key)] = _jax_field(cls, key, model)
    return _FIELDS[(cls, key)]


def _field_for(system):
    from dysts.base import DynSys

    cls = type(system._model)
    if cls.rhs is DynSys.rhs:
        return _cached_field(cls)
    key = json.dumps({k: np.asarray(v).tolist() for k, v in sorted(system.params.items())}, sort_keys=True)
    return _cached_field(cls, key, system._model)


def jax_rhs(system: "CatalogueSystem"):
    """The system's JAX vector field if its right-hand side translates and agrees with NumPy, else None."""
    cached = system._jax_checked
    if cached is not None:
        return cached or None
    field = _field_for(system)
    ok = False
    if field is not None:
        from .._precision import x64

        try:
            rng = np.random.default_rng(0)
            scale = max(system.x0_spread * 100, 1e-3)
            with x64(), _global_rng_preserved(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                params = system._jax_params()
                f = jax.jit(field)
                ok = True
                for i in range(8):
                    x = system.x0 + scale * rng.standard_normal(system.dim)
                    t = 0.37 * i
                    ours = np.asarray(f(t, x, params))
                    theirs = system._f(t, x)
                    if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=1e-9, atol=1e-12):
                        ok = False
                        break
        except Exception:  # noqa: BLE001 - anything that does not trace falls back to SciPy
            ok = False
    object.__setattr__(system, "_jax_checked", field if ok else False)
    return field if ok else None


@functools.partial(jax.jit, static_argnames=("field", "length"))
def _dopri8_chunk(params, t0, x, dt, *, field, length: int):
    """``((t_end, x_end, ok), xs)``: ``length`` samples spaced dt after (t0, x), Dopri8 + PID, rtol = atol = RTOL."""
    import diffrax
    import jax.numpy as jnp

    ts = t0 + dt * jnp.arange(1, length + 1, dtype=jnp.float64)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field), diffrax.Dopri8(), t0=t0, t1=ts[-1], dt0=dt / 4, y0=x, args=params,
        saveat=diffrax.SaveAt(ts=ts), stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
        max_steps=100 * length, throw=False)
    ok = (sol.result == diffrax.RESULTS.successful) & jnp.all(jnp.isfinite(sol.ys))
    return (ts[-1], sol.ys[-1], ok), sol.ys


#: SciPy solutions of the flows that do not compile, kept per process for an identical later request (same
#: system, parameters, start, length and dt): a benchmark draws the same training and test trajectories once per
#: method, and a SciPy solve of 20 000 samples takes 10-60 s for these flows. Set SCIPY_MEMO_BYTES = 0 to turn off.
SCIPY_MEMO_BYTES = 256 * 2**20
_SCIPY_MEMO: "collections.OrderedDict" = collections.OrderedDict()
#: (name, parameters) of systems whose compiled solve reported failure in this process (stiff or discontinuous
#: right-hand sides, e.g. StickSlipOscillator): not tried again, SciPy directly.
_COMPILED_FAILED: set = set()


class CatalogueSystem(System):
    """A flow from the dysts catalogue behind the native interface (see module docstring)."""

    kind = "flow"
    use_compiled = True  # class-wide switch: False integrates every catalogue flow with SciPy's DOP853

    def __init__(self, *, model, nonautonomous, **metadata):
        super().__init__(**metadata)
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "nonautonomous", nonautonomous)
        object.__setattr__(self, "_jax_checked", None)  # None: not checked yet; False: no; else the JAX field

    def _jax_params(self):
        return tuple(np.asarray(v, dtype=np.float64) for v in self._model.param_list)

    def _simulate_compiled(self, field, start, n_samples, dt):
        """(n_samples, dim) from the compiled Dopri8 solve, or None if it reports failure."""
        from .._precision import x64
        from ._integrate import run_chunked

        with x64(), _global_rng_preserved():
            params = self._jax_params()
            dt_j = np.float64(dt)
            ok_all = [True]

            def advance(state, length):
                t, x = state
                (t, x, ok), ys = _dopri8_chunk(params, t, x, dt_j, field=field, length=length)
                ok_all[0] = ok_all[0] and bool(ok)
                return (t, x), ys

            ys = run_chunked(advance, (np.float64(0.0), np.asarray(start, dtype=np.float64)), n_samples - 1)
        if not ok_all[0]:
            return None
        return np.concatenate([np.asarray(start, dtype=np.float64)[None, :], ys], axis=0)

    def _memo_key(self, start, n_samples, dt):
        params = json.dumps({k: np.asarray(v).tolist() for k, v in sorted(self.params.items())})
        return (self.name, params, np.asarray(start, dtype=np.float64).tobytes(), int(n_samples), float(dt))

    @staticmethod
    def _remember(key, X):
        """Keep a SciPy solution for the next identical request (bounded by SCIPY_MEMO_BYTES, oldest out)."""
        if X.nbytes > SCIPY_MEMO_BYTES:
            return
        _SCIPY_MEMO[key] = X.copy()
        while sum(v.nbytes for v in _SCIPY_MEMO.values()) > SCIPY_MEMO_BYTES:
            _SCIPY_MEMO.popitem(last=False)

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
        field = jax_rhs(self) if self.use_compiled and n_samples > 1 else None
        for start in np.atleast_2d(x0):
            if n_samples == 1:
                rows.append(start[None, :])
                continue
            key = self._memo_key(start, n_samples, dt)
            if key in _SCIPY_MEMO:
                _SCIPY_MEMO.move_to_end(key)
                rows.append(_SCIPY_MEMO[key].copy())
                continue
            if field is not None and key[:2] not in _COMPILED_FAILED:
                X = self._simulate_compiled(field, start, n_samples, dt)
                if X is not None:
                    rows.append(X)
                    continue
                _COMPILED_FAILED.add(key[:2])  # this system's compiled solve failed once: SciPy from now on
            with _global_rng_preserved():
                sol = solve_ivp(self._f, (0.0, times[-1]), start, method="DOP853", rtol=RTOL, atol=ATOL,
                                t_eval=times)
            if not sol.success or sol.y.shape[1] != n_samples:
                raise FloatingPointError(f"{self.name}: SciPy DOP853 failed ({sol.message})")
            rows.append(sol.y.T)
            self._remember(key, rows[-1])
        out = np.stack(rows)
        return out if batched else out[0]
