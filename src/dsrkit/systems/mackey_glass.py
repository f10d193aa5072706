"""Mackey–Glass delay equation x'(t) = β x(t−τ) / (1 + x(t−τ)^n) − γ x(t), observed as a delay embedding.

Integration: classical RK4 with fixed step h = dt / ceil(dt / max_step) on a ring buffer of past values and
derivatives; the delayed values at the stage times (t − τ, t + h/2 − τ, t + h − τ) come from cubic Hermite
interpolation between grid points, which keeps the method 4th order for any τ / h (the approach of
Bellen & Zennaro 2003, "Numerical methods for delay differential equations", ch. 4 on continuous extensions).

Observation: the embedding (x(t), x(t − lag), ..., x(t − (d−1) lag)) with d = ``embedding_dim`` (default 4) and
lag = ``embedding_lag`` (default 6 time units, the classic choice for τ = 17 of Lapedes & Farber 1987 and
Casdagli 1989; lag must be a multiple of dt). The initial condition x0 (d,) is read the same way: the
history x(−k·lag) = x0[k], linear in between and constant x0[d−1] before −(d−1)·lag. The default
x0 = 1.2 everywhere is the constant history of Mackey & Glass (1977).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._precision import uses_x64
from . import _integrate
from ._base import System, traced_params


def mackey_glass_rhs(x, x_tau, p):
    """dx/dt given the current value x and the delayed value x(t − τ)."""
    return p["beta"] * x_tau / (1.0 + x_tau ** p["n"]) - p["gamma"] * x


def _hermite(xbuf, fright, fleft, q, h, size):
    """Cubic Hermite value at fractional grid position q from values and one-sided derivatives at the nodes."""
    j = jnp.floor(q)
    th = q - j
    j = j.astype(jnp.int64)
    a, b = j % size, (j + 1) % size
    h00 = (1.0 + 2.0 * th) * (1.0 - th) ** 2
    h10 = th * (1.0 - th) ** 2
    h01 = th**2 * (3.0 - 2.0 * th)
    h11 = th**2 * (th - 1.0)
    return h00 * xbuf[a] + h10 * h * fright[a] + h01 * xbuf[b] + h11 * h * fleft[b]


@functools.partial(jax.jit, static_argnames=("size", "substeps", "length", "batched"))
def _chunk(params, state, dt, *, size: int, substeps: int, length: int, batched: bool):
    """``(state, xs)``; state = (x, right and left derivative buffers, step, x).

    Left and right derivatives differ only at t = 0, where the history meets the solution (x' jumps there);
    keeping both makes the interpolation across t = 0 exact for the history side and keeps 4th order.
    """

    def run(state):
        h = dt / substeps
        lag_steps = params["tau"] / h

        def rk4(carry, _):
            xbuf, fright, fleft, i, x = carry
            fi = i.astype(jnp.float64)
            slot = i % size
            k1 = mackey_glass_rhs(x, _hermite(xbuf, fright, fleft, fi - lag_steps, h, size), params)
            xbuf, fright = xbuf.at[slot].set(x), fright.at[slot].set(k1)
            fleft = fleft.at[slot].set(jnp.where(i == 0, fleft[slot], k1))
            x_half = _hermite(xbuf, fright, fleft, fi + 0.5 - lag_steps, h, size)
            x_one = _hermite(xbuf, fright, fleft, fi + 1.0 - lag_steps, h, size)
            k2 = mackey_glass_rhs(x + 0.5 * h * k1, x_half, params)
            k3 = mackey_glass_rhs(x + 0.5 * h * k2, x_half, params)
            k4 = mackey_glass_rhs(x + h * k3, x_one, params)
            return (xbuf, fright, fleft, i + 1, x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)), None

        def interval(carry, _):
            carry, _ = jax.lax.scan(rk4, carry, None, length=substeps)
            return carry, carry[4]

        return jax.lax.scan(interval, state, None, length=length)

    return jax.vmap(run)(state) if batched else run(state)


class MackeyGlassSystem(System):
    """Mackey & Glass (1977) delay equation observed through a delay embedding; kind "delay", dim = embedding_dim."""

    kind = "delay"

    def __init__(self, *, max_step, **metadata):
        super().__init__(**metadata)
        object.__setattr__(self, "max_step", float(max_step))
        object.__setattr__(self, "_jparams", traced_params(self._params))

    @uses_x64
    def rhs_delay(self, x, x_tau):
        """dx/dt = β x_τ / (1 + x_τ^n) − γ x for current value x and delayed value x_τ."""
        return mackey_glass_rhs(jnp.asarray(x, jnp.float64), jnp.asarray(x_tau, jnp.float64), self._jparams)

    def jacobian(self, x):
        raise NotImplementedError("the Mackey–Glass state is a history function (infinite-dimensional); "
                                  "use rhs_delay for the local partial derivatives")

    def _history(self, x0, times, side="right"):
        """History φ(t) and its one-sided derivative (``side`` "left" or "right") at times <= 0 from the embedding
        vector x0 (d,) (see module docstring)."""
        lag = self._params["embedding_lag"]
        knots = -lag * np.arange(len(x0))[::-1]
        values = np.asarray(x0)[::-1]
        phi = np.interp(times, knots, values)
        if len(x0) == 1:
            return phi, np.zeros_like(phi)
        slope = np.diff(values) / lag
        seg = np.clip(np.searchsorted(knots, times, side=side) - 1, 0, len(slope) - 1)
        before = times <= knots[0] if side == "left" else times < knots[0]
        return phi, np.where(before, 0.0, slope[seg])

    def _simulate(self, x0, n_samples, dt, *, batched, progress, process_noise, seeds, method):
        d, lag = self._params["embedding_dim"], self._params["embedding_lag"]
        lag_samples = round(lag / dt)
        if abs(lag_samples * dt - lag) > 1e-9 * lag or lag_samples < 1:
            raise ValueError(f"embedding_lag={lag} must be a positive multiple of dt={dt} for {self.name}")
        substeps = _integrate.substeps_for(dt, self.max_step)
        h = dt / substeps
        if self._params["tau"] < 2 * h:
            raise ValueError(f"tau={self._params['tau']} must be at least twice the internal step {h}")
        size = math.ceil(self._params["tau"] / h) + 3
        rows = np.atleast_2d(x0)
        steps = np.arange(-(size - 1), 1)
        states = []
        for row in rows:
            phi, right = self._history(row, h * steps, "right")
            left = self._history(row, h * steps, "left")[1]
            xbuf, fright, fleft = np.zeros(size), np.zeros(size), np.zeros(size)
            xbuf[steps % size], fright[steps % size], fleft[steps % size] = phi, right, left
            states.append((xbuf, fright, fleft, np.int64(0), np.float64(row[0])))
        state = jax.tree.map(lambda *a: jnp.asarray(np.stack(a)), *states)
        if not batched:
            state = jax.tree.map(lambda a: a[0], state)
        dt_j = jnp.asarray(dt, jnp.float64)

        def advance(carry, length):
            return _chunk(self._jparams, carry, dt_j, size=size, substeps=substeps, length=length, batched=batched)

        n_scalar = n_samples - 1
        series = np.atleast_2d(_integrate.run_chunked(advance, state, n_scalar, batched=batched, progress=progress,
                                                      description=self.name)) if n_scalar else np.zeros((len(rows), 0))
        past_times = -dt * np.arange((d - 1) * lag_samples, 0, -1)
        full = np.stack([np.concatenate([self._history(row, past_times)[0], [row[0]], s])
                         for row, s in zip(rows, series)])
        offset = (d - 1) * lag_samples
        emb = np.stack([full[:, offset - k * lag_samples: offset - k * lag_samples + n_samples] for k in range(d)],
                       axis=-1)
        return emb if batched else emb[0]
