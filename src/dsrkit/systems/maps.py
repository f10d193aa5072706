"""Native maps F(x, p) and analytic Jacobians (JAX, x: (dim,), p: dict of float64). Sources in metadata.json."""

from __future__ import annotations

import jax.numpy as jnp


def logistic(x, p):
    """Logistic map x' = r x (1 − x) (May 1976)."""
    return p["r"] * x * (1.0 - x)


def logistic_jac(x, p):
    return (p["r"] * (1.0 - 2.0 * x))[:, None]


def henon(x, p):
    """Hénon (1976) map: x' = 1 − a x² + y, y' = b x."""
    return jnp.stack([1.0 - p["a"] * x[0] ** 2 + x[1], p["b"] * x[0]])


def henon_jac(x, p):
    return jnp.stack([jnp.stack([-2.0 * p["a"] * x[0], jnp.ones_like(x[0])]),
                      jnp.stack([p["b"] * jnp.ones_like(x[0]), jnp.zeros_like(x[0])])])


def leslie_predator_prey(x, p):
    """Age-structured prey (juveniles J, adults A; Leslie matrix with Ricker density-dependent fecundity) with a
    Nicholson–Bailey predator P that attacks the prey entering the adult class:

        J' = f A exp(−c (J + A)),   A' = (s J + v A) exp(−a P),   P' = e (s J + v A) (1 − exp(−a P)).
    """
    J, A, P = x[0], x[1], x[2]
    escape = jnp.exp(-p["a"] * P)
    recruits = p["s"] * J + p["v"] * A
    return jnp.stack([p["f"] * A * jnp.exp(-p["c"] * (J + A)), recruits * escape, p["e"] * recruits * (1.0 - escape)])


def leslie_predator_prey_jac(x, p):
    J, A, P = x[0], x[1], x[2]
    f, c, s, v, a, e = p["f"], p["c"], p["s"], p["v"], p["a"], p["e"]
    birth = f * jnp.exp(-c * (J + A))
    escape = jnp.exp(-a * P)
    recruits = s * J + v * A
    return jnp.stack([
        jnp.stack([-c * A * birth, birth * (1.0 - c * A), jnp.zeros_like(J)]),
        jnp.stack([s * escape, v * escape, -a * recruits * escape]),
        jnp.stack([e * s * (1.0 - escape), e * v * (1.0 - escape), e * a * recruits * escape]),
    ])
