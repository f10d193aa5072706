"""Kuramoto–Sivashinsky PDE u_t = −u u_x − u_xx − u_xxxx on a periodic domain [0, L), N grid points.

Pseudo-spectral in space (real FFT), ETDRK4 in time with the contour-integral evaluation of the φ-functions
(Kassam & Trefethen 2005, SIAM J. Sci. Comput. 26:1214, their program kursiv.m: 32 contour points, the Nyquist
wavenumber set to zero). Output samples are the grid values u(x_j, t), x_j = j L / N, shape (n_steps, N), or,
with the parameter ``modes = k > 0``, the state's k leading POD coordinates (see `fourier_modes`).

Reduced coordinates (``modes``). Data-driven models of KS are trained in a reduced state in the published work:
POD/PCA coordinates (Vlachas et al. 2018, Proc. R. Soc. A 474:20170844, KS at L = 22 in its leading modes;
Linot & Graham 2020, Phys. Rev. E 101:062209, KS at L = 22 on an 8-dimensional inertial manifold). On a periodic
domain KS is translation invariant, so the two-point correlation of u depends on x − x' only and its
eigenfunctions, the POD modes, are the Fourier modes cos(q_j x), sin(q_j x), q_j = 2π j / L (Holmes, Lumley &
Berkooz 1996, "Turbulence, Coherent Structures, Dynamical Systems and Symmetry", §3.3.3; Sirovich 1987). The POD
coordinates are therefore the Fourier amplitudes, computed exactly from each sample without fitting a basis to
data: with ``modes = k``, u(x) = ū + Σ_{j≥1} a_j cos(q_j x) + b_j sin(q_j x) and a sample is
(a_1, b_1, ..., a_k, b_k). At L = 22 the unstable wavenumbers are j = 1, 2, 3 (q_j < 1), the spectrum peaks
there, and j ≤ 4 carries most of the variance (`benchmarks/ks_task.py` prints the fraction). The integration,
``x0``, ``rhs``, ``jacobian``, ``flow_map`` and the Lyapunov reference stay on the grid state; only the samples
a trajectory returns are the k modes (an observation of the full state, like any measurement).
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


def fourier_modes(u, k: int) -> np.ndarray:
    """The POD (Fourier) coordinates of grid samples u (..., n): (..., 2k) = (a_1, b_1, ..., a_k, b_k) with
    u(x) = ū + Σ_j a_j cos(2π j x / L) + b_j sin(2π j x / L), i.e. a_j = 2 Re û_j, b_j = −2 Im û_j for
    û_j = (1/n) Σ_m u(x_m) exp(−2πi j m / n). Requires 1 <= k < n / 2 (the Nyquist mode is zero)."""
    u = np.asarray(u, dtype=np.float64)
    n = u.shape[-1]
    if not 1 <= k < n // 2:
        raise ValueError(f"modes must be in [1, n/2 - 1] = [1, {n // 2 - 1}] for n = {n}, got {k}")
    c = np.fft.rfft(u, axis=-1)[..., 1 : k + 1] / n
    return np.stack([2.0 * c.real, -2.0 * c.imag], axis=-1).reshape(u.shape[:-1] + (2 * k,))


class KuramotoSivashinskySystem(System):
    """Kuramoto–Sivashinsky on [0, L) with N = ``n`` grid points; kind "pde".

    ``modes = 0`` (default): samples are u on the grid, dim = n. ``modes = k > 0``: samples are the k leading POD
    (Fourier) coordinates (a_1, b_1, ..., a_k, b_k), dim = 2k (see the module docstring); the state (x0, rhs,
    jacobian, flow_map) stays the grid."""

    kind = "pde"

    def __init__(self, *, max_step, **metadata):
        super().__init__(**metadata)
        object.__setattr__(self, "max_step", float(max_step))
        k = int(self._params.get("modes", 0))
        if k:
            n = self._params["n"]
            if not 1 <= k < n // 2:
                raise ValueError(f"kuramoto_sivashinsky.modes must be 0 (grid values) or in [1, n/2 - 1] = "
                                 f"[1, {n // 2 - 1}] for n = {n}, got {k}")
            object.__setattr__(self, "dim", 2 * k)
            object.__setattr__(self, "_variables", tuple(f"{ab}{j}" for j in range(1, k + 1) for ab in "ab"))

    @property
    def modes(self) -> int:
        """Number of POD (Fourier) modes a sample holds; 0 when samples are the grid values."""
        return int(self._params.get("modes", 0))

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
            U = np.asarray(x0)[..., None, :]
            return fourier_modes(U, self.modes) if self.modes else U
        v0 = jnp.fft.rfft(jnp.asarray(x0, jnp.float64), axis=-1)

        def advance(v, length):
            return _chunk(coeffs, v, n=n, substeps=substeps, length=length, batched=batched)

        us = _integrate.run_chunked(advance, v0, n_samples - 1, batched=batched, progress=progress,
                                    description=self.name)
        U = np.concatenate([np.asarray(x0)[..., None, :], us], axis=-2)
        return fourier_modes(U, self.modes) if self.modes else U


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
