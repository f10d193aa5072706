"""Lyapunov exponents: the spectrum from Jacobians (Benettin QR method) and λ_max from data (Rosenstein).

References: Benettin, Galgani, Giorgilli & Strelcyn (1980) Meccanica 15:9 and 15:21; Shimada & Nagashima
(1979) Prog Theor Phys 61:1605 (QR re-orthonormalisation); Rosenstein, Collins & De Luca (1993) Physica D
65:117 (largest exponent from a time series); Theiler (1986) Phys Rev A 34:2427 (Theiler window).
"""

from __future__ import annotations

from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from scipy.spatial import cKDTree

from .._precision import uses_x64
from ..models._common import astype
from ..rollout import model_dtype
from ._checks import as_2d, positive_float, positive_int


def _benettin(step, x, q, n_blocks, n_transient_blocks, block: int):
    """Sum of log|diag R| over `n_blocks` blocks of `block` tangent steps, each block ended by a QR.

    `step(x, Q) -> (x', Q')` advances the state and the tangent vectors (columns of Q) by one step. The first
    `n_transient_blocks` blocks align Q with the Lyapunov vectors and are not counted. The block counts may be
    traced values (one compilation serves every run length).
    """

    def one_block(_, carry):
        x, q, acc, count = carry
        x, q = jax.lax.fori_loop(0, block, lambda _, c: step(*c), (x, q))
        q, r = jnp.linalg.qr(q)
        return x, q, acc + count * jnp.log(jnp.abs(jnp.diagonal(r))), count

    zero = jnp.zeros(q.shape[1], dtype=q.dtype)
    x, q, _, _ = jax.lax.fori_loop(0, n_transient_blocks, one_block, (x, q, zero, jnp.asarray(0.0, q.dtype)))
    _, _, acc, _ = jax.lax.fori_loop(0, n_blocks, one_block, (x, q, zero, jnp.asarray(1.0, q.dtype)))
    return acc


def _rk4_tangent(rhs, jac, h: float):
    """One RK4 step of the joint system x' = f(x), Q' = J(x) Q (the variational equations)."""

    def f(x, q):
        return rhs(x), jac(x) @ q

    def step(x, q):
        k1x, k1q = f(x, q)
        k2x, k2q = f(x + 0.5 * h * k1x, q + 0.5 * h * k1q)
        k3x, k3q = f(x + 0.5 * h * k2x, q + 0.5 * h * k2q)
        k4x, k4q = f(x + h * k3x, q + h * k3q)
        return (
            x + (h / 6.0) * (k1x + 2.0 * k2x + 2.0 * k3x + k4x),
            q + (h / 6.0) * (k1q + 2.0 * k2q + 2.0 * k3q + k4q),
        )

    return step


@eqx.filter_jit
def _model_benettin(model, z, q, n_blocks, n_transient_blocks, block: int):
    def step(z, q):
        return model(z), model.jacobian(z) @ q

    return _benettin(step, z, q, n_blocks, n_transient_blocks, block)


def _system_step(obj, kind: str, scale: float):
    """`step(x, Q) -> (x', Q')` of a system: RK4 of the variational equations (flows, PDE) or the map."""
    if kind == "map":
        fmap = obj.step
        jac = obj.jacobian if hasattr(obj, "jacobian") else jax.jacfwd(fmap)

        def step(x, q):
            return fmap(x), jac(x) @ q

        return step
    jac = obj.jacobian if hasattr(obj, "jacobian") else jax.jacfwd(obj.rhs)
    return _rk4_tangent(obj.rhs, jac, scale)


@eqx.filter_jit
def _system_benettin(obj, kind: str, scale: float, x, q, n_blocks, n_transient_blocks, block: int):
    """`_benettin` of a system. The system object, its kind, the step `scale` and `block` are static (one
    compilation per system object, dt and qr_every); the block counts are traced."""
    return _benettin(_system_step(obj, kind, scale), x, q, n_blocks, n_transient_blocks, block)


