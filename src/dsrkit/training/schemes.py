"""Teacher-forcing schemes as small composable objects with pure `init` / `update` (optax-like).

A scheme decides how the latent state is pulled towards the data-inferred state ẑ_k after the model's prediction
z_k = F(z̃_{k−1}) at step k = 1 … T̃ of a training window, where the loss is always taken on z_k, i.e. BEFORE
forcing. Forcing acts on the first `n_forced` latent units (N with the identity observation: partial forcing of
the read-out units; M with the affine observation, whose ẑ = B⁺(x − b)).

    state = scheme.init(dtype)                           # pytree of arrays
    z̃_k  = scheme.force(state, z_k, ẑ_k, k)              # one step (reference implementation)
    c, d = scheme.coefficients(state, T̃, n_forced, M, dtype)   # the same as z̃_k = c_k ⊙ z_k + d_k ⊙ [ẑ_k; 0]
    state = scheme.update(state, model, Ẑ, batch_index)   # once per batch, inside the compiled epoch
    scheme.alpha(state)                                  # the forcing strength to log

The forcing strength of each scheme (STF interval τ, GTF α, adaptive GTF's starting α) is an array field, not a
compile-time constant: it may be one value or one value per member of a population (`STF(interval=[8, 16])`),
and members that differ only in it share one compiled training program (`members(scheme, k)` stacks a scheme
for k members; inside the program each member sees its own scalar).

References: sparse teacher forcing: Mikhaeil, Monfared, Durstewitz (2022), "On the difficulty of learning chaotic
dynamics with RNNs", NeurIPS; generalized teacher forcing and its adaptive α: Hess, Monfared, Brenner,
Durstewitz (2023), "Generalized Teacher Forcing for Learning Chaotic Dynamics", ICML.
"""

from __future__ import annotations

import math
import numbers

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_int


def _per_member(name: str, value, check, dtype) -> np.ndarray:
    """`value` (a scalar or a 1-D sequence of per-member values, each passed through `check(name, v)`) as a
    0-d or (k,) NumPy array of `dtype`."""
    if isinstance(value, (str, bytes)) or np.ndim(value) > 1:
        raise ValueError(f"{name} must be one value or a 1-D sequence of per-member values, got {value!r}")
    if np.ndim(value) == 0:
        return np.asarray(check(name, value.item() if isinstance(value, np.ndarray) else value), dtype)
    values = list(np.asarray(value, dtype=object).tolist())
    if not values:
        raise ValueError(f"{name}: the per-member sequence is empty")
    return np.asarray([check(name, v) for v in values], dtype)


