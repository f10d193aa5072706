"""Reservoir computing: an echo state network (ESN) and next-generation reservoir computing (NG-RC / NVAR).

Both work on internally z-scored data, learn a linear read-out by ridge regression (float64 normal equations,
`ridge` is added to the diagonal of FᵀF, i.e. it is absolute, as in reservoirpy and Gauthier et al.) and free-run in
closed loop inside a jit-compiled `lax.scan`. The ESN predicts the next observation from the reservoir state (as
Pathak et al. 2017 and reservoirpy), NG-RC the increment x_{t+1} − x_t (as Gauthier et al. 2021). Both guard the
read-out against a free run that leaves the data (`_RidgeGuard`: the ridge is raised only when a free run on the
training data diverges). reservoirpy is not needed: the whole reservoir run and the closed loop are single compiled
scans here, and the seeded construction makes fits reproducible without global random state.
`benchmarks/baselines_vs_reference.py` compares both, at their defaults, with reservoirpy used directly.
"""

from __future__ import annotations

import functools
from typing import ClassVar

import jax
import numpy as np

from ._base import Reconstructor, Standardised
from ._features import delay_vectors, monomial_indices, monomials
from ._params import Interval

_POSITIVE = [Interval(float, 0, None, closed="neither")]
_POSITIVE_INT = [Interval(int, 1, None)]
#: ESN: most start-state anchors kept by a fit; rows per block of the read-out's normal equations
_ANCHORS = 1000
_BLOCK = 8192


def _solve(G: np.ndarray, B: np.ndarray, alpha: float) -> np.ndarray | None:
    """(G + alpha I)⁻¹ B in float64 (least squares if singular); None if not finite."""
    G = np.array(G, dtype=np.float64)
    G[np.diag_indices_from(G)] += alpha
    try:
        W = np.linalg.solve(G, B)
    except np.linalg.LinAlgError:
        W = np.linalg.lstsq(G, B, rcond=None)[0]
    return W if np.all(np.isfinite(W)) else None


class _RidgeGuard:
    """The divergence guard of the ridge read-out, shared by ESN and NVAR.

    The read-out is solved with `ridge`; then the model runs freely from the start of the longest training
    trajectory (after its warm-up context) for 1.25 L steps, L = min(its remaining length, 20 000), the evaluation
    protocol's length. If that run leaves the region in which `generate` reports divergence (`_guard`: non-finite
    or more than `divergence_factor` half-ranges from the centre of the training data), the ridge is multiplied
    by 100 and the read-out solved again, up to `ridge · 10⁸`; the first ridge whose run stays inside is kept. A
    model whose training run stays inside with `ridge` (every ESN fit of `benchmarks/baselines_vs_reference.py` at
    50 000 points, and every NVAR fit there but Aizawa's) is exactly the plain ridge fit. If no ridge helps, `ridge`
    itself is kept. Learned: `ridge_`, the ridge used. Cost: one free run of at most 25 000 steps per try.
    """

    _CHECK_STEPS = 20_000
    _RIDGE_FACTOR, _RIDGE_TRIES = 100.0, 5

    def _fit_ridge(self, solve, context: np.ndarray, length: int) -> None:
        n = int(round(1.25 * max(min(length, self._CHECK_STEPS), 1)))
        alphas = [float(f"{self.ridge * self._RIDGE_FACTOR ** k:.12g}") for k in range(self._RIDGE_TRIES)]
        for alpha in alphas:
            if not solve(alpha):
                break
            self.ridge_ = alpha
            m = max(32, 1 << (n - 1).bit_length())  # generate's power-of-two bucket: compiled once
            with np.errstate(all="ignore"):
                Y = np.asarray(self._predict(self._from_z(context), m))[:n]
                centre = 0.5 * (self.data_max_ + self.data_min_)
                half = np.maximum(0.5 * (self.data_max_ - self.data_min_), 1e-12)
                if np.all(np.isfinite(Y)) and not np.any(np.abs(Y - centre) > self.divergence_factor * half):
                    return
        if not solve(self.ridge):
            return self._fail("ridge read-out is not finite")
        self.ridge_ = self.ridge