def _blocks(n_steps: int, transient: int, qr_every: int) -> tuple[int, int]:
    return -(-n_steps // qr_every), -(-transient // qr_every) if transient > 0 else 0


@uses_x64
def lyapunov_spectrum(
    obj,
    n_steps: int | None = None,
    *,
    transient: int | None = None,
    dt: float | None = None,
    x0=None,
    z0=None,
    qr_every: int = 1,
    n_exponents: int | None = None,
    seed: int = 0,
    float64: bool = True,
) -> np.ndarray:
    """Lyapunov spectrum of a ground-truth system or of a model from its Jacobians (Benettin QR method).

    k tangent vectors (columns of Q, start: the first k unit vectors) are propagated along a trajectory and
    re-orthonormalised by a QR decomposition every `qr_every` steps; λ_i = (Σ log|R_ii|) / (elapsed time).
    The first `transient` steps (trajectory and tangent vectors) are not counted. Written as one jit-compiled
    loop (lax.fori_loop over QR blocks); the compilation is cached per model structure or system object and
    re-used for any n_steps/transient. Runs inside `dsrkit._precision.x64()` (float64 whatever JAX's setting).

    Supported objects:
      * flows (`obj.kind` "flow" or "pde", with `rhs` and `jacobian`; a missing jacobian is taken by
        jax.jacfwd): the trajectory and the variational equations Q' = J(x) Q are integrated together by
        classical RK4 with step `dt` (default `obj.dt`), in float64. Result per unit time.
        Defaults: n_steps = 100 000, transient = 10 000, start `obj.x0`.
      * maps (`obj.kind == "map"`, with `step` and `jacobian`): per step (per unit time if `dt` is given).
        Defaults: n_steps = 100 000, transient = 1000, start `obj.x0`.
      * models and any callable one-step map with a `jacobian(z)` method (e.g. dsrkit.models): iterated with
        `obj(z)`, per step (per unit time if `dt`). Start: `z0` (latent), else `obj.init_state(x0)`, else
        init_state of a standard-normal observation drawn with `seed`. With `float64` the model's floating
        parameters are cast to float64 first. Defaults: n_steps = 10 000, transient = 1000.
    Delay systems (`kind == "delay"`) have an infinite-dimensional state: use `max_lyapunov_from_data`.

    Args:
        n_steps: counted steps. transient: discarded steps. qr_every: steps between QR decompositions
            (default 1; larger is faster but overflows if the tangent vectors grow by more than ~1e300).
        n_exponents: k, the number of leading exponents (default: the full spectrum).

    Returns:
        np.ndarray (k,), float64, sorted in decreasing order (nan if the trajectory diverged).
    """
    qr_every = positive_int(qr_every, "qr_every")
    kind = getattr(obj, "kind", None)
    if kind == "delay":
        raise ValueError(
            "a delay system's state is infinite-dimensional: estimate λ_max from data with max_lyapunov_from_data"
        )
    if kind in ("flow", "pde"):
        if not hasattr(obj, "rhs"):
            raise TypeError(f"a flow needs an rhs(x) method; {type(obj).__name__} has none")
        scale = positive_float(obj.dt if dt is None else dt, "dt")
        state = jnp.asarray(obj.x0 if x0 is None else x0, dtype=jnp.float64)
        defaults = (100_000, 10_000)
    elif kind == "map":
        if not hasattr(obj, "step"):
            raise TypeError(f"a map needs a step(x) method; {type(obj).__name__} has none")
        state = jnp.asarray(obj.x0 if x0 is None else x0, dtype=jnp.float64)
        scale = 1.0 if dt is None else positive_float(dt, "dt")
        defaults = (100_000, 1000)
    elif callable(obj) and hasattr(obj, "jacobian"):
        model = astype(obj, jnp.float64) if float64 else obj
        state = _model_start(model, jnp.float64 if float64 else model_dtype(obj), x0, z0, seed)
        scale = 1.0 if dt is None else positive_float(dt, "dt")
        defaults = (10_000, 1000)
    else:
        raise TypeError(
            f"lyapunov_spectrum needs a flow or map system (kind, rhs/step, jacobian) or a one-step model with "
            f"a jacobian(z) method; got {type(obj).__name__}"
        )
    n_steps = positive_int(defaults[0] if n_steps is None else n_steps, "n_steps")
    transient = max(int(defaults[1] if transient is None else transient), 0)
    if state.ndim != 1:
        raise ValueError(f"the start state must have shape (dim,), got {state.shape}")
    dim = state.shape[0]
    k = dim if n_exponents is None else positive_int(n_exponents, "n_exponents")
    if k > dim:
        raise ValueError(f"n_exponents={k} exceeds the state dimension {dim}")
    nb, nt = _blocks(n_steps, transient, qr_every)
    q0 = jnp.eye(dim, k, dtype=state.dtype)
    nb_, nt_ = jnp.asarray(nb), jnp.asarray(nt)
    if kind in ("flow", "pde", "map"):
        acc = _system_benettin(obj, kind, float(scale), state, q0, nb_, nt_, qr_every)
    else:
        acc = _model_benettin(model, state, q0, nb_, nt_, qr_every)
    return np.sort(np.asarray(acc, dtype=np.float64) / (nb * qr_every * scale))[::-1]


def _model_start(model, dtype, x0, z0, seed: int) -> jax.Array:
    """Latent start: z0, else init_state(x0), else init_state of a standard-normal observation (seeded)."""
    if z0 is not None:
        return jnp.asarray(z0, dtype=dtype)
    if not hasattr(model, "init_state"):
        if x0 is None:
            raise ValueError("give z0 (the start state) for a map without init_state")
        return jnp.asarray(x0, dtype=dtype)
    if x0 is None:
        n_obs = getattr(model, "obs_dim", None)
        if n_obs is None:
            raise ValueError("give z0 (latent start) or x0: the model has no obs_dim to draw a start from")
        x0 = np.random.default_rng(seed).standard_normal(int(n_obs))
    return model.init_state(jnp.asarray(x0, dtype=dtype))


@dataclass(frozen=True)
class RosensteinResult:
    """Result of `max_lyapunov_from_data`.

    value: λ_max per unit time (slope / dt). times: (K + 1,) separation times k·dt. log_divergence: (K + 1,)
    mean log distance ⟨ln d_j(k)⟩ over the reference pairs. fit_range: (k_start, k_stop) step indices of the
    line fit (inclusive start, exclusive stop). intercept: of the fit in ⟨ln d⟩ vs k·dt. theiler: the Theiler
    window in steps. n_pairs: number of reference pairs.
    """

    value: float
    times: np.ndarray
    log_divergence: np.ndarray
    fit_range: tuple[int, int]
    intercept: float
    theiler: int
    n_pairs: int

    def __float__(self) -> float:
        return self.value


def mean_period(x: np.ndarray) -> float:
    """Mean period in steps, 1 / (power-weighted mean frequency) of the centred series (T, N), dims pooled."""
    power = (np.abs(np.fft.rfft(x - x.mean(0), axis=0)) ** 2).sum(axis=1)
    freqs = np.fft.rfftfreq(x.shape[0])
    mean_f = float(np.sum(freqs[1:] * power[1:]) / np.sum(power[1:]))
    return 1.0 / mean_f


def delay_embed(x: np.ndarray, dim: int, lag: int) -> np.ndarray:
    """Delay embedding of a (T, N) series: rows [x_t, x_{t+lag}, ..., x_{t+(dim−1)lag}], (T − (dim−1)lag, N·dim)."""
    n = x.shape[0] - (dim - 1) * lag
    if n < 2:
        raise ValueError(f"series of length {x.shape[0]} too short for embedding dim={dim}, lag={lag}")
    return np.concatenate([x[i * lag : i * lag + n] for i in range(dim)], axis=1)


def _auto_fit_range(y: np.ndarray, lo: float = 0.1, hi: float = 0.6) -> tuple[int, int]:
    """Steps where the divergence curve has climbed from `lo` to `hi` of the way from its start to its plateau."""
    rise = y.max() - y[0]
    above_lo = np.flatnonzero(y >= y[0] + lo * rise)
    above_hi = np.flatnonzero(y >= y[0] + hi * rise)
    start = int(above_lo[0]) if above_lo.size else 0
    stop = int(above_hi[0]) + 1 if above_hi.size else y.size
    if stop - start < 3:
        start, stop = max(0, start - 1), min(y.size, max(stop, start + 3))
    return start, stop


def max_lyapunov_from_data(
    X,
    dt: float,
    *,
    theiler: int | None = None,
    max_steps: int | None = None,
    fit_range: tuple[int, int] | None = None,
    n_points: int = 2000,
    embedding_dim: int | None = None,
    lag: int = 1,
) -> RosensteinResult:
    """Largest Lyapunov exponent of a time series by the method of Rosenstein, Collins & De Luca (1993).

    Each of `n_points` reference points (evenly spaced in time) is paired with its nearest neighbour (Euclidean)
    among the points more than `theiler` steps away in time; ⟨ln d_j(k)⟩, the mean over pairs of the log
    distance after k steps, is computed for k = 0..max_steps, and λ_max is the slope of a least-squares line of
    ⟨ln d⟩ against k·dt over `fit_range`.

    Args:
        X: (T, N) state series (or a scalar series (T,) with `embedding_dim`), finite.
        dt: sampling step (time units per row); the result is per unit time.
        theiler: Theiler window in steps (default: the mean period, 1 / mean frequency of the power spectrum,
            as in Rosenstein et al.).
        max_steps: K, the largest separation followed (default: 4 × theiler, at most T/10).
        fit_range: (k_start, k_stop) steps of the fit (default: automatic, the steps where the curve has risen
            from 10 % to 60 % of the way from ⟨ln d(0)⟩ to its maximum: past the initial alignment, before
            saturation at the attractor size). The range used is returned.
        n_points: number of reference points (default 2000).
        embedding_dim, lag: optional delay embedding of X first (Takens), e.g. for a scalar observable.

    Returns:
        RosensteinResult (float(result) is λ_max), with the divergence curve, fit range and Theiler window.
    """
    x = as_2d(X, "X")
    dt = positive_float(dt, "dt")
    if embedding_dim is not None:
        x = delay_embed(x, positive_int(embedding_dim, "embedding_dim"), positive_int(lag, "lag"))
    n = x.shape[0]
    w = int(round(mean_period(x))) if theiler is None else int(theiler)
    if w < 0:
        raise ValueError(f"theiler must be >= 0, got {theiler}")
    k_max = min(4 * max(w, 1), n // 10) if max_steps is None else positive_int(max_steps, "max_steps")
    m = n - k_max
    if m < 2 * w + 10:
        raise ValueError(
            f"series too short: T={n} leaves {m} candidate points for max_steps={k_max} and theiler={w}; "
            "give a longer series or smaller max_steps/theiler"
        )
    refs = np.unique(np.linspace(0, m - 1, min(positive_int(n_points, "n_points"), m)).round().astype(np.int64))
    tree = cKDTree(x[:m])
    n_query = min(2 * w + 2, m)
    dist, idx = tree.query(x[refs], k=n_query)
    dist, idx = dist.reshape(refs.size, -1), idx.reshape(refs.size, -1)
    ok = (np.abs(idx - refs[:, None]) > w) & (dist > 0)
    has = ok.any(axis=1)
    first = np.argmax(ok, axis=1)
    refs, nbrs = refs[has], idx[has, first[has]]
    if refs.size < 10:
        raise ValueError(f"only {refs.size} reference points found a neighbour outside the Theiler window {w}")
    steps = np.arange(k_max + 1)
    d = np.linalg.norm(x[refs[:, None] + steps] - x[nbrs[:, None] + steps], axis=2)
    with np.errstate(divide="ignore"):
        logd = np.log(d)
    logd = np.where(np.isfinite(logd), logd, np.nan)
    y = np.nanmean(logd, axis=0)
    start, stop = _auto_fit_range(y) if fit_range is None else (int(fit_range[0]), int(fit_range[1]))
    if not 0 <= start < stop <= y.size or stop - start < 2:
        raise ValueError(f"fit_range must satisfy 0 <= start < stop <= {y.size} with >= 2 points, got {fit_range}")
    times = steps * dt
    slope, intercept = np.polyfit(times[start:stop], y[start:stop], 1)
    return RosensteinResult(float(slope), times, y, (start, stop), float(intercept), w, int(refs.size))
