"""Fractal dimensions of attractors: correlation dimension (Grassberger–Procaccia) and Kaplan–Yorke dimension.

References: Grassberger & Procaccia (1983) Physica D 9:189 and Phys Rev Lett 50:346; Theiler (1986) Phys Rev A
34:2427; Kaplan & Yorke (1979), Lecture Notes in Mathematics 730:204.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_2d, positive_int


@dataclass(frozen=True)
class CorrelationDimensionResult:
    """Result of `correlation_dimension`.

    value: the dimension (slope of log C(r) vs log r over the scaling range). radii: (R,) radii r.
    correlation_sum: (R,) C(r). scaling_range: (r_lo, r_hi) of the fit. intercept: of the fit (natural logs).
    n_points: points used. theiler: Theiler window in steps.
    """

    value: float
    radii: np.ndarray
    correlation_sum: np.ndarray
    scaling_range: tuple[float, float]
    intercept: float
    n_points: int
    theiler: int

    def __float__(self) -> float:
        return self.value


def _pair_distance_counts(x: np.ndarray, times: np.ndarray, theiler: int, log_r: np.ndarray, chunk: int = 256):
    """Number of pairs i < j with |t_i − t_j| > theiler and distance <= exp(log_r[k]), for each k; and the
    total number of such pairs."""
    counts = np.zeros(log_r.size + 1)
    n_pairs = 0
    for s in range(0, x.shape[0], chunk):
        a = x[s : s + chunk]
        d2 = ((a[:, None, :] - x[None, :, :]) ** 2).sum(-1)
        i = np.arange(s, s + a.shape[0])[:, None]
        keep = (np.arange(x.shape[0])[None, :] > i) & (np.abs(times[i] - times[None, :]) > theiler)
        vals = d2[keep]
        n_pairs += vals.size
        with np.errstate(divide="ignore"):
            counts += np.bincount(np.searchsorted(log_r, 0.5 * np.log(vals), side="left"), minlength=counts.size)
    return np.cumsum(counts)[:-1], n_pairs


def _best_scaling_range(log_r: np.ndarray, log_c: np.ndarray, valid: np.ndarray, min_width: float):
    """Window of log r (at least `min_width` wide, inside `valid`) whose local slopes vary least."""
    slopes = np.gradient(log_c, log_r)
    best, best_score = None, np.inf
    idx = np.flatnonzero(valid)
    for a in idx:
        for b in idx[idx > a]:
            if log_r[b] - log_r[a] < min_width:
                continue
            if not valid[a : b + 1].all():
                break
            seg = slopes[a : b + 1]
            score = seg.std() / max(abs(seg.mean()), 1e-12)
            if score < best_score:
                best, best_score = (a, b + 1), score
            break
    return best


def correlation_dimension(
    X,
    *,
    max_points: int = 4000,
    theiler: int | None = None,
    scaling_range: tuple[float, float] | None = None,
    n_radii: int = 100,
    c_range: tuple[float, float] = (1e-4, 1e-1),
    min_decades: float = 1.0,
) -> CorrelationDimensionResult:
    """Correlation dimension D₂ of the set of points X by the Grassberger–Procaccia algorithm.

    C(r) = fraction of point pairs (i < j, more than `theiler` steps apart in time) closer than r (Euclidean);
    D₂ is the least-squares slope of ln C(r) against ln r over a scaling range.

    Args:
        X: (T, N) points on the attractor (finite). At most `max_points` evenly spaced rows are used (default
            4000, i.e. about 8·10⁶ pairs; cost O(max_points²)).
        theiler: Theiler window in steps of the ORIGINAL series (default: the mean period of X, 1 / mean
            frequency of its power spectrum), excluding temporally correlated pairs.
        scaling_range: (r_lo, r_hi) of the fit. Default: automatic, the window of log r `min_decades` decades
            wide (default 1), with c_range[0] <= C(r) <= c_range[1] (default 1e-4 to 0.1: above the noise of
            few pairs, below the saturation at the attractor size), whose local slopes d ln C / d ln r have the
            smallest coefficient of variation. The range used is returned.
        n_radii: number of log-spaced radii from 1e-6 of the diameter of the set to the diameter (default 100).

    Returns:
        CorrelationDimensionResult (float(result) is D₂) with C(r), the scaling range and the fit.
    """
    x = as_2d(X, "X")
    n_radii = positive_int(n_radii, "n_radii")
    step = max(1, -(-x.shape[0] // positive_int(max_points, "max_points")))
    times = np.arange(0, x.shape[0], step)
    pts = x[times]
    if theiler is None:
        from .lyapunov import mean_period

        theiler = int(round(mean_period(x)))
    if pts.shape[0] < 20:
        raise ValueError(f"correlation_dimension needs at least 20 points, got {pts.shape[0]}")
    spread = np.linalg.norm(pts.max(0) - pts.min(0))
    if spread == 0:
        raise ValueError("X is a single point: the correlation dimension is undefined")
    # Radii from 1e-6 of the diameter of the set up to the diameter.
    log_r = np.linspace(np.log(spread) - 6.0 * np.log(10.0), np.log(spread), n_radii)
    below, n_pairs = _pair_distance_counts(pts, times, int(theiler), log_r)
    if n_pairs == 0:
        raise ValueError(f"no pairs outside the Theiler window {theiler}: give a longer series or smaller theiler")
    pos = below > 0
    log_r, c = log_r[pos], below[pos] / n_pairs
    log_c = np.log(c)
    if scaling_range is None:
        valid = (c >= c_range[0]) & (c <= c_range[1])
        best = _best_scaling_range(log_r, log_c, valid, min_decades * np.log(10.0))
        if best is None:
            raise ValueError(
                f"no scaling range of {min_decades} decades with {c_range[0]} <= C(r) <= {c_range[1]}: "
                "give more points or an explicit scaling_range"
            )
        a, b = best
    else:
        lo, hi = np.log(scaling_range[0]), np.log(scaling_range[1])
        sel = np.flatnonzero((log_r >= lo) & (log_r <= hi))
        if sel.size < 3:
            raise ValueError(f"scaling_range {scaling_range} holds fewer than 3 radii with C(r) > 0")
        a, b = sel[0], sel[-1] + 1
    slope, intercept = np.polyfit(log_r[a:b], log_c[a:b], 1)
    return CorrelationDimensionResult(
        float(slope),
        np.exp(log_r),
        c,
        (float(np.exp(log_r[a])), float(np.exp(log_r[b - 1]))),
        float(intercept),
        int(pts.shape[0]),
        int(theiler),
    )


def kaplan_yorke_dimension(spectrum) -> float:
    """Kaplan–Yorke (Lyapunov) dimension D_KY = k + (λ_1 + … + λ_k) / |λ_{k+1}|.

    λ sorted in decreasing order; k is the largest index with λ_1 + … + λ_k >= 0. Returns 0 when λ_1 < 0 and
    the number of exponents when the whole sum is >= 0. spectrum: (n,) finite exponents (any order, any unit).
    Lorenz-63: (0.906, 0, −14.57) -> 2.062.
    """
    lam = np.sort(np.asarray(spectrum, dtype=np.float64).ravel())[::-1]
    if lam.size == 0 or not np.isfinite(lam).all():
        raise ValueError(f"spectrum must be a non-empty array of finite exponents, got {spectrum!r}")
    sums = np.cumsum(lam)
    nonneg = np.flatnonzero(sums >= 0)
    if nonneg.size == 0:
        return 0.0
    k = int(nonneg[-1]) + 1
    if k == lam.size:
        return float(lam.size)
    return k + float(sums[k - 1]) / abs(float(lam[k]))
