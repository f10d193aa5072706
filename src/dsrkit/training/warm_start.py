"""A shPLRNN's starting point fitted by ridge regression (a warm start for gradient training).

For fixed hidden units (W2, h2) the plain shPLRNN with M = N and identity read-out,
z' = A ⊙ z + W1 relu(W2 z + h2) + h1, is linear in (A, W1, h1): its one-step prediction is a ridge regression of
x_{t+1} on the features [x_t,i, relu(W2 x_t + h2), 1] for each variable i (A is diagonal, so variable i sees only
its own linear term). With random (W2, h2) this is a random feature map (Gottwald & Reich 2021, "Supervised
learning from noisy observations: combining machine-learning techniques with data assimilation", Physica D 423).
Here each unit's hyperplane passes through a training point (W2 rows are random unit vectors, h2 = −W2 x_anchor),
so that every unit switches somewhere on the data.

Observation noise makes one-step targets mostly noise at fine sampling, so the series is smoothed first
(Savitzky–Golay, cubic, window w). The ridge weight λ and w are chosen on the validation segment by the search's
own validation score (`search.validation_scores`, a free run of the fitted model), never on test data.

    model = regression_start(model, train_data, validation, key=jax.random.key(0))
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .epoch import as_trajectories

#: ridge weights λ (per training pair, on standardised data) and Savitzky–Golay windows w (0: no smoothing) tried
RIDGE_WEIGHTS = (1e-8, 1e-7, 1e-6, 1e-5)
SMOOTHING_WINDOWS = (0, 11, 21)


def _smooth(x: np.ndarray, window: int) -> np.ndarray:
    from scipy.signal import savgol_filter

    return savgol_filter(x, window, 3, axis=0) if window and len(x) > window else x


def _hyperplanes(series: list[np.ndarray], hidden: int, key) -> tuple[np.ndarray, np.ndarray]:
    """(W2 (L, N), h2 (L,)) drawn from `key`: random unit normals through random training points."""
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel())
    pooled = np.concatenate(series)
    w2 = rng.normal(size=(hidden, pooled.shape[1]))
    w2 /= np.linalg.norm(w2, axis=1, keepdims=True)
    return w2, -(w2 * pooled[rng.integers(0, len(pooled), hidden)]).sum(1)


def _normal_equations(series: list[np.ndarray], w2: np.ndarray, h2: np.ndarray) -> tuple[list, int]:
    """([(DᵢᵀDᵢ, Dᵢᵀyᵢ) per variable i], number of pairs) for the design Dᵢ = [x_t,i, relu(W2 x_t + h2), 1] and
    the targets yᵢ = x_{t+1,i} over the consecutive pairs of every series (shared by every ridge weight)."""
    inputs = np.concatenate([x[:-1] for x in series])
    targets = np.concatenate([x[1:] for x in series])
    feats = np.maximum(inputs @ w2.T + h2, 0.0)
    out = []
    for i in range(inputs.shape[1]):
        design = np.column_stack([inputs[:, i], feats, np.ones(len(inputs))])
        out.append((design.T @ design, design.T @ targets[:, i]))
    return out, len(inputs)


def _solve(equations: tuple[list, int], lam: float) -> np.ndarray:
    rows, n_pairs = equations
    return np.stack([np.linalg.solve(gram + lam * n_pairs * np.eye(len(gram)), rhs) for gram, rhs in rows])


def ridge_readouts(series: list[np.ndarray], w2: np.ndarray, h2: np.ndarray, lam: float) -> np.ndarray:
    """(N, L + 2) rows [A_i, W1_i, h1_i] solving, for each variable i, the ridge regression of x_{t+1,i} on
    [x_t,i, relu(W2 x_t + h2), 1] over the consecutive pairs of every series, with weight lam × (number of pairs)."""
    return _solve(_normal_equations(series, w2, h2), lam)


def _with(model, w2: np.ndarray, h2: np.ndarray, coef: np.ndarray):
    hidden = len(h2)
    values = (coef[:, 0], coef[:, 1:hidden + 1], w2, coef[:, hidden + 1], h2)
    return eqx.tree_at(lambda m: (m.A, m.W1, m.W2, m.h1, m.h2), model,
                       tuple(jnp.asarray(v, model.dtype) for v in values))


def check_regression_start(model) -> None:
    """ValueError unless `model` is a plain shPLRNN with M = N and identity read-out."""
    from ..models import ShallowPLRNN

    if not isinstance(model, ShallowPLRNN) or model.clipped:
        raise ValueError(f"a regression start needs a plain ShallowPLRNN, got {type(model).__name__}"
                         f"{' (clipped)' if getattr(model, 'clipped', False) else ''}")
    if model.latent_dim != model.obs_dim or model.observation != "identity":
        raise ValueError(f"a regression start needs latent_dim == obs_dim and the identity observation; got "
                         f"M = {model.latent_dim}, N = {model.obs_dim}, observation {model.observation!r}")


def choose_fit(train_data, validation: np.ndarray, hidden: int, *, key, horizon: int | None = None) -> dict:
    """Try every (λ, w) of RIDGE_WEIGHTS × SMOOTHING_WINDOWS with the hyperplanes drawn from `key` and return
    {"lam", "window", "score", "trials": [...]} of the best validation score (`search.validation_scores`)."""
    from ..models import ShallowPLRNN
    from .search import SPECTRUM_LENGTH, validation_scores

    n = validation.shape[1]
    series = as_trajectories(train_data, n)
    w2, h2 = _hyperplanes(series, hidden, key)
    probe = ShallowPLRNN(n, n, hidden, key=key)
    trials = []
    for window in SMOOTHING_WINDOWS:
        equations = _normal_equations([_smooth(x, window) for x in series], w2, h2)
        for lam in RIDGE_WEIGHTS:
            s = validation_scores(_with(probe, w2, h2, _solve(equations, lam)), validation, horizon=horizon,
                                  spectrum_length=SPECTRUM_LENGTH)
            trials.append({"lam": lam, "window": window, "score": float(s["score"])})
    best = min(trials, key=lambda t: t["score"])
    return {**best, "trials": trials}


def regression_start(model, train_data, *, lam: float, window: int, key):
    """`model` (a plain shPLRNN, M = N, identity read-out) with hyperplanes drawn from `key` and read-outs fitted
    by ridge regression (weight lam) on the training series smoothed with window `window` (see the module
    docstring). train_data: a Dataset or (T, N) / (B, T, N) array, standardised like the model's data."""
    check_regression_start(model)
    series = as_trajectories(train_data, model.obs_dim)
    w2, h2 = _hyperplanes(series, model.hidden_dim, key)
    return _with(model, w2, h2, ridge_readouts([_smooth(x, window) for x in series], w2, h2, lam))
