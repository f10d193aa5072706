"""Right-hand sides f(x, p) and analytic Jacobians of the native flows (JAX, x: (dim,), p: dict of float64).

Equations and parameter values are documented with their sources in ``metadata.json``.
"""

from __future__ import annotations

import jax.numpy as jnp


def _mat(rows):
    return jnp.stack([jnp.stack(r) for r in rows])


def lorenz63(x, p):
    """Lorenz (1963): x' = σ(y − x), y' = x(ρ − z) − y, z' = xy − βz."""
    s, r, b = p["sigma"], p["rho"], p["beta"]
    return jnp.stack([s * (x[1] - x[0]), x[0] * (r - x[2]) - x[1], x[0] * x[1] - b * x[2]])


def lorenz63_jac(x, p):
    s, r, b = p["sigma"], p["rho"], p["beta"]
    one, zero = jnp.ones_like(x[0]), jnp.zeros_like(x[0])
    return _mat([[-s * one, s * one, zero], [r - x[2], -one, -x[0]], [x[1], x[0], -b * one]])


def rossler(x, p):
    """Rössler (1976): x' = −y − z, y' = x + ay, z' = b + z(x − c)."""
    a, b, c = p["a"], p["b"], p["c"]
    return jnp.stack([-x[1] - x[2], x[0] + a * x[1], b + x[2] * (x[0] - c)])


def rossler_jac(x, p):
    one, zero = jnp.ones_like(x[0]), jnp.zeros_like(x[0])
    return _mat([[zero, -one, -one], [one, p["a"] * one, zero], [x[2], zero, x[0] - p["c"]]])


def lorenz96(x, p):
    """Lorenz (1996): x_i' = (x_{i+1} − x_{i−2}) x_{i−1} − x_i + F, indices cyclic, any N ≥ 4."""
    return (jnp.roll(x, -1) - jnp.roll(x, 2)) * jnp.roll(x, 1) - x + p["F"]


def lorenz96_jac(x, p):
    n = x.shape[0]
    i = jnp.arange(n)
    jac = -jnp.eye(n, dtype=x.dtype)
    jac = jac.at[i, (i + 1) % n].add(jnp.roll(x, 1))
    jac = jac.at[i, (i - 2) % n].add(-jnp.roll(x, 1))
    jac = jac.at[i, (i - 1) % n].add(jnp.roll(x, -1) - jnp.roll(x, 2))
    return jac


def _chua_g(x, m0, m1):
    return m1 * x + 0.5 * (m0 - m1) * (jnp.abs(x + 1.0) - jnp.abs(x - 1.0))


def chua(x, p):
    """Chua's circuit (dimensionless): x' = α(y − x − g(x)), y' = x − y + z, z' = −βy,
    g(x) = m1 x + (m0 − m1)(|x + 1| − |x − 1|)/2 (piecewise-linear diode)."""
    al, be = p["alpha"], p["beta"]
    return jnp.stack([al * (x[1] - x[0] - _chua_g(x[0], p["m0"], p["m1"])), x[0] - x[1] + x[2], -be * x[1]])


def chua_jac(x, p):
    al, be, m0, m1 = p["alpha"], p["beta"], p["m0"], p["m1"]
    slope = jnp.where(jnp.abs(x[0]) < 1.0, m0, m1)
    one, zero = jnp.ones_like(x[0]), jnp.zeros_like(x[0])
    return _mat([[-al * (1.0 + slope), al * one, zero], [one, -one, one], [zero, -be * one, zero]])


def thomas(x, p):
    """Thomas (1999) cyclically symmetric flow: x' = sin y − bx, y' = sin z − by, z' = sin x − bz."""
    b = p["b"]
    return jnp.sin(jnp.roll(x, -1)) - b * x


def thomas_jac(x, p):
    c = jnp.cos(x)
    zero = jnp.zeros_like(x[0])
    b = -p["b"] * jnp.ones_like(x[0])
    return _mat([[b, c[1], zero], [zero, b, c[2]], [c[0], zero, b]])


