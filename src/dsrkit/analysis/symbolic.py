"""Symbolic dynamics of piecewise-linear RNNs: the sequence of linear subregions a trajectory visits.

Each latent state z_t is mapped to the code d_t of its linear subregion (`model.region_code`); the codes are
relabelled 0, 1, 2, ... by visit frequency, giving a symbolic sequence s_t. Its transition graph (nodes =
subregions used, edges = estimated transition probabilities) is the topological summary used by Brenner et al.
(2024), "Almost-linear RNNs yield highly interpretable symbolic codes in dynamical systems reconstruction",
NeurIPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._precision import uses_x64
from .pieces import PiecewiseAffine, as_piecewise_affine

__all__ = [
    "SymbolicSequence",
    "symbolic_sequence",
    "subregions",
    "transition_counts",
    "transition_matrix",
    "symbolic_graph",
    "transition_graph",
    "entropy_rate",
    "markov_entropy_rate",
    "frequent_words",
    "infer_latent",
]


@dataclass(frozen=True, eq=False)
class SymbolicSequence:
    """A symbolic sequence of subregion labels.

    Attributes:
        symbols: (T,) int64, label of the subregion of each time step; labels are 0 .. K-1 ordered by visit
            count (most visited = 0; ties broken by the lexicographic order of the codes).
        codes: (K, n_switch) int8, the region code of each label.
        counts: (K,) int64, visits per label.
    """

    symbols: np.ndarray
    codes: np.ndarray
    counts: np.ndarray

    @property
    def n_regions(self) -> int:
        """Number of distinct subregions used."""
        return int(self.codes.shape[0])

    @property
    def frequencies(self) -> np.ndarray:
        """(K,) visit fractions counts / T."""
        return self.counts / max(1, int(self.symbols.shape[0]))

    @property
    def code_strings(self) -> list[str]:
        return ["".join(str(int(b)) for b in c) for c in self.codes]

    def to_dict(self, word_length: int = 3, top: int = 10) -> dict:
        """JSON-ready summary: number of regions, codes and frequencies, entropy rate, frequent words."""
        return {
            "n_steps": int(self.symbols.shape[0]),
            "n_regions": self.n_regions,
            "codes": self.code_strings,
            "counts": self.counts.tolist(),
            "frequencies": self.frequencies.tolist(),
            "entropy_rate_nats": entropy_rate(self.symbols),
            "top_words": [
                {"word": list(w), "count": c} for w, c in frequent_words(self.symbols, word_length, top=top)
            ],
        }


def symbolic_sequence(codes: Any) -> SymbolicSequence:
    """Relabel a sequence of region codes (T, n_switch) (0/1 integers) as a `SymbolicSequence`."""
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[0] < 1:
        raise ValueError(f"codes must be a (T, n_switch) array with T >= 1, got shape {codes.shape}")
    codes = codes.astype(np.int8)
    uniq, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    order = np.lexsort(tuple(uniq[:, j] for j in range(uniq.shape[1] - 1, -1, -1)) + (-counts,))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return SymbolicSequence(symbols=rank[np.asarray(inverse).ravel()].astype(np.int64), codes=uniq[order],
                            counts=counts[order].astype(np.int64))


def _check_states(Z: Any, M: int, name: str = "Z") -> np.ndarray:
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != M:
        raise ValueError(f"{name} must be a (T, {M}) array of latent states, got shape {Z.shape}")
    if Z.shape[0] < 1:
        raise ValueError(f"{name} must contain at least one state")
    bad = ~np.isfinite(Z)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError(f"{name} contains NaN/inf at time steps {rows[:10].tolist()}{' ...' if rows.size > 10 else ''}")
    return Z


def subregions(model: Any, Z: Any) -> SymbolicSequence:
    """Subregion code of each latent state, relabelled by visit frequency.

    Args:
        model: a piecewise-linear model (region codes via `model.region_code`) or a `PiecewiseAffine`.
        Z: (T, M) latent states.
    Returns:
        `SymbolicSequence` (symbols (T,), codes (K, n_switch), counts (K,), n_regions).
    """
    pieces = as_piecewise_affine(model)
    Z = _check_states(Z, pieces.latent_dim)
    return symbolic_sequence(pieces.code(Z))


def transition_counts(symbols: Any, n: int | None = None) -> np.ndarray:
    """(K, K) counts N_ij of consecutive pairs (s_t, s_{t+1}) = (i, j), t = 0 .. T-2."""
    s = np.asarray(symbols, dtype=np.int64).ravel()
    n = int(s.max()) + 1 if n is None else int(n)
    C = np.zeros((n, n), dtype=np.int64)
    if s.size > 1:
        np.add.at(C, (s[:-1], s[1:]), 1)
    return C


def transition_matrix(symbols: Any, n: int | None = None) -> np.ndarray:
    """(K, K) row-stochastic P_ij = N_ij / sum_j N_ij (rows of symbols never left, e.g. only the last, are 0)."""
    C = transition_counts(symbols, n).astype(np.float64)
    rows = C.sum(axis=1, keepdims=True)
    return np.divide(C, rows, out=np.zeros_like(C), where=rows > 0)


def entropy_rate(symbols: Any, base: float = np.e) -> float:
    """Entropy rate of the first-order Markov chain estimated from a symbol sequence (plug-in estimate).

    H = - sum_ij (N_ij / N) log(N_ij / N_i), N_ij the counts of consecutive pairs, N_i = sum_j N_ij and
    N = T - 1: the conditional entropy H(s_{t+1} | s_t) under the empirical pair distribution, which for a long
    stationary sequence is the chain's entropy rate -sum_i pi_i sum_j P_ij log P_ij (Cover & Thomas,
    Elements of Information Theory, 2nd ed., Thm 4.2.4). In nats by default (`base=2` for bits); 0 for T < 2.
    """
    C = transition_counts(symbols).astype(np.float64)
    N = C.sum()
    if N == 0:
        return 0.0
    rows = C.sum(axis=1, keepdims=True)
    nz = C > 0
    h = -np.sum(C[nz] / N * np.log((C / np.where(rows > 0, rows, 1.0))[nz]))
    return float(h / np.log(base))


def markov_entropy_rate(P: Any, base: float = np.e) -> float:
    """Exact entropy rate -sum_i pi_i sum_j P_ij log P_ij of a Markov chain with row-stochastic P (K, K).

    pi is the stationary distribution (left eigenvector of P for eigenvalue 1, normalised); P should be
    irreducible so that pi is unique (Cover & Thomas, Thm 4.2.4).
    """
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != P.shape[1] or np.any(P < 0) or not np.allclose(P.sum(axis=1), 1.0):
        raise ValueError("P must be a square row-stochastic matrix (non-negative rows summing to 1)")
    w, V = np.linalg.eig(P.T)
    pi = np.real(V[:, np.argmin(np.abs(w - 1.0))])
    pi = pi / pi.sum()
    logP = np.log(np.where(P > 0, P, 1.0))
    return float(-np.sum(pi[:, None] * P * logP) / np.log(base))


def frequent_words(symbols: Any, k: int, top: int = 10) -> list[tuple[tuple[int, ...], int]]:
    """The `top` most frequent words (overlapping windows) of length k: [(word, count), ...].

    Ordered by decreasing count, ties by the word's lexicographic order. Empty when T < k.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"word length k must be a positive integer, got {k!r}")
    s = np.asarray(symbols, dtype=np.int64).ravel()
    if s.size < k:
        return []
    windows = np.lib.stride_tricks.sliding_window_view(s, int(k))
    words, counts = np.unique(windows, axis=0, return_counts=True)
    order = np.lexsort(tuple(words[:, j] for j in range(k - 1, -1, -1)) + (-counts,))[: int(top)]
    return [(tuple(int(x) for x in words[i]), int(counts[i])) for i in order]


