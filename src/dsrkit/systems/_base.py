"""The system object: metadata as data, a JAX right-hand side (or map) and its Jacobian, and ``trajectory()``.

A system is immutable: parameters are fixed at construction; ``get(name, **overrides)`` or
``s.with_params(**overrides)`` make a new object. Randomness only through ``seed=``: the initial-condition
perturbation and the observation noise of ``trajectory(seed=s)`` come from ``np.random.default_rng(s)``
(in that order), process noise from ``jax.random.key(s)``.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

from .._checks import check_int  # noqa: F401  (re-exported for the systems package)
from .._precision import uses_x64

KINDS = ("flow", "map", "delay", "pde")


def check_real(name: str, value, *, positive: bool = False, nonnegative: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


class System:
    """A ground-truth dynamical system (abstract; concrete kinds: flow, map, delay, pde, catalogue).

    Attributes (read-only): ``name`` (str), ``kind`` ("flow" | "map" | "delay" | "pde"), ``dim`` (int, the
    dimension of a trajectory sample), ``dt`` (default sampling interval; 1 for maps), ``params`` (dict, a copy),
    ``x0`` (default initial condition, (dim,) np.ndarray, a copy), ``variables`` (dim names),
    ``x0_spread`` (std of the seeded Gaussian perturbation of x0), ``reference`` (dict of invariants valid for
    the current parameters, e.g. ``{"lyapunov_max": 0.906}``; empty when overrides move the parameters away from
    the referenced values), ``reference_sources`` (dict: same keys -> citation of each value; values computed by
    this package say so), ``citation`` (str), ``description`` (str).
    """

    kind: str = ""

    def __init__(self, *, name, params, dim, dt, x0, x0_spread, reference, reference_sources, citation,
                 description, factory, domain=None, variables=None):
        values = dict(
            name=name, _params=copy.deepcopy(dict(params)), dim=int(dim), dt=float(dt),
            _x0=np.asarray(x0, dtype=np.float64).copy(), x0_spread=float(x0_spread),
            _reference=dict(reference), _reference_sources=dict(reference_sources), citation=citation,
            description=description, _factory=factory, _domain=domain,
            _variables=tuple(variables) if variables is not None else tuple(f"x{i + 1}" for i in range(int(dim))),
        )
        for key, value in values.items():
            object.__setattr__(self, key, value)
        self._x0.setflags(write=False)

    # -- immutability ------------------------------------------------------------------------------------------
    def __setattr__(self, key, value):
        raise AttributeError(f"System objects are immutable (tried to set {key!r}); "
                             f"use dsrkit.systems.get({self.name!r}, **overrides) or s.with_params(...)")

    def __delattr__(self, key):
        raise AttributeError("System objects are immutable")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({self.name!r}, kind={self.kind!r}, dim={self.dim}, dt={self.dt}, {params})"

    @property
    def params(self) -> dict:
        return copy.deepcopy(self._params)

    @property
    def variables(self) -> list[str]:
        """Names of the dim coordinates of a sample (e.g. ["x", "y", "z"]; "u0".. for the PDE grid)."""
        return list(self._variables)

    @property
    def x0(self) -> np.ndarray:
        return self._x0.copy()

    @property
    def reference(self) -> dict:
        return copy.deepcopy(self._reference)

    @property
    def reference_sources(self) -> dict:
        return dict(self._reference_sources)

    def with_params(self, **overrides) -> "System":
        """A new system with some parameters replaced (same validation as ``get``)."""
        return self._factory(**{**self._params, **overrides})

    # -- dynamics (overridden by kinds) ------------------------------------------------------------------------
    def rhs(self, x):
        """Vector field f(x), (dim,) -> (dim,) (flows and the PDE's semi-discretisation)."""
        raise TypeError(f"{self.name} is a {self.kind}; rhs() is defined for flows and PDEs")

    def step(self, x):
        """One iteration of the map, (dim,) -> (dim,) (maps only)."""
        raise TypeError(f"{self.name} is a {self.kind}; step() is defined for maps")

    def jacobian(self, x):
        """Jacobian (dim, dim) of the vector field (flows, PDE) or of the map (maps) at x (dim,)."""
        raise NotImplementedError(f"{self.name} ({self.kind}) has no finite-dimensional Jacobian")

    def flow_map(self, x, dt=None):
        """The state one sampling interval later, x(t + dt) from x(t), (dim,) -> (dim,), computed with the same
        integrator as ``trajectory`` (maps: one iteration). JAX-traceable for native systems, so
        ``jax.jacfwd(s.flow_map)(x)`` is the tangent map over one sample (e.g. for Lyapunov spectra of stiff
        systems such as the Kuramoto–Sivashinsky PDE, where explicit RK4 on ``rhs`` would need tiny steps).

        ``rhs``/``step``/``jacobian``/``flow_map`` compute in float64 whatever JAX's global setting (see
        ``dsrkit._precision``). Inside the caller's own ``jax.jit``/``jax.jacfwd``, JAX converts the inputs before
        they arrive here: wrap such code in ``with jax.enable_x64(True):`` to keep them float64."""
        raise NotImplementedError(f"{self.name} ({self.kind}) has no finite-dimensional flow map")

    def _simulate(self, x0, n_samples, dt, *, batched, progress, process_noise, seeds, method):
        """Series of n_samples states starting with (the observation of) x0: (n, dim) or (B, n, dim)."""
        raise NotImplementedError

    # -- shared trajectory machinery ---------------------------------------------------------------------------
    def _check_dt(self, dt) -> float:
        return self.dt if dt is None else check_real("dt", dt, positive=True)

    def _check_x0(self, x0, shape) -> np.ndarray:
        try:
            arr = np.asarray(x0, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"x0 must be an array of shape {shape}, got {type(x0).__name__}") from err
        if arr.shape != shape:
            raise ValueError(f"x0 must have shape {shape} for {self.name} (dim={self.dim}), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"x0 must be finite; non-finite entries at {np.argwhere(~np.isfinite(arr)).tolist()}")
        self._check_state(arr)
        return arr.copy()

    def _check_state(self, x0: np.ndarray) -> None:
        """Initial conditions must lie in the system's domain (metadata "domain": [low, high] per coordinate,
        null = unbounded), e.g. [0, 1] for the logistic map, nonnegative populations."""
        if self._domain is None:
            return
        for i, (low, high) in enumerate(self._domain):
            col = x0[..., i]
            if (low is not None and np.any(col < low)) or (high is not None and np.any(col > high)):
                raise ValueError(f"x0[..., {i}] of {self.name} must lie in [{low}, {high}], got {col.tolist()}")

    def _perturbed_x0(self, rng: np.random.Generator) -> np.ndarray:
        return self._x0 + self.x0_spread * rng.standard_normal(self._x0.shape)

    def _check_common(self, n_steps, transient, seed, noise, process_noise, method):
        if method not in ("fixed", "adaptive"):
            raise ValueError(f"method must be 'fixed' or 'adaptive', got {method!r}")
        if method == "adaptive" and self.kind != "flow":
            raise ValueError(f"method='adaptive' is available for flows only; {self.name} is a {self.kind}")
        n_steps = check_int("n_steps", n_steps, 1)
        transient = check_int("transient", transient, 0)
        seed = check_int("seed", seed, 0)
        noise = check_real("noise", noise, nonnegative=True)
        process_noise = check_real("process_noise", process_noise, nonnegative=True)
        if process_noise > 0 and self.kind != "flow":
            raise ValueError(f"process_noise is available for flows only; {self.name} is a {self.kind}")
        return n_steps, transient, seed, noise, process_noise

    def _finish(self, X: np.ndarray, rng: np.random.Generator, noise: float, standardize: bool) -> np.ndarray:
        bad = ~np.isfinite(X)
        if bad.any():
            first = int(np.argwhere(bad.any(axis=-1))[0, 0])
            raise FloatingPointError(f"{self.name} trajectory became non-finite at sample {first} "
                                     f"(params {self._params}); check parameters, x0 and dt")
        std = X.std(axis=0)
        if noise > 0:
            X = X + noise * std * rng.standard_normal(X.shape)
        if standardize:
            scale = X.std(axis=0)
            X = (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
        return X

    @uses_x64
    def trajectory(self, n_steps, dt=None, transient=1000, seed=0, noise=0.0, standardize=False, x0=None, *,
                   process_noise=0.0, progress=False, method="fixed") -> np.ndarray:
        """Simulate one trajectory, float64, shape (n_steps, dim).

        n_steps: samples returned; dt: sampling interval (default ``self.dt``; maps: must be None or 1);
        transient: samples dropped first (sample 0 of the full series is the initial condition); seed: perturbs
        the default initial condition by ``x0_spread * N(0, 1)`` (so seeds give independent trajectories) and
        draws the observation noise, both from ``np.random.default_rng(seed)``; noise: observation noise std as a
        fraction of each dimension's std over the returned samples; standardize: z-score each dimension (after
        noise; a constant dimension is only centred); x0: explicit initial condition (dim,), not perturbed;
        process_noise: sigma of additive isotropic dynamical noise dX = f dt + sigma dW (flows only; Tsit5 drift
        step plus sigma * dW per substep, strong order 1, increments from ``jax.random.key(seed)``);
        progress: show a rich progress bar while integrating (the series is integrated in compiled chunks of
        up to 8192 samples);
        method: "fixed" (default: fixed-step Tsit5 with ``max_step``-bounded substeps, see ``_integrate``) or
        "adaptive" (flows only: Diffrax Dopri8 with a PID controller at rtol = atol = 1e-11; slower).
        Raises ValueError/TypeError for invalid arguments and FloatingPointError if the solution blows up.
        """
        n_steps, transient, seed, noise, process_noise = self._check_common(n_steps, transient, seed, noise,
                                                                           process_noise, method)
        dt = self._check_dt(dt)
        rng = np.random.default_rng(seed)
        start = self._perturbed_x0(rng) if x0 is None else self._check_x0(x0, self._x0.shape)
        X = self._simulate(start, transient + n_steps, dt, batched=False, progress=progress,
                           process_noise=process_noise, seeds=[seed], method=method)
        return self._finish(X[transient:], rng, noise, bool(standardize))

    @uses_x64
    def trajectories(self, n_traj, n_steps, dt=None, transient=1000, seed=0, noise=0.0, standardize=False,
                     x0=None, *, process_noise=0.0, progress=False, method="fixed") -> np.ndarray:
        """Simulate n_traj trajectories at once (``jax.vmap``), shape (n_traj, n_steps, dim).

        Row i equals ``trajectory(n_steps, ..., seed=seed + i)`` (same initial condition, same noise draws;
        ``standardize`` acts per row); with ``x0`` of shape (n_traj, dim) row i starts at x0[i] unperturbed.
        """
        n_traj = check_int("n_traj", n_traj, 1)
        n_steps, transient, seed, noise, process_noise = self._check_common(n_steps, transient, seed, noise,
                                                                           process_noise, method)
        dt = self._check_dt(dt)
        rngs = [np.random.default_rng(seed + i) for i in range(n_traj)]
        if x0 is None:
            starts = np.stack([self._perturbed_x0(r) for r in rngs])
        else:
            starts = self._check_x0(x0, (n_traj,) + self._x0.shape)
        X = self._simulate(starts, transient + n_steps, dt, batched=True, progress=progress,
                           process_noise=process_noise, seeds=[seed + i for i in range(n_traj)], method=method)
        return np.stack([self._finish(X[i, transient:], rngs[i], noise, bool(standardize)) for i in range(n_traj)])


def traced_params(params: dict) -> dict:
    """Real (scalar or array) parameters as float64 NumPy arrays, the traced arguments of the compiled functions
    (so new values never recompile). NumPy, not JAX: a JAX array made outside 64-bit mode would be float32, while
    the functions that receive these run inside `dsrkit._precision.x64()` and see them as float64.

    Integer parameters set shapes (dimension, grid size) and are left out.
    """
    return {k: np.asarray(v, dtype=np.float64) for k, v in params.items() if not isinstance(v, int)}