def halvorsen(x, p):
    """Halvorsen (Sprott 2010): x' = −ax − 4y − 4z − y², and cyclic permutations."""
    a = p["a"]
    y, z = jnp.roll(x, -1), jnp.roll(x, -2)
    return -a * x - 4.0 * y - 4.0 * z - y**2


def halvorsen_jac(x, p):
    a = -p["a"] * jnp.ones_like(x[0])
    return _mat([[a, -4.0 - 2.0 * x[1], -4.0 + 0 * a], [-4.0 + 0 * a, a, -4.0 - 2.0 * x[2]],
                 [-4.0 - 2.0 * x[0], -4.0 + 0 * a, a]])


def sprott_b(x, p):
    """Sprott (1994) case B: x' = yz, y' = x − y, z' = 1 − xy."""
    return jnp.stack([x[1] * x[2], x[0] - x[1], 1.0 - x[0] * x[1]])


def sprott_b_jac(x, p):
    one, zero = jnp.ones_like(x[0]), jnp.zeros_like(x[0])
    return _mat([[zero, x[2], x[1]], [one, -one, zero], [-x[1], -x[0], zero]])


def sprott_jerk(x, p):
    """Sprott (1997) simplest dissipative chaotic flow, the jerk x''' = −A x'' + (x')² − x, as a first-order
    system in (x, x', x'')."""
    return jnp.stack([x[1], x[2], -p["A"] * x[2] + x[1] ** 2 - x[0]])


def sprott_jerk_jac(x, p):
    one, zero = jnp.ones_like(x[0]), jnp.zeros_like(x[0])
    return _mat([[zero, one, zero], [zero, zero, one], [-one, 2.0 * x[1], -p["A"] * one]])


def hindmarsh_rose(x, p):
    """Hindmarsh & Rose (1984) bursting neuron: x' = y − a x³ + b x² − z + I, y' = c − d x² − y,
    z' = r (s (x − x_R) − z)."""
    v, w, u = x[0], x[1], x[2]
    return jnp.stack([w - p["a"] * v**3 + p["b"] * v**2 - u + p["I"], p["c"] - p["d"] * v**2 - w,
                      p["r"] * (p["s"] * (v - p["x_R"]) - u)])


def hindmarsh_rose_jac(x, p):
    v = x[0]
    one, zero = jnp.ones_like(v), jnp.zeros_like(v)
    return _mat([[-3.0 * p["a"] * v**2 + 2.0 * p["b"] * v, one, -one], [-2.0 * p["d"] * v, -one, zero],
                 [p["r"] * p["s"] * one, zero, -p["r"] * one]])


def duffing(x, p):
    """Unforced damped Duffing oscillator: x' = y, y' = −δy + αx − βx³ (double well for α, β > 0)."""
    return jnp.stack([x[1], -p["delta"] * x[1] + p["alpha"] * x[0] - p["beta"] * x[0] ** 3])


def duffing_jac(x, p):
    one, zero = jnp.ones_like(x[0]), jnp.zeros_like(x[0])
    return _mat([[zero, one], [p["alpha"] - 3.0 * p["beta"] * x[0] ** 2, -p["delta"] * one]])


def van_der_pol(x, p):
    """Van der Pol oscillator: x' = y, y' = μ(1 − x²)y − x."""
    return jnp.stack([x[1], p["mu"] * (1.0 - x[0] ** 2) * x[1] - x[0]])


def van_der_pol_jac(x, p):
    mu = p["mu"]
    return _mat([[jnp.zeros_like(x[0]), jnp.ones_like(x[0])],
                 [-2.0 * mu * x[0] * x[1] - 1.0, mu * (1.0 - x[0] ** 2)]])


def lotka_volterra(x, p):
    """Competitive Lotka–Volterra: x_i' = r_i x_i (1 − Σ_j a_ij x_j)."""
    return p["r"] * x * (1.0 - p["a"] @ x)


def lotka_volterra_jac(x, p):
    r, a = p["r"], p["a"]
    return jnp.diag(r * (1.0 - a @ x)) - (r * x)[:, None] * a
