"""Shared numerics of the baselines: monomials, time-delay vectors, ridge regression."""

from __future__ import annotations

import itertools

import numpy as np


def monomial_indices(n_vars: int, degree: int, *, min_degree: int = 0) -> list[np.ndarray]:
    """Unique monomials of total degree min_degree..degree, grouped by degree.

    Returns a list whose entry for degree d is an int array (n_d, d) of variable indices (non-decreasing), so that
    the monomial is the product of x[idx]. Degree 0 is the constant, an array of shape (1, 0).
    """
    if degree < 0 or n_vars < 1:
        raise ValueError(f"need degree >= 0 and at least one variable, got degree={degree}, n_vars={n_vars}")
    groups = []
    for d in range(min_degree, degree + 1):
        combos = list(itertools.combinations_with_replacement(range(n_vars), d))
        groups.append(np.array(combos, dtype=np.int64).reshape(len(combos), d))
    return groups


def monomials(X, groups, xp=np):
    """Evaluate grouped monomials: X (..., n_vars) -> (..., n_features), in `groups` order (numpy or jax.numpy)."""
    cols = []
    for idx in groups:
        if idx.shape[1] == 0:
            cols.append(xp.ones(X.shape[:-1] + (1,), dtype=X.dtype))
        else:
            cols.append(xp.prod(X[..., idx], axis=-1))
    return xp.concatenate(cols, axis=-1)


def monomial_names(groups, names: list[str]) -> list[str]:
    out = []
    for idx in groups:
        for row in idx:
            if len(row) == 0:
                out.append("1")
                continue
            parts = []
            for v in sorted(set(row.tolist())):
                p = int((row == v).sum())
                parts.append(names[v] if p == 1 else f"{names[v]}^{p}")
            out.append(" ".join(parts))
    return out


def delay_vectors(X: np.ndarray, delays: int, skip: int = 1) -> np.ndarray:
    """Time-delay vectors h_t = [x_t, x_{t-s}, ..., x_{t-(k-1)s}] for every t with a full history.

    X (T, N) -> (T - (k-1)s, k N); row i belongs to time t = i + (k-1)s.
    """
    span = (delays - 1) * skip
    T = X.shape[0]
    return np.concatenate([X[span - j * skip : T - j * skip] for j in range(delays)], axis=1)


def ridge(F: np.ndarray, Y: np.ndarray, alpha: float) -> np.ndarray:
    """Solve min ||F W - Y||^2 + alpha ||W||^2 in float64 through the normal equations; F (M, p), Y (M, q) -> (p, q)."""
    F = np.asarray(F, dtype=np.float64)
    G = F.T @ F
    G[np.diag_indices_from(G)] += alpha
    rhs = F.T @ np.asarray(Y, dtype=np.float64)
    try:
        return np.linalg.solve(G, rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(G, rhs, rcond=None)[0]
