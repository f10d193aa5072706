"""Short-term forecast metrics: n-step prediction error, MASE, sMAPE and the valid prediction time.

References: Brenner et al. (2022) ICML (PE(n)); Hyndman & Koehler (2006) Int J Forecasting 22:679 (MASE,
sMAPE); Gilpin (2021) NeurIPS Datasets & Benchmarks, "Chaos as an interpretable benchmark for forecasting and
data-driven modelling", and Gilpin (2023) "Model scale versus domain knowledge..." (VPT).
"""

from __future__ import annotations

import numpy as np

from ..rollout import is_latent_model, n_step_predictions
from ._checks import as_2d, positive_float, positive_int


def prediction_error(model, X, steps: int = 20, *, stride: int = 1) -> float:
    """PE(n): mean squared error of n-step-ahead predictions from every test point.

    For each t = 0, stride, 2·stride, ... < T − n: the state is inferred from X[t] (z = model.init_state(X[t])),
    iterated n = `steps` times with the model, observed (model.observe), and compared with X[t + n]; the squared
    error is averaged over all starts and dimensions (vectorised: jax.vmap over starts of an n-step loop).

    Args:
        model: a dsrkit model (init_state / __call__ / observe), or an object with `forecast(context, n_steps)`
            returning (n_steps, N) forecasts after the context X[:t+1] (called once per start, so slower).
        X: test series (T, N), finite, T > steps.
        steps: prediction horizon n (default 20). stride: spacing of the start points (default 1 = all).

    Returns:
        float (inf or nan when the model's predictions are not finite).
    """
    x = as_2d(X, "X")
    steps, stride = positive_int(steps, "steps"), positive_int(stride, "stride")
    if x.shape[0] <= steps:
        raise ValueError(f"X must have more than steps={steps} time steps, got {x.shape[0]}")
    starts = np.arange(0, x.shape[0] - steps, stride)
    if is_latent_model(model):
        pred = n_step_predictions(model, x[starts], steps)
    elif hasattr(model, "forecast"):
        pred = np.stack([np.asarray(model.forecast(x[: t + 1], steps), dtype=np.float64)[-1] for t in starts])
    else:
        raise TypeError(
            f"prediction_error needs a dsrkit model (init_state/__call__/observe) or an object with "
            f"forecast(context, n_steps); got {type(model).__name__}"
        )
    if pred.shape != (starts.size, x.shape[1]):
        raise ValueError(f"model predictions have shape {pred.shape}, expected {(starts.size, x.shape[1])}")
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean((pred - x[starts + steps]) ** 2))


def _pair(true, pred) -> tuple[np.ndarray, np.ndarray]:
    t = as_2d(true, "true")
    p = as_2d(pred, "pred", require_finite=False)
    if t.shape != p.shape:
        raise ValueError(f"true and pred must have the same shape (T, N), got {t.shape} and {p.shape}")
    return t, p


def smape_per_step(true, pred) -> np.ndarray:
    """sMAPE of each time step over dimensions, (T,), on the 0–200 scale (see `smape`)."""
    t, p = _pair(true, pred)
    num, den = np.abs(p - t), np.abs(t) + np.abs(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    ratio = np.where(np.isfinite(p), ratio, 1.0)
    return 200.0 * ratio.mean(axis=1)


def smape(true, pred) -> float:
    """Symmetric mean absolute percentage error on the 0–200 scale (percent).

    sMAPE = mean over t and d of 200 |ŷ − y| / (|y| + |ŷ|); a term with y = ŷ = 0 counts 0 and a non-finite
    prediction counts as the maximum 200. true, pred: (T, N) or (T,), same shape. Hyndman & Koehler (2006).
    """
    return float(smape_per_step(true, pred).mean())


def mase(true, pred, train=None, *, season: int = 1) -> float:
    """Mean absolute scaled error: mean |ŷ − y| divided by the in-sample error of the naive seasonal forecast.

    Per dimension d: MASE_d = mean_t |ŷ_t − y_t| / mean_t |s_t − s_{t−m}|, where s is `train` (default: `true`
    itself) and m = `season` (default 1, the random walk forecast); the mean over dimensions is returned.
    Hyndman & Koehler (2006). true, pred: (T, N), same shape; train: (T', N) with T' > season.
    """
    t, p = _pair(true, pred)
    s = t if train is None else as_2d(train, "train")
    m = positive_int(season, "season")
    if s.shape[1] != t.shape[1] or s.shape[0] <= m:
        raise ValueError(f"train must have shape (T' > season={m}, {t.shape[1]}), got {s.shape}")
    scale = np.abs(s[m:] - s[:-m]).mean(axis=0)
    if np.any(scale == 0):
        raise ValueError("the naive forecast of train is exact in some dimension (constant series): MASE undefined")
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(np.abs(p - t).mean(axis=0) / scale))


def valid_prediction_time(true, pred, dt: float, lyapunov_max: float, threshold: float = 30.0) -> float:
    """Valid prediction time (VPT) in Lyapunov times: how long a forecast stays close to the truth.

    With e_t the sMAPE of step t over dimensions (0–200 scale, see `smape`) and c_t = (1/(t+1)) Σ_{s≤t} e_s
    its running (cumulative) mean, VPT = t* · dt · lyapunov_max, where t* is the index of the first row with
    c_t > threshold, i.e. the number of leading rows that are still valid. If the threshold is never crossed,
    t* = T (the result is a lower bound set by the forecast length).

    Args:
        true, pred: (T, N) or (T,), same shape, row t at time t·dt after the common start.
        dt: time step. lyapunov_max: the system's largest Lyapunov exponent (> 0, per unit time).
        threshold: sMAPE threshold (default 30, Gilpin 2023).
    """
    dt = positive_float(dt, "dt")
    lam = positive_float(lyapunov_max, "lyapunov_max")
    thr = positive_float(threshold, "threshold")
    e = smape_per_step(true, pred)
    c = np.cumsum(e) / np.arange(1, e.size + 1)
    over = np.flatnonzero(c > thr)
    n_valid = int(over[0]) if over.size else e.size
    return n_valid * dt * lam