def transition_graph(seq: SymbolicSequence, pieces: PiecewiseAffine | None = None):
    """networkx DiGraph of a symbolic sequence (see `symbolic_graph` for the attributes)."""
    import networkx as nx

    G = nx.DiGraph()
    T = int(seq.symbols.shape[0])
    C = transition_counts(seq.symbols, seq.n_regions)
    P = transition_matrix(seq.symbols, seq.n_regions)
    if pieces is not None and seq.n_regions:
        J, c = pieces.affine(seq.codes)
    codes = seq.code_strings  # built once: the property makes a new list on every access (K x n_switch work)
    for i in range(seq.n_regions):
        attrs = {"code": codes[i], "count": int(seq.counts[i]), "frequency": float(seq.counts[i] / T)}
        if pieces is not None:
            attrs["J"] = np.asarray(J[i], dtype=np.float64)
            attrs["c"] = np.asarray(c[i], dtype=np.float64)
        G.add_node(i, **attrs)
    for i, j in zip(*np.nonzero(C)):
        G.add_edge(int(i), int(j), count=int(C[i, j]), probability=float(P[i, j]))
    G.graph.update(n_steps=T, n_regions=seq.n_regions, entropy_rate=entropy_rate(seq.symbols))
    return G


def check_observations(model: Any, X: Any, min_length: int, caller: str) -> np.ndarray:
    """X as a finite (T, obs_dim) float64 array with T >= min_length, for a dsrkit model; clear errors otherwise."""
    for name in ("init_state", "obs_dim", "latent_dim"):
        if not hasattr(model, name):
            raise TypeError(f"{caller} needs a dsrkit model with `{name}`; got {type(model).__name__}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != model.obs_dim or X.shape[0] < min_length:
        raise ValueError(f"X must be a (T, {model.obs_dim}) array of observations with T >= {min_length}, "
                         f"got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        rows = np.unique(np.nonzero(~np.isfinite(X))[0])
        raise ValueError(f"X contains NaN/inf at time steps {rows[:10].tolist()}")
    return X


@uses_x64
def infer_latent(model: Any, X: Any, mode: str = "forced") -> np.ndarray:
    """Latent states (T, M) for observations X (T, N) of a model, in float64.

    mode "forced" (default): z_0 = init_state(x_0); z_{t+1} = F(z_t) with its first `n_forced` units then
        replaced by those of init_state(x_{t+1}) (sparse teacher forcing with interval 1: the identity
        observation forces the N read-out units to the data, the affine one forces all M units to B⁺(x − b)).
    mode "free": z_0 = init_state(x_0), then the free-running model for T - 1 steps (X[1:] is not used).
    """
    import jax
    import jax.numpy as jnp

    from .pieces import _model_to_float64

    if mode not in ("forced", "free"):
        raise ValueError(f"mode must be 'forced' or 'free', got {mode!r}")
    X = check_observations(model, X, min_length=1, caller="infer_latent")
    m64 = _model_to_float64(model)
    n_forced = int(getattr(model, "n_forced", model.obs_dim))
    Xj = jnp.asarray(X)
    z0 = jnp.asarray(m64.init_state(Xj[0]), jnp.float64)

    def forced(z, x):
        z = jnp.asarray(m64(z), jnp.float64)
        z = z.at[:n_forced].set(jnp.asarray(m64.init_state(x), jnp.float64)[:n_forced])
        return z, z

    def free(z, _):
        z = jnp.asarray(m64(z), jnp.float64)
        return z, z

    body = forced if mode == "forced" else free
    _, zs = jax.lax.scan(body, z0, Xj[1:])
    return np.concatenate([np.asarray(z0)[None], np.asarray(zs)], axis=0)


def symbolic_graph(model: Any, X_or_Z: Any, latent: bool | None = None, mode: str = "forced",
                   with_maps: bool = True):
    """Transition graph of the subregions a trajectory visits.

    Args:
        model: a piecewise-linear model or a `PiecewiseAffine` (the latter needs latent states).
        X_or_Z: (T, N) observations or (T, M) latent states.
        latent: True: X_or_Z are latent states; False: observations, latent states are inferred with
            `infer_latent(model, X, mode)`; None (default): latent iff the width is M and differs from N
            (when N == M the array is taken as observations and inferred by forcing, which for the identity
            observation reproduces it exactly).
        mode: "forced" or "free", see `infer_latent`.
        with_maps: attach each region's J and c to its node (memory K * M^2 floats for K regions).

    Returns:
        networkx.DiGraph. Nodes are the labels 0 .. K-1 of the subregions used (most visited = 0) with
        attributes `code` ('0101' string), `count` (visits), `frequency` (visits / T), `J` (M, M) and `c` (M,)
        (the region's map z' = J z + c). An edge i -> j exists when the step s_t = i, s_{t+1} = j occurs at least
        once (self-loops included); attributes `count` = N_ij and `probability` = P(s_{t+1} = j | s_t = i)
        = N_ij / sum_j' N_ij', estimated over the T - 1 consecutive pairs. Graph attributes: `n_steps`,
        `n_regions`, `entropy_rate` (nats, see `entropy_rate`).
    """
    pieces = as_piecewise_affine(model)
    arr = np.asarray(X_or_Z, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"X_or_Z must be a 2-D (T, N) or (T, M) array, got shape {arr.shape}")
    if latent is None:
        obs_dim = getattr(model, "obs_dim", None)
        latent = arr.shape[1] == pieces.latent_dim and arr.shape[1] != obs_dim
    Z = arr if latent else infer_latent(model, arr, mode=mode)
    return transition_graph(subregions(pieces, Z), pieces if with_maps else None)
