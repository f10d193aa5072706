"""Kuramoto–Sivashinsky PDE u_t = −u u_x − u_xx − u_xxxx on a periodic domain [0, L), N grid points.

Pseudo-spectral in space (real FFT), ETDRK4 in time with the contour-integral evaluation of the φ-functions
(Kassam & Trefethen 2005, SIAM J. Sci. Comput. 26:1214, their program kursiv.m: 32 contour points, the Nyquist
wavenumber set to zero). Output samples are the grid values u(x_j, t), x_j = j L / N, shape (n_steps, N).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._precision import uses_x64
from . import _integrate
from ._base import System


def wavenumbers(L: float, n: int) -> np.ndarray:
    """rfft wavenumbers 2π k / L, k = 0..N/2, with the Nyquist entry set to 0 as in Kassam & Trefethen."""
    k = 2 * np.pi / L * np.arange(n // 2 + 1, dtype=np.float64)
    if n % 2 == 0:
        k[-1] = 0.0
    return k


def etdrk4_coefficients(L: float, n: int, h: float, contour_points: int = 32) -> dict:
    """E, E2, Q, f1, f2, f3 and g = −i k / 2 of ETDRK4 for step h (Kassam & Trefethen 2005, eq. 2.5 and §5)."""
    k = wavenumbers(L, n)
    lin = k**2 - k**4
    r = np.exp(1j * np.pi * (np.arange(1, contour_points + 1) - 0.5) / contour_points)
    LR = h * lin[:, None] + r[None, :]
    Q = h * np.real(np.mean((np.exp(LR / 2) - 1) / LR, axis=1))
    f1 = h * np.real(np.mean((-4 - LR + np.exp(LR) * (4 - 3 * LR + LR**2)) / LR**3, axis=1))
    f2 = h * np.real(np.mean((2 + LR + np.exp(LR) * (-2 + LR)) / LR**3, axis=1))
    f3 = h * np.real(np.mean((-4 - 3 * LR - LR**2 + np.exp(LR) * (4 - LR)) / LR**3, axis=1))
    coeffs = dict(E=np.exp(h * lin), E2=np.exp(h * lin / 2), Q=Q, f1=f1, f2=f2, f3=f3, g=-0.5j * k)
    return {name: jnp.asarray(value) for name, value in coeffs.items()}  # complex128 under dsrkit's x64()


def _nonlinear(v, g, n: int):
    u = jnp.fft.irfft(v, n=n)
    return g * jnp.fft.rfft(u * u)


def _etdrk4_step(v, c, n: int):
    Nv = _nonlinear(v, c["g"], n)
    a = c["E2"] * v + c["Q"] * Nv
    Na = _nonlinear(a, c["g"], n)
    b = c["E2"] * v + c["Q"] * Na
    Nb = _nonlinear(b, c["g"], n)
    cc = c["E2"] * a + c["Q"] * (2.0 * Nb - Nv)
    Nc = _nonlinear(cc, c["g"], n)
    return c["E"] * v + Nv * c["f1"] + 2.0 * (Na + Nb) * c["f2"] + Nc * c["f3"]


def _run(coeffs, v, n: int, substeps: int, length: int):
    def interval(w, _):
        w = jax.lax.fori_loop(0, substeps, lambda i, z: _etdrk4_step(z, coeffs, n), w)
        return w, jnp.fft.irfft(w, n=n)

    return jax.lax.scan(interval, v, None, length=length)


@functools.partial(jax.jit, static_argnames=("n", "substeps", "length", "batched"))
def _chunk(coeffs, v, *, n: int, substeps: int, length: int, batched: bool):
    """``(v, us)``: ``length`` samples of u every ``substeps`` ETDRK4 steps (v: rfft of the state)."""
    if batched:
        return jax.vmap(lambda w: _run(coeffs, w, n, substeps, length))(v)
    return _run(coeffs, v, n, substeps, length)


@functools.partial(jax.jit, static_argnames=("n", "substeps"))
def _advance(coeffs, u, *, n: int, substeps: int):
    """u(t + dt) on the grid (traceable: its Jacobian is the one-sample tangent map)."""
    return _run(coeffs, jnp.fft.rfft(u), n, substeps, 1)[1][0]


class KuramotoSivashinskySystem(System):
    """Kuramoto–Sivashinsky on [0, L) with N = ``n`` grid points; kind "pde", dim = n, output on the grid."""

    kind = "pde"

    def __init__(self, *, max_step, **metadata):
        super().__init__(**metadata)
        object.__setattr__(self, "max_step", float(max_step))

    @property
    def grid(self) -> np.ndarray:
        """Grid points x_j = j L / N, (N,)."""
        return self._params["L"] * np.arange(self._params["n"]) / self._params["n"]

    @uses_x64
    def rhs(self, x):
        return _ks_rhs_jit(jnp.asarray(x, jnp.float64), jnp.asarray(self._params["L"], jnp.float64))

    @uses_x64
    def jacobian(self, x):
        return _ks_jac_jit(jnp.asarray(x, jnp.float64), jnp.asarray(self._params["L"], jnp.float64))

    @uses_x64
    def flow_map(self, x, dt=None):
        dt = self._check_dt(dt)
        n = self._params["n"]
        substeps = _integrate.substeps_for(dt, self.max_step)
        coeffs = etdrk4_coefficients(self._params["L"], n, dt / substeps)
        return _advance(coeffs, jnp.asarray(x, jnp.float64), n=n, substeps=substeps)

    def _perturbed_x0(self, rng):
        noise = self.x0_spread * rng.standard_normal(self._x0.shape)
        return self._x0 + noise - noise.mean()  # keep the conserved mean of u unchanged

    def _simulate(self, x0, n_samples, dt, *, batched, progress, process_noise, seeds, method):
        n = self._params["n"]
        substeps = _integrate.substeps_for(dt, self.max_step)
        coeffs = etdrk4_coefficients(self._params["L"], n, dt / substeps)
        if n_samples == 1:
            return np.asarray(x0)[..., None, :]
        v0 = jnp.fft.rfft(jnp.asarray(x0, jnp.float64), axis=-1)

        def advance(v, length):
            return _chunk(coeffs, v, n=n, substeps=substeps, length=length, batched=batched)

        us = _integrate.run_chunked(advance, v0, n_samples - 1, batched=batched, progress=progress,
                                    description=self.name)
        return np.concatenate([np.asarray(x0)[..., None, :], us], axis=-2)


def _ks_rhs(u, L):
    """Semi-discrete vector field du/dt on the grid (pseudo-spectral, same wavenumbers as the integrator)."""
    n = u.shape[0]
    k = 2 * jnp.pi / L * jnp.arange(n // 2 + 1, dtype=jnp.float64)
    if n % 2 == 0:
        k = k * (jnp.arange(n // 2 + 1) < n // 2)
    v = jnp.fft.rfft(u)
    return jnp.fft.irfft((k**2 - k**4) * v - 0.5j * k * jnp.fft.rfft(u * u), n=n)


_ks_rhs_jit = jax.jit(_ks_rhs)
_ks_jac_jit = jax.jit(jax.jacfwd(_ks_rhs))