def _unit_interval(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number in [0, 1], got {value!r}")
    v = float(value)
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return v


def _show(x) -> str:
    a = np.asarray(x)
    return repr(a.item()) if a.ndim == 0 else repr(a.tolist())


def members(scheme, k: int):
    """`scheme` for a population of k members: every per-member field as a (k,) array (a single value is
    repeated). ValueError if the scheme already holds a different number of per-member values."""
    size = scheme_size(scheme)
    if size is not None and size != k:
        raise ValueError(f"{scheme!r} holds {size} per-member values, but the population has {k} members")
    return jax.tree_util.tree_map(lambda x: np.broadcast_to(np.asarray(x), (k,)).copy(), scheme)


def scheme_size(scheme) -> int | None:
    """Number of per-member values a scheme holds (None when each field is one value)."""
    sizes = {np.shape(x)[0] for x in jax.tree_util.tree_leaves(scheme) if np.ndim(x) == 1}
    if len(sizes) > 1:
        raise ValueError(f"{scheme!r}: per-member fields of different lengths {sorted(sizes)}")
    return sizes.pop() if sizes else None


def _replace(z: jax.Array, z_hat: jax.Array) -> jax.Array:
    n = z_hat.shape[-1]
    return jnp.concatenate([z_hat, z[..., n:]], axis=-1)


def _first_units(n_forced: int, latent_dim: int) -> jax.Array:
    return jnp.arange(latent_dim) < n_forced


def _interpolate(z: jax.Array, z_hat: jax.Array, alpha: jax.Array) -> jax.Array:
    n = z_hat.shape[-1]
    a = alpha.astype(z.dtype)
    return jnp.concatenate([(1 - a) * z[..., :n] + a * z_hat, z[..., n:]], axis=-1)


def _interpolation_coefficients(alpha, n_steps: int, n_forced: int, latent_dim: int, dtype):
    """GTF forcing z̃_k = c_k ⊙ z_k + d_k ⊙ [ẑ_k; 0] with c = 1 − α, d = α on the forced units (α without
    gradient): returns c, d of shape (n_steps, M)."""
    a = jax.lax.stop_gradient(alpha).astype(dtype)
    first = _first_units(n_forced, latent_dim)
    c = jnp.where(first, 1 - a, jnp.ones((), dtype))
    d = jnp.where(first, a, jnp.zeros((), dtype))
    return jnp.broadcast_to(c, (n_steps, latent_dim)), jnp.broadcast_to(d, (n_steps, latent_dim))


class STF(eqx.Module):
    """Sparse teacher forcing: after every τ-th prediction (k = τ, 2τ, …) the first n_forced latent units are
    replaced by the data-inferred values; no gradient flows through the replaced units. τ = 1 is full forcing.

    Args:
        interval: τ >= 1 (published: Lorenz-63 16, Rössler 8, Lorenz-96 20), or one τ per population member.
    """

    interval: np.ndarray  # int32, () or (k,)

    def __init__(self, interval=16):
        self.interval = _per_member("STF interval", interval, check_int, np.int32)

    def __repr__(self) -> str:
        return f"STF(interval={_show(self.interval)})"

    def init(self, dtype=jnp.float32):
        return {"alpha": jnp.asarray(0.0, dtype)}

    def force(self, state, z, z_hat, k):
        return jnp.where(k % self.interval == 0, _replace(z, z_hat), z)

    def coefficients(self, state, n_steps: int, n_forced: int, latent_dim: int, dtype):
        """Per-step forcing as z̃_k = c_k ⊙ z_k + d_k ⊙ [ẑ_k; 0]: returns c, d of shape (n_steps, M)."""
        forced = (jnp.arange(1, n_steps + 1) % self.interval == 0)[:, None] & _first_units(n_forced, latent_dim)
        return (~forced).astype(dtype), forced.astype(dtype)

    def update(self, state, model, z_hat_full, batch_index):
        return state

    def alpha(self, state):
        return state["alpha"]


class GTF(eqx.Module):
    """Generalized teacher forcing with fixed α ∈ [0, 1]: at every step z̃ = (1 − α) z + α ẑ on the first
    n_forced units (gradient flows through the (1 − α) z part). α = 1 is full forcing, α = 0 free running.

    Args:
        alpha: α ∈ [0, 1], or one α per population member.
    """

    alpha0: np.ndarray  # float64, () or (k,)

    def __init__(self, alpha=0.1):
        self.alpha0 = _per_member("GTF alpha", alpha, _unit_interval, np.float64)

    def __repr__(self) -> str:
        return f"GTF(alpha={_show(self.alpha0)})"

    def init(self, dtype=jnp.float32):
        return {"alpha": jnp.asarray(self.alpha0, dtype)}

    def force(self, state, z, z_hat, k):
        return _interpolate(z, z_hat, state["alpha"])

    def coefficients(self, state, n_steps: int, n_forced: int, latent_dim: int, dtype):
        return _interpolation_coefficients(state["alpha"], n_steps, n_forced, latent_dim, dtype)

    def update(self, state, model, z_hat_full, batch_index):
        return state

    def alpha(self, state):
        return state["alpha"]


def spectral_norm(mats: jax.Array) -> jax.Array:
    """‖J‖₂ of a stack of square matrices (..., M, M): the square root of the largest eigenvalue of the Gram matrix
    JᵀJ (batched `eigvalsh`). Exact to float rounding, and on CPU faster than a batched SVD or power iteration."""
    gram = jnp.swapaxes(mats, -1, -2) @ mats
    return jnp.sqrt(jnp.maximum(jnp.linalg.eigvalsh(gram)[..., -1], 0.0))


MAX_ENUMERATED_SWITCHES = 10


def jacobian_norms(model, zs: jax.Array) -> jax.Array:
    """‖J(z)‖₂ for states zs (..., M) -> (...).

    For piecewise-linear models with at most 2^10 subregions (e.g. the AL-RNN) the norms of all subregion
    Jacobians are computed exactly (SVD) once and looked up by each state's code; otherwise power iteration on
    every state's Jacobian.
    """
    from ..models._base import AbstractPiecewiseLinear

    flat = zs.reshape(-1, zs.shape[-1])
    if isinstance(model, AbstractPiecewiseLinear) and model.n_switch <= MAX_ENUMERATED_SWITCHES:
        p = model.n_switch
        codes = jnp.asarray((np.arange(2**p)[:, None] >> np.arange(p)[None, :]) & 1, jnp.int8)
        jacs = jax.vmap(lambda d: model.region_affine(d)[0])(codes)
        table = jnp.linalg.svd(jacs, compute_uv=False)[:, 0]
        index = jax.vmap(model.region_code)(flat).astype(jnp.int32) @ jnp.asarray(2 ** np.arange(p), jnp.int32)
        return table[index].reshape(zs.shape[:-1])
    return spectral_norm(jax.vmap(model.jacobian)(flat)).reshape(zs.shape[:-1])


def jacobian_norm_bound(model, z_hat_full: jax.Array) -> jax.Array:
    """𝒩 = max over sequences of the geometric mean over t of ‖J(ẑ_t)‖₂ ("product upper bound").

    z_hat_full: (B, T, M) data-inferred latent states. Hess et al. (2023), Eq. for α*; published code
    GTF-shPLRNN `compute_α_product_upper_bound`.
    """
    norms = jacobian_norms(model, z_hat_full)                                # (B, T)
    geo = jnp.exp(jnp.mean(jnp.log(jnp.maximum(norms, 1e-30)), axis=1))      # (B,)
    return jnp.max(geo)


class AdaptiveGTF(eqx.Module):
    """Adaptive GTF: GTF whose α follows the Jacobians of the model at the data-inferred states.

    Every `update_every` batches: α* = max(0, 1 − 1/𝒩) with 𝒩 = `jacobian_norm_bound`; then α ← α* if α* > α,
    else α ← (1 − γ) α + γ α* with γ = `decay` (0.001). Starts at α = `alpha_start` (1.0; or one value per
    population member). The state is inferred from the (noisy) training inputs of the current batch.
    """

    update_every: int = eqx.field(static=True)
    decay: float = eqx.field(static=True)
    alpha_start: np.ndarray  # float64, () or (k,)

    def __init__(self, update_every: int = 5, decay: float = 0.001, alpha_start=1.0):
        check_int("update_every", update_every)
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"decay must lie in (0, 1], got {decay}")
        self.update_every, self.decay = int(update_every), float(decay)
        self.alpha_start = _per_member("alpha_start", alpha_start, _unit_interval, np.float64)

    def __repr__(self) -> str:
        return (f"AdaptiveGTF(update_every={self.update_every}, decay={self.decay!r}, "
                f"alpha_start={_show(self.alpha_start)})")

    def init(self, dtype=jnp.float32):
        return {"alpha": jnp.asarray(self.alpha_start, dtype)}

    def force(self, state, z, z_hat, k):
        return _interpolate(z, z_hat, state["alpha"])

    def coefficients(self, state, n_steps: int, n_forced: int, latent_dim: int, dtype):
        return _interpolation_coefficients(state["alpha"], n_steps, n_forced, latent_dim, dtype)

    def target(self, model, z_hat_full):
        """α* = max(0, 1 − 1/𝒩)."""
        return jnp.maximum(0.0, 1.0 - 1.0 / jacobian_norm_bound(model, z_hat_full))

    def update(self, state, model, z_hat_full, batch_index):
        alpha = state["alpha"]

        def new_alpha(_):
            a_star = jax.lax.stop_gradient(self.target(model, z_hat_full)).astype(alpha.dtype)
            return jnp.where(a_star > alpha, a_star, (1 - self.decay) * alpha + self.decay * a_star)

        alpha = jax.lax.cond(batch_index % self.update_every == 0, new_alpha, lambda _: alpha, None)
        return {"alpha": alpha}

    def alpha(self, state):
        return state["alpha"]
