"""Piecewise-affine maps as plain batched functions: the common input of all analysis algorithms.

A piecewise-linear RNN is, in each linear subregion d (a 0/1 code of length `n_switch`), the affine map
z' = J(d) z + c(d). The algorithms in `dsrkit.analysis` need only three batched callables:

- ``affine(D)``: codes (K, n_switch) -> (J (K, M, M), c (K, M)), float64;
- ``code(Z)``: states (K, M) -> codes (K, n_switch), int8 in {0, 1};
- ``step(Z)``: states (K, M) -> next states (K, M), the true one-step map (float64 where the model allows).

`as_piecewise_affine` builds them from any model that follows `dsrkit.models.AbstractPiecewiseLinear`
(`region_affine`, `region_code`, `n_switch`, `__call__`); `plrnn_pieces`, `alrnn_pieces` and `shplrnn_pieces`
build them directly from parameter arrays (numpy only), which is what hand-built examples and tests use.

Model definitions (Durstewitz 2017, PLoS Comput Biol; Hess et al. 2023, ICML; Brenner et al. 2024, NeurIPS):
PLRNN z' = A z + W relu(z) + h; AL-RNN the same with relu on the last P units only; shPLRNN
z' = A z + W1 relu(W2 z + h2) + h1 (regions are the sign patterns of its H hidden units).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import equinox as eqx
import jax
import numpy as np

from .._precision import uses_x64

__all__ = ["PiecewiseAffine", "as_piecewise_affine", "plrnn_pieces", "alrnn_pieces", "shplrnn_pieces"]


@dataclass(frozen=True)
class PiecewiseAffine:
    """Batched description of a piecewise-affine map z' = J(d) z + c(d) with d = code(z).

    Attributes:
        latent_dim: M, the state dimension.
        n_switch: length of a region code.
        affine: (K, n_switch) int codes -> (J (K, M, M), c (K, M)) float64.
        code: (K, M) float64 states -> (K, n_switch) int8 codes.
        step: (K, M) float64 states -> (K, M) next states under the true map.
        step_eps: machine epsilon of the arithmetic `step` runs in (float64 unless the model forces float32);
            verification tolerances scale with it.
    """

    latent_dim: int
    n_switch: int
    affine: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    code: Callable[[np.ndarray], np.ndarray]
    step: Callable[[np.ndarray], np.ndarray]
    step_eps: float = float(np.finfo(np.float64).eps)


def _diag_vector(A: Any, M: int, name: str) -> np.ndarray:
    A = np.asarray(A, dtype=np.float64)
    if A.shape == (M, M):
        if np.any(A - np.diag(np.diag(A))):
            raise ValueError(f"{name} must be diagonal (given as an (M,) vector or an (M, M) diagonal matrix)")
        return np.diag(A).copy()
    if A.shape != (M,):
        raise ValueError(f"{name} must have shape ({M},) or ({M}, {M}), got {A.shape}")
    return A


def _check_matrix(x: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def alrnn_pieces(A: Any, W: Any, h: Any, relu_units: int) -> PiecewiseAffine:
    """AL-RNN z' = A z + W phi(z) + h, phi = relu on the LAST `relu_units` (P) of the M units only.

    Args:
        A: (M,) diagonal of A, or an (M, M) diagonal matrix.
        W: (M, M).
        h: (M,).
        relu_units: P, 0 <= P <= M; the region code is (z[M-P:] > 0).
    Reference: Brenner et al. (2024), "Almost-linear RNNs yield highly interpretable symbolic codes in
    dynamical systems reconstruction", NeurIPS.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square (M, M) matrix, got shape {W.shape}")
    M = W.shape[0]
    W = _check_matrix(W, (M, M), "W")
    a = _diag_vector(A, M, "A")
    h = _check_matrix(h, (M,), "h")
    P = int(relu_units)
    if not 0 <= P <= M:
        raise ValueError(f"relu_units must be in [0, {M}], got {relu_units}")
    lin = M - P

    def code(Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        return (Z[..., lin:] > 0).astype(np.int8)

    def affine(D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        D = np.asarray(D).reshape(-1, P)
        gate = np.concatenate([np.ones((D.shape[0], lin)), D.astype(np.float64)], axis=1)
        J = W[None, :, :] * gate[:, None, :]
        J[:, np.arange(M), np.arange(M)] += a
        return J, np.broadcast_to(h, (D.shape[0], M)).copy()

    def step(Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        phi = np.concatenate([Z[..., :lin], np.maximum(Z[..., lin:], 0.0)], axis=-1)
        with np.errstate(over="ignore", invalid="ignore"):
            return a * Z + phi @ W.T + h

    return PiecewiseAffine(latent_dim=M, n_switch=P, affine=affine, code=code, step=step)


def plrnn_pieces(A: Any, W: Any, h: Any) -> PiecewiseAffine:
    """PLRNN z' = A z + W relu(z) + h (Durstewitz 2017, PLoS Comput Biol 13(6): e1005542).

    Args: A (M,) or diagonal (M, M); W (M, M); h (M,). The region code is (z > 0), n_switch = M.
    """
    W = np.asarray(W, dtype=np.float64)
    M = W.shape[0] if W.ndim == 2 else -1
    return alrnn_pieces(A, W, h, relu_units=M)


def shplrnn_pieces(A: Any, W1: Any, W2: Any, h1: Any, h2: Any) -> PiecewiseAffine:
    """shPLRNN z' = A z + W1 relu(W2 z + h2) + h1 (Hess et al. 2023, ICML, "Generalized teacher forcing").

    Args: A (M,) or diagonal (M, M); W1 (M, H); W2 (H, M); h1 (M,); h2 (H,). The region code is
    (W2 z + h2 > 0), n_switch = H; in region d, J = A + W1 diag(d) W2 and c = h1 + W1 (d * h2).
    """
    W1 = np.asarray(W1, dtype=np.float64)
    if W1.ndim != 2:
        raise ValueError(f"W1 must be an (M, H) matrix, got shape {W1.shape}")
    M, H = W1.shape
    W1 = _check_matrix(W1, (M, H), "W1")
    W2 = _check_matrix(W2, (H, M), "W2")
    a = _diag_vector(A, M, "A")
    h1 = _check_matrix(h1, (M,), "h1")
    h2 = _check_matrix(h2, (H,), "h2")

    def code(Z: np.ndarray) -> np.ndarray:
        return (np.asarray(Z, dtype=np.float64) @ W2.T + h2 > 0).astype(np.int8)

    def affine(D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        D = np.asarray(D).reshape(-1, H).astype(np.float64)
        J = np.einsum("mh,kh,hn->kmn", W1, D, W2)
        J[:, np.arange(M), np.arange(M)] += a
        return J, h1 + (D * h2) @ W1.T

    def step(Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            return a * Z + np.maximum(Z @ W2.T + h2, 0.0) @ W1.T + h1

    return PiecewiseAffine(latent_dim=M, n_switch=H, affine=affine, code=code, step=step)


def _model_to_float64(model: Any) -> Any:
    from ..models._common import astype

    return astype(model, np.float64)


_MODEL_CACHE: dict[int, tuple[Any, PiecewiseAffine]] = {}


# Batched, compiled model functions taking the model as an argument (compilations shared by models of the same
# structure).
@eqx.filter_jit
def _batched_affine(model, D):
    return jax.vmap(model.region_affine)(D)


@eqx.filter_jit
def _batched_code(model, Z):
    return jax.vmap(model.region_code)(Z)


@eqx.filter_jit
def _batched_step(model, Z):
    return jax.vmap(model)(Z)


_SMALL_BATCH = 256


def _padded(fn, model, X, width, dtype, chunk=4096):
    """Evaluate fn(model, X) on chunks padded to one of two sizes (256 or `chunk`), so that each model
    structure compiles each function at most twice."""
    import jax.numpy as jnp

    X = np.asarray(X).reshape(-1, width)
    K = X.shape[0]
    size = min(_SMALL_BATCH, chunk) if K <= _SMALL_BATCH else chunk
    outs = []
    for s in range(0, K, size):
        part = X[s : s + size]
        pad = size - part.shape[0]
        if pad:
            part = np.concatenate([part, np.repeat(part[-1:], pad, axis=0)], axis=0)
        res = fn(model, jnp.asarray(part, dtype=dtype))
        outs.append(jax.tree_util.tree_map(lambda r: np.asarray(r)[: size - pad], res))
    if len(outs) == 1:
        return outs[0]
    return jax.tree_util.tree_map(lambda *rs: np.concatenate(rs, axis=0), *outs)


@uses_x64
def as_piecewise_affine(obj: Any) -> PiecewiseAffine:
    """Return `obj` as a `PiecewiseAffine`.

    Accepts a `PiecewiseAffine` (returned unchanged) or a model with `n_switch`, `latent_dim`,
    `region_code(z)`, `region_affine(d)` and `__call__(z)` (the `AbstractPiecewiseLinear` contract). The model's
    floating-point arrays are cast to float64 first, so J, c and the step are evaluated in float64 unless the
    model casts internally (then `step_eps` records the coarser precision and verification uses it). The
    returned functions run inside `dsrkit._precision.x64()`, whatever JAX's global setting.
    """
    if isinstance(obj, PiecewiseAffine):
        return obj
    missing = [n for n in ("n_switch", "latent_dim", "region_code", "region_affine") if not hasattr(obj, n)]
    if missing or not callable(obj):
        raise TypeError(
            "expected a piecewise-linear model (dsrkit.models.PLRNN, ALRNN, ShallowPLRNN, DendPLRNN ...) or a "
            f"PiecewiseAffine; {type(obj).__name__} lacks {', '.join(missing) or '__call__'}"
        )
    cached = _MODEL_CACHE.get(id(obj))
    if cached is not None and cached[0] is obj:
        return cached[1]

    import jax.numpy as jnp

    m64 = _model_to_float64(obj)
    M, n = int(obj.latent_dim), int(obj.n_switch)
    affine_chunk = max(16, min(4096, (1 << 22) // max(M * M, 1)))

    @uses_x64
    def affine(D):
        J, c = _padded(_batched_affine, m64, D, n, jnp.int8, chunk=affine_chunk)
        return J.astype(np.float64), c.astype(np.float64)

    @uses_x64
    def code(Z):
        return _padded(_batched_code, m64, Z, M, jnp.float64).astype(np.int8)

    @uses_x64
    def step(Z):
        return _padded(_batched_step, m64, Z, M, jnp.float64).astype(np.float64)

    probe = _padded(_batched_step, m64, np.zeros((1, M)), M, jnp.float64)
    eps = float(np.finfo(probe.dtype).eps) if np.issubdtype(probe.dtype, np.floating) else 2.2e-16
    pieces = PiecewiseAffine(latent_dim=M, n_switch=n, affine=affine, code=code, step=step, step_eps=eps)
    _MODEL_CACHE.clear()
    _MODEL_CACHE[id(obj)] = (obj, pieces)
    return pieces