class ESN(_RidgeGuard, Standardised, Reconstructor):
    """Leaky echo state network with a ridge read-out (Jaeger 2001; Lukoševičius 2012, "A practical guide to
    applying echo state networks"; Pathak et al. 2017, Phys. Rev. Lett. 120, 024102, for closed-loop forecasting of
    chaotic flows).

    r_{t+1} = (1 − a) r_t + a tanh(W r_t + W_in [b; u_t]),   u_{t+1} = W_out [1; r_{t+1}].

    Args:
        units: reservoir size M (default 500).
        spectral_radius: largest |eigenvalue| of the sparse random W (default 0.9).
        leak: leak rate a in (0, 1] (default 0.3).
        input_scaling: W_in entries uniform in ±input_scaling (default 0.5).
        bias_scaling: bias column of W_in uniform in ±bias_scaling (default 0.5).
        connectivity: fraction of non-zero entries of W (default 0.02).
        ridge: Tikhonov regulariser of the read-out (default 1e-6).
        warmup: steps discarded at the start of every training trajectory (default 100).

    Read-out: the next observation itself from the reservoir state, u_{t+1} = W_out [1; r_{t+1}], as in Pathak et
    al. (2017) and reservoirpy's `Reservoir >> Ridge`. Every |r_i| ≤ 1 (tanh and a leaky average), so the closed
    loop is bounded by construction: ‖u‖ ≤ ‖W_out‖ √(M + 1). dsrkit first predicted the increment,
    u_{t+1} = u_t + W_out [1; u_t; r_{t+1}]; that loop sums its one-step errors and has no such bound. On nine
    dysts flows (5 % noise, 50 000 training and 50 000 test points, `benchmarks/baselines_vs_reference.py`) the
    former ESN scored D_stsp 15.8, 15.0 and 8.7 on Rössler, Halvorsen and Dadras against 15.2, 0.15 and 0.91 for
    reservoirpy's ESN (1000 units); this one scores 0.20, 0.11 and 0.18 (median of 3 seeds), within 1.5× of
    reservoirpy or better on all nine flows.

    Start state: a free run or forecast that is given one observation (the evaluation protocol's case) used to start
    the reservoir at r = 0 and drive it once: a state the read-out never saw, from which the closed loop fell onto a
    spurious fixed point (Halvorsen 15.0 with the zero start, 0.12 with the one below, same read-out). The fit keeps
    up to 1000 anchors, training inputs u_t on a regular grid with the reservoir state just before u_t was fed; a
    run starts from the state of the anchor nearest (Euclidean, standardised units) to the first context row and
    then drives the reservoir through the context (open loop) before feeding its predictions back (closed loop).
    With a long context the start state is forgotten (echo state property) and this is the usual open-loop
    warm-up.

    Noise insertion (Jaeger 2001; Lukoševičius 2012; Wikner et al. 2024, Neural Netw. 170, 94, "Stabilizing machine
    learning prediction of dynamics"): while fitting, the inputs that drive the reservoir carry Gaussian noise of std `input_noise` = 0.01
    (standardised units; a class attribute, not a hyperparameter), the targets do not. On clean data the read-out
    otherwise learns a map that is exact on the training orbit and unstable next to it: on clean Rössler (20 000
    training points, suite "core") the free run collapsed (D_stsp 14.2, as reservoirpy's) and scores 0.30–0.41 with
    it; on 5 % noisy data it changes little.

    Ridge: `ridge` is raised only when a free run on the training data leaves the data (`_RidgeGuard`, learned
    `ridge_`); with 1000 noisy training points (suite "core", --fast) 1e-6 gives a free run outside the data.

    The reservoir runs in float32, the read-out is solved in float64 (normal equations accumulated in blocks of
    rows, so a fit on 100 000 points needs O(M²) memory, not a (T, M) float64 copy; about 5 s on 2 cores). Files
    written before the direct read-out (W_out with 1 + N + M rows, no anchors) are still read and run as they were
    fitted.
    """

    name = "esn"
    _bucket_steps = True
    #: std of the Gaussian noise added to the reservoir's inputs while fitting (standardised units; noise insertion)
    input_noise: ClassVar[float] = 0.01
    _parameter_constraints = {
        "units": _POSITIVE_INT,
        "spectral_radius": _POSITIVE,
        "leak": [Interval(float, 0, 1, closed="right")],
        "input_scaling": _POSITIVE,
        "bias_scaling": [Interval(float, 0, None)],
        "connectivity": [Interval(float, 0, 1, closed="right")],
        "ridge": _POSITIVE,
        "warmup": [Interval(int, 0, None)],
    }
    # Tuned (dsrkit.bench.tuning), the default first: the parameters Lukoševičius (2012, "A practical guide to
    # applying echo state networks", sec. 3.2) names as the ones to tune, spectral radius, leak rate, input scaling
    # and the read-out's ridge; values inside the ranges of reservoirpy's random-search tutorial (spectral radius
    # log-uniform in [1e-2, 10], leak rate in [1e-3, 1]; Trouvain & Hinaut 2021, ICANN, "Which hype for my new
    # task?") and around its forecasting tutorials' setting (sr 1.25, lr 0.3, input scaling 1, ridge 1e-8).
    _search_space = {
        "spectral_radius": [0.9, 0.5, 1.25],
        "leak": [0.3, 0.1, 1.0],
        "input_scaling": [0.5, 0.1, 1.0],
        "ridge": [1e-6, 1e-8, 1e-4],
    }

    def __init__(self, units: int = 500, spectral_radius: float = 0.9, leak: float = 0.3, input_scaling: float = 0.5,
                 bias_scaling: float = 0.5, connectivity: float = 0.02, ridge: float = 1e-6, warmup: int = 100):
        self.units = units
        self.spectral_radius = spectral_radius
        self.leak = leak
        self.input_scaling = input_scaling
        self.bias_scaling = bias_scaling
        self.connectivity = connectivity
        self.ridge = ridge
        self.warmup = warmup

    def _min_length(self):
        return self.warmup + 3

    def _fit(self, trajectories, dt, seed):
        import jax.numpy as jnp

        rng = np.random.default_rng(seed)
        M, N = self.units, self.dim_
        W = rng.normal(size=(M, M)) * (rng.random((M, M)) < self.connectivity)
        rho = _spectral_radius(W)
        W = W * (self.spectral_radius / rho) if rho > 0 else W
        W_in = rng.uniform(-1, 1, size=(M, N + 1))
        W_in[:, 0] *= self.bias_scaling
        W_in[:, 1:] *= self.input_scaling
        self.W_ = W.astype(np.float32)
        self.W_in_ = W_in.astype(np.float32)
        rec, W_in_j, leak = self._recurrent(), jnp.asarray(self.W_in_), np.float32(self.leak)
        zs = self._set_scaler(trajectories)
        # anchors: the inputs u_t, t = first, first + stride, ... (at most about _ANCHORS over all trajectories),
        # each with the reservoir state just before u_t was fed
        first = max(self.warmup, 1)
        stride = max(1, -(-sum(len(z) - first for z in zs) // _ANCHORS))
        G = np.zeros((M + 1, M + 1))
        B = np.zeros((M + 1, N))
        anchor_u, anchor_r = [], []
        for z in zs:
            anchors = np.arange(first, len(z), stride)
            r = jnp.zeros(M, jnp.float32)
            for s in range(0, len(z) - 1, _BLOCK):
                e = min(s + _BLOCK, len(z) - 1)  # states[i] = state after input z[s + i], i < e - s
                u = z[s:e] + self.input_noise * rng.standard_normal((e - s, N))  # noise insertion (docstring)
                r, states = _drive(rec, W_in_j, leak, r, jnp.asarray(u, jnp.float32))
                states = np.asarray(states)
                ts = anchors[(anchors > s) & (anchors <= e)]
                anchor_u.append(z[ts])
                anchor_r.append(states[ts - 1 - s])
                lo = max(self.warmup - s, 0)
                if lo < e - s:
                    F = np.hstack([np.ones((e - s - lo, 1)), states[lo:].astype(np.float64)])
                    G += F.T @ F
                    B += F.T @ z[s + 1 + lo : e + 1]
        self.anchor_inputs_ = np.concatenate(anchor_u)
        self.anchor_states_ = np.concatenate(anchor_r).astype(np.float32)
        longest = max(zs, key=len)

        def solve(alpha):
            W_out = _solve(G, B, alpha)
            if W_out is not None:
                self.W_out_ = W_out.astype(np.float32)
            return W_out is not None

        self._fit_ridge(solve, longest[: self.warmup + 1], len(longest) - self.warmup)

    def _recurrent(self):
        """W_ as a dense (W,) or, below 20 % density, a sparse (rows, cols, values) tuple of jax arrays."""
        import jax.numpy as jnp

        W = np.asarray(self.W_, np.float32)
        if np.count_nonzero(W) > 0.2 * W.size:
            return (jnp.asarray(W),)
        rows, cols = np.nonzero(W)
        return (jnp.asarray(rows, jnp.int32), jnp.asarray(cols, jnp.int32), jnp.asarray(W[rows, cols]))

    def _start_state(self, u0: np.ndarray) -> np.ndarray:
        """Reservoir state to start a run whose first input is u0 (standardised): the state of the nearest anchor;
        zero for a model saved without anchors."""
        anchors = getattr(self, "anchor_inputs_", None)
        if anchors is None or len(anchors) == 0:
            return np.zeros(self.units, np.float32)
        return np.asarray(self.anchor_states_[int(np.argmin(((anchors - u0) ** 2).sum(axis=1)))], np.float32)

    def _predict(self, context, n_steps):
        import jax.numpy as jnp

        z = self._to_z(context)
        W = self._recurrent()
        W_in, W_out = jnp.asarray(self.W_in_), jnp.asarray(self.W_out_)
        leak = np.float32(self.leak)
        z32 = jnp.asarray(z, jnp.float32)
        r = _drive(W, W_in, leak, jnp.asarray(self._start_state(z[0])), z32[:-1])[0]
        increment = self.W_out_.shape[0] == 1 + self.dim_ + self.units  # a model saved before the direct read-out
        return self._from_z(_closed_loop(W, W_in, W_out, leak, r, z32[-1], n_steps, increment=increment))


def _spectral_radius(W: np.ndarray) -> float:
    """Largest |eigenvalue| of W: ARPACK on the sparse matrix (deterministic start vector), dense eig as fallback."""
    if W.shape[0] > 50:
        import scipy.sparse
        import scipy.sparse.linalg

        try:
            lam = scipy.sparse.linalg.eigs(scipy.sparse.csr_matrix(W), k=1, which="LM", v0=np.ones(W.shape[0]),
                                           return_eigenvectors=False, maxiter=10_000, tol=1e-8)
            return float(np.abs(lam).max())
        except scipy.sparse.linalg.ArpackNoConvergence:
            pass
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def _recurrent_matvec(rec, r):
    """W r for rec = (W,) dense or (rows, cols, values) sparse (row-sorted coordinates)."""
    import jax

    if len(rec) == 1:
        return rec[0] @ r
    rows, cols, vals = rec
    return jax.ops.segment_sum(vals * r[cols], rows, num_segments=r.shape[0], indices_are_sorted=True)


def _esn_update(W, W_in, leak, r, u):
    import jax.numpy as jnp

    pre = _recurrent_matvec(W, r) + W_in[:, 0] + W_in[:, 1:] @ u
    return (1 - leak) * r + leak * jnp.tanh(pre)


@jax.jit
def _drive(W, W_in, leak, r0, U):
    def step(r, u):
        r = _esn_update(W, W_in, leak, r, u)
        return r, r

    return jax.lax.scan(step, r0, U)


@functools.partial(jax.jit, static_argnames=("n_steps", "increment"))
def _closed_loop(W, W_in, W_out, leak, r, u, n_steps, increment=False):
    """Closed loop: u_{t+1} = W_out [1; r_{t+1}] (or, for models saved before the direct read-out,
    u_{t+1} = u_t + W_out [1; u_t; r_{t+1}])."""
    import jax.numpy as jnp

    def step(carry, _):
        r, u = carry
        r = _esn_update(W, W_in, leak, r, u)
        if increment:
            u = u + jnp.concatenate([jnp.ones(1, u.dtype), u, r]) @ W_out
        else:
            u = W_out[0] + r @ W_out[1:]
        return (r, u), u

    return jax.lax.scan(step, (r, u), None, length=n_steps)[1]


class NVAR(_RidgeGuard, Standardised, Reconstructor):
    """Next-generation reservoir computing: a nonlinear vector autoregression on time-delay monomials.

    Reference: D. J. Gauthier, E. Bollt, A. Griffith, W. A. S. Barbosa, "Next generation reservoir computing",
    Nat. Commun. 12, 5564 (2021).

    Features at time t: [1, lin_t, monomials of lin_t of degree 2..degree], lin_t = [x_t, x_{t−s}, ..., x_{t−(k−1)s}]
    (k = `delays`, s = `skip`); target x_{t+1} − x_t; ridge read-out.

    Args:
        delays: k (default 2). skip: s (default 1). degree: highest monomial degree (default 2).
        ridge: Tikhonov regulariser (default 1e-6).

    A context shorter than (k − 1)s + 1 rows is completed from the training data before the nearest training
    state (`Reconstructor._history_before`).

    The defaults are Gauthier et al.'s Lorenz-63 setting (they used ridge 2.5e-6), the setting of reservoirpy's
    NG-RC tutorial. On nine dysts flows with 5 % noise sampled at 100 points per period (50 000 training points,
    `benchmarks/baselines_vs_reference.py`) dsrkit's NVAR and reservoirpy's `NVAR >> Ridge` give the same D_stsp
    to within 20 % on every flow, and both are poor on most of them (e.g. Lorenz 15.6, Rössler 12.8: at this
    sampling the one-step delay difference is mostly noise). Longer delays help some flows (k = 3, s = 5: Lorenz
    0.15, Rössler 4.1) but diverge on others (Dadras), so the defaults were kept. The read-out has the divergence
    guard of `_RidgeGuard` (learned `ridge_`): there, the default diverged on Aizawa like reservoirpy's (which has no
    such guard); with the guard the ridge rises to 100 and the free run stays bounded (D_stsp 14.5).
    """

    name = "nvar"
    _bucket_steps = True
    _parameter_constraints = {"delays": _POSITIVE_INT, "skip": _POSITIVE_INT, "degree": _POSITIVE_INT,
                              "ridge": _POSITIVE}
    # Tuned (dsrkit.bench.tuning), the default first: Gauthier et al. (2021) set k = 2, s = 1 and ridge 2.5e-6 for
    # Lorenz-63 at dt = 0.025 and tune the ridge per system (1e-8 to 1e-4 in their examples); at 100 samples per
    # period the one-step delay difference is mostly noise and longer spans help (k = 3, s = 5: Lorenz 0.15 instead
    # of 15.6, this class's docstring), so the delay span is searched too. The degree stays 2 (quadratic, their
    # Lorenz-63 choice): degree 3 on delay vectors of Lorenz-96 (40 coordinates) has 12 341 monomials.
    _search_space = {
        "delays": [2, 3, 4],
        "skip": [1, 2, 5, 10],
        "ridge": [1e-6, 1e-8, 1e-4, 1e-2],
    }

    def __init__(self, delays: int = 2, skip: int = 1, degree: int = 2, ridge: float = 1e-6):
        self.delays = delays
        self.skip = skip
        self.degree = degree
        self.ridge = ridge

    def _span(self):
        return (self.delays - 1) * self.skip

    def _min_length(self):
        return self._span() + 3

    def _context_steps(self):
        return self._span() + 1

    def _groups(self):
        return monomial_indices(self.delays * self.dim_, self.degree)

    def _fit(self, trajectories, dt, seed):
        span, groups = self._span(), self._groups()
        feats, targets = [], []
        zs = self._set_scaler(trajectories)
        for z in zs:
            H = delay_vectors(z, self.delays, self.skip)[:-1]
            feats.append(monomials(H, groups))
            targets.append(z[span + 1 :] - z[span:-1])
        F, Y = np.concatenate(feats), np.concatenate(targets)
        G, B = F.T @ F, F.T @ Y
        longest = max(zs, key=len)

        def solve(alpha):
            W = _solve(G, B, alpha)
            if W is not None:
                self.W_out_ = W
            return W is not None

        self._fit_ridge(solve, longest[: span + 1], len(longest) - span)

    def _predict(self, context, n_steps):
        import jax.numpy as jnp

        span = self._span()
        groups = tuple(tuple(map(tuple, g.tolist())) if g.shape[1] else ((),) for g in self._groups())
        buf0 = jnp.asarray(self._to_z(context[-(span + 1) :])[::-1])  # buf[0] is the most recent
        return self._from_z(_nvar_run(jnp.asarray(self.W_out_), buf0, groups=groups, skip=self.skip,
                                      delays=self.delays, n_steps=n_steps))


@functools.partial(jax.jit, static_argnames=("groups", "skip", "delays", "n_steps"))
def _nvar_run(W, buf, groups, skip, delays, n_steps):
    import jax.numpy as jnp

    idx = [np.array(g, dtype=np.int64).reshape(len(g), len(g[0])) for g in groups]

    def step(buf, _):
        h = buf[::skip][:delays].reshape(-1)
        z = buf[0] + monomials(h, idx, jnp) @ W
        return jnp.concatenate([z[None], buf[:-1]]), z

    return jax.lax.scan(step, buf, None, length=n_steps)[1]
