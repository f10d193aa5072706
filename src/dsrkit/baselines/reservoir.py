"""Reservoir computing: an echo state network (ESN) and next-generation reservoir computing (NG-RC / NVAR).

Both work on internally z-scored data, learn a linear read-out by ridge regression (float64 normal equations,
`ridge` is added to the diagonal of FᵀF, i.e. it is absolute, as in reservoirpy and Gauthier et al.), predict the
increment x_{t+1} − x_t, and free-run in closed loop inside a jit-compiled `lax.scan`. reservoirpy is not needed:
the whole reservoir run and the closed loop are single compiled scans here, and the seeded construction makes fits
reproducible without global random state.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from ._base import Reconstructor, Standardised
from ._features import delay_vectors, monomial_indices, monomials, ridge
from ._params import Interval

_POSITIVE = [Interval(float, 0, None, closed="neither")]
_POSITIVE_INT = [Interval(int, 1, None)]


class ESN(Standardised, Reconstructor):
    """Leaky echo state network with a ridge read-out (Jaeger 2001; Lukoševičius 2012, "A practical guide to
    applying echo state networks"; Pathak et al. 2017 for closed-loop forecasting of chaotic flows).

    r_{t+1} = (1 − a) r_t + a tanh(W r_t + W_in [b; u_t]),   u_{t+1} = u_t + W_out [1; u_t; r_{t+1}].

    Args:
        units: reservoir size M (default 500).
        spectral_radius: largest |eigenvalue| of the sparse random W (default 0.9).
        leak: leak rate a in (0, 1] (default 0.3).
        input_scaling: W_in entries uniform in ±input_scaling (default 0.5).
        bias_scaling: bias column of W_in uniform in ±bias_scaling (default 0.5).
        connectivity: fraction of non-zero entries of W (default 0.02).
        ridge: Tikhonov regulariser of the read-out (default 1e-6).
        warmup: steps discarded at the start of every training trajectory (default 100).

    The reservoir runs in float32, the read-out is solved in float64. Free runs first drive the reservoir with the
    context (open loop), then feed predictions back (closed loop). With a single observation as context, the
    reservoir starts at zero and is driven once by it.
    """

    name = "esn"
    _bucket_steps = True
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
        feats, targets = [], []
        for z in self._set_scaler(trajectories):
            states = np.asarray(_drive(self._recurrent(), jnp.asarray(self.W_in_), np.float32(self.leak),
                                       jnp.zeros(M, jnp.float32), jnp.asarray(z[:-1], jnp.float32))[1])
            sl = slice(self.warmup, None)
            feats.append(np.hstack([np.ones((len(z) - 1, 1)), z[:-1], states.astype(np.float64)])[sl])
            targets.append((z[1:] - z[:-1])[sl])
        W_out = ridge(np.concatenate(feats), np.concatenate(targets), self.ridge)
        if not np.all(np.isfinite(W_out)):
            return self._fail("ridge read-out is not finite")
        self.W_out_ = W_out.astype(np.float32)

    def _recurrent(self):
        """W_ as a dense (W,) or, below 20 % density, a sparse (rows, cols, values) tuple of jax arrays."""
        import jax.numpy as jnp

        W = np.asarray(self.W_, np.float32)
        if np.count_nonzero(W) > 0.2 * W.size:
            return (jnp.asarray(W),)
        rows, cols = np.nonzero(W)
        return (jnp.asarray(rows, jnp.int32), jnp.asarray(cols, jnp.int32), jnp.asarray(W[rows, cols]))

    def _predict(self, context, n_steps):
        import jax.numpy as jnp

        z = jnp.asarray(self._to_z(context), jnp.float32)
        W = self._recurrent()
        W_in, W_out = jnp.asarray(self.W_in_), jnp.asarray(self.W_out_)
        leak = np.float32(self.leak)
        r = _drive(W, W_in, leak, jnp.zeros(self.units, jnp.float32), z[:-1])[0]
        return self._from_z(_closed_loop(W, W_in, W_out, leak, r, z[-1], n_steps))


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


@functools.partial(jax.jit, static_argnames=("n_steps",))
def _closed_loop(W, W_in, W_out, leak, r, u, n_steps):
    import jax.numpy as jnp

    def step(carry, _):
        r, u = carry
        r = _esn_update(W, W_in, leak, r, u)
        u = u + jnp.concatenate([jnp.ones(1, u.dtype), u, r]) @ W_out
        return (r, u), u

    return jax.lax.scan(step, (r, u), None, length=n_steps)[1]


class NVAR(Standardised, Reconstructor):
    """Next-generation reservoir computing: a nonlinear vector autoregression on time-delay monomials.

    Reference: D. J. Gauthier, E. Bollt, A. Griffith, W. A. S. Barbosa, "Next generation reservoir computing",
    Nat. Commun. 12, 5564 (2021).

    Features at time t: [1, lin_t, monomials of lin_t of degree 2..degree], lin_t = [x_t, x_{t−s}, ..., x_{t−(k−1)s}]
    (k = `delays`, s = `skip`); target x_{t+1} − x_t; ridge read-out.

    Args:
        delays: k (default 2). skip: s (default 1). degree: highest monomial degree (default 2).
        ridge: Tikhonov regulariser (default 1e-6).

    A context shorter than (k − 1)s + 1 rows is padded at the front by repeating its first row.
    """

    name = "nvar"
    _bucket_steps = True
    _parameter_constraints = {"delays": _POSITIVE_INT, "skip": _POSITIVE_INT, "degree": _POSITIVE_INT,
                              "ridge": _POSITIVE}

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
        for z in self._set_scaler(trajectories):
            H = delay_vectors(z, self.delays, self.skip)[:-1]
            feats.append(monomials(H, groups))
            targets.append(z[span + 1 :] - z[span:-1])
        W = ridge(np.concatenate(feats), np.concatenate(targets), self.ridge)
        if not np.all(np.isfinite(W)):
            return self._fail("ridge read-out is not finite")
        self.W_out_ = W

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
