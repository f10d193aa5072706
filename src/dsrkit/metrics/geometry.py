"""State-space divergence D_stsp: how well the generated attractor covers the true one.

Reference: Koppe et al. (2019) PLoS Comput Biol 15(8): e1007263; Brenner et al. (2022) ICML, "Tractable
dendritic RNNs for reconstructing nonlinear dynamical systems" (binned and GMM variants, published code).
Variants for high-dimensional data ("marginal", "pca"): see `state_space_divergence`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._checks import as_series, check_same_dim, positive_float, positive_int

#: Largest number of bins (bins ** N) kept as a dense histogram; above it occupied bins are handled sparsely.
_DENSE_LIMIT = 1 << 22
#: The variants `state_space_divergence(method=...)` accepts besides "auto".
METHODS = ("binned", "gmm", "marginal", "pca")


@dataclass(frozen=True)
class StateSpaceDivergence:
    """Result of `state_space_divergence_result`.

    value: the divergence (nan when `diverged`). diverged: the generated data contained NaN or inf.
    method: "binned", "gmm", "marginal" or "pca". in_range_fraction: fraction of generated points inside the true
    data's range in every binned coordinate (all N dimensions for "binned" and "marginal", the k projections for
    "pca"; nan for gmm or when diverged).
    """

    value: float
    diverged: bool
    method: str
    in_range_fraction: float


def bin_range(true_cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension histogram range [min − 0.1σ, max + 0.1σ] of the true data, given as columns (N, T).

    Returns (lo, hi), each (N,). A constant dimension (σ = 0) gets [x − 0.5, x + 0.5] so its bins have a width.
    """
    lo, hi, sd = true_cols.min(1), true_cols.max(1), true_cols.std(1)
    lo, hi = lo - 0.1 * sd, hi + 0.1 * sd
    flat = hi <= lo
    return np.where(flat, lo - 0.5, lo), np.where(flat, hi + 0.5, hi)


def flat_bin_index(cols: np.ndarray, lo: np.ndarray, hi: np.ndarray, bins: int) -> np.ndarray:
    """Flattened (row-major over dimensions) bin index of each point, given as columns (N, T) -> (T_in,).

    Bin k of dimension d is [lo + k w, lo + (k + 1) w) with w = (hi − lo) / bins; the last bin includes hi
    (numpy.histogramdd convention). Points outside [lo, hi] in any dimension are dropped.
    """
    inside = np.ones(cols.shape[1], dtype=bool)
    flat = np.zeros(cols.shape[1], dtype=np.int64)
    for d in range(cols.shape[0]):
        with np.errstate(over="ignore", invalid="ignore"):
            u = (cols[d] - lo[d]) * (bins / (hi[d] - lo[d]))
        inside &= (u >= 0.0) & (u <= bins)
        flat *= bins
        flat += np.minimum(np.clip(u, 0.0, bins).astype(np.int64), bins - 1)
    return flat[inside]


def _binned_kl(true: np.ndarray, gen: np.ndarray, bins: int, alpha: float) -> tuple[float, float]:
    """KL(p_true || p_gen) of Laplace-smoothed histograms; returns (kl, fraction of gen points in range).

    Both histograms are normalised by ALL points of their series: every true point is in range by construction,
    and the generated points outside it keep their share of the mass (in no bin), see `state_space_divergence`.
    """
    n_dim = true.shape[1]
    tc, gc = np.ascontiguousarray(true.T), np.ascontiguousarray(gen.T)
    lo, hi = bin_range(tc)
    ft = flat_bin_index(tc, lo, hi, bins)
    fg = flat_bin_index(gc, lo, hi, bins)
    n_bins = float(bins) ** n_dim
    zt, zg = float(true.shape[0]) + alpha * n_bins, float(gen.shape[0]) + alpha * n_bins
    if n_bins <= _DENSE_LIMIT:
        k = int(n_bins)
        ht = np.bincount(ft, minlength=k).astype(np.float64)
        hg = np.bincount(fg, minlength=k).astype(np.float64)
        pt, pg = (ht + alpha) / zt, (hg + alpha) / zg
        kl = float(np.dot(pt, np.log(pt / pg)))
    else:
        # Only bins occupied by either histogram differ from the smoothing floor; the others all contribute
        # the same term (alpha/zt) log((alpha/zt) / (alpha/zg)).
        both = np.concatenate([ft, fg])
        occupied, inverse = np.unique(both, return_inverse=True)
        ht = np.bincount(inverse[: ft.size], minlength=occupied.size).astype(np.float64)
        hg = np.bincount(inverse[ft.size :], minlength=occupied.size).astype(np.float64)
        pt, pg = (ht + alpha) / zt, (hg + alpha) / zg
        et, eg = alpha / zt, alpha / zg
        kl = float(np.dot(pt, np.log(pt / pg)) + (n_bins - occupied.size) * et * np.log(et / eg))
    return max(kl, 0.0), fg.size / gen.shape[0]


def _marginal_kl(true: np.ndarray, gen: np.ndarray, bins: int, alpha: float) -> tuple[float, float]:
    """Mean over dimensions of the 1-D binned KL (same range, smoothing and normalisation as `_binned_kl`);
    returns (mean kl, fraction of gen points inside the range in every dimension)."""
    kls = [_binned_kl(true[:, d : d + 1], gen[:, d : d + 1], bins, alpha)[0] for d in range(true.shape[1])]
    tc, gc = np.ascontiguousarray(true.T), np.ascontiguousarray(gen.T)
    lo, hi = bin_range(tc)
    frac = flat_bin_index(gc, lo, hi, 1).size / gen.shape[0]
    return float(np.mean(kls)), frac


def principal_axes(true: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (N,) and the k leading principal axes (N, k) of the rows of `true` (T, N), by SVD of the centred data;
    each axis's sign is fixed so that its largest-magnitude entry is positive (the projection is then unique)."""
    mean = true.mean(axis=0)
    _, _, vt = np.linalg.svd(true - mean, full_matrices=False)
    axes = vt[:k].T
    big = np.argmax(np.abs(axes), axis=0)
    axes = axes * np.sign(axes[big, np.arange(axes.shape[1])])
    return mean, axes


def _pca_kl(true: np.ndarray, gen: np.ndarray, bins: int, alpha: float, k: int) -> tuple[float, float]:
    """Binned KL of the projections of both series onto the true data's k leading principal axes."""
    mean, axes = principal_axes(true, k)
    with np.errstate(over="ignore", invalid="ignore"):
        gp = (gen - mean) @ axes
    return _binned_kl((true - mean) @ axes, gp, bins, alpha)


def _subsample(x: np.ndarray, max_points: int) -> np.ndarray:
    if x.shape[0] <= max_points:
        return x
    return x[np.linspace(0, x.shape[0] - 1, max_points).round().astype(np.int64)]


def _gmm_log_density(z: np.ndarray, centres: np.ndarray, sigma2: float, chunk: int = 256) -> np.ndarray:
    """log of (1/K) Σ_k N(z; centres_k, sigma2 I) for each row of z, up to the shared constant −N/2 log(2π σ²)."""
    c2 = np.einsum("kn,kn->k", centres, centres)
    out = np.empty(z.shape[0])
    for s in range(0, z.shape[0], chunk):
        zs = z[s : s + chunk]
        d2 = np.einsum("mn,mn->m", zs, zs)[:, None] + c2[None, :] - 2.0 * zs @ centres.T
        a = -0.5 * np.maximum(d2, 0.0) / sigma2
        top = a.max(axis=1, keepdims=True)
        out[s : s + chunk] = np.log(np.exp(a - top).sum(axis=1)) + top[:, 0]
    return out - np.log(centres.shape[0])


def _gmm_kl(true, gen, sigma2: float, max_points: int, n_samples: int, seed: int) -> float:
    """Monte-Carlo KL(p_true || p_gen) between isotropic Gaussian mixtures centred on the data points."""
    rng = np.random.default_rng(seed)
    # Centred on the true data's mean (KL is translation invariant): the squared distances are computed as
    # |z|² + |c|² − 2 z·c, which loses everything to cancellation when the data sit far from the origin
    # (test data around 1e12 made a run 100 units away score ≈ 0).
    centre = true.mean(axis=0)
    mt, mg = _subsample(true, max_points) - centre, _subsample(gen, max_points) - centre
    comp = rng.choice(mt.shape[0], size=n_samples, replace=n_samples > mt.shape[0])
    z = mt[comp] + np.sqrt(sigma2) * rng.standard_normal((n_samples, mt.shape[1]))
    return float(np.mean(_gmm_log_density(z, mt, sigma2) - _gmm_log_density(z, mg, sigma2)))


def state_space_divergence_result(
    true,
    gen,
    bins: int = 30,
    *,
    method: str = "auto",
    alpha: float = 1e-5,
    sigma2: float = 1.0,
    max_points: int = 10_000,
    n_samples: int = 1000,
    seed: int = 0,
    components: int = 2,
) -> StateSpaceDivergence:
    """D_stsp with diagnostics; see `state_space_divergence` for the definition and arguments."""
    t = as_series(true, "true")
    g = as_series(gen, "gen", require_finite=False)
    check_same_dim(t, g, ("true", "gen"))
    t, g = t.reshape(-1, t.shape[-1]), g.reshape(-1, g.shape[-1])
    bins = positive_int(bins, "bins")
    alpha = positive_float(alpha, "alpha")
    if method == "auto":
        method = "binned" if t.shape[1] <= 10 else "gmm"
    if method not in METHODS:
        raise ValueError(f"method must be 'auto' or one of {', '.join(repr(m) for m in METHODS)}, got {method!r}")
    if method == "pca":
        components = positive_int(components, "components")
        if components > t.shape[1]:
            raise ValueError(f"components must be at most the data dimension N = {t.shape[1]}, got {components}")
    if not np.isfinite(g).all():
        return StateSpaceDivergence(float("nan"), True, method, float("nan"))
    if method == "binned":
        kl, frac = _binned_kl(t, g, bins, alpha)
        return StateSpaceDivergence(kl, False, method, frac)
    if method == "marginal":
        kl, frac = _marginal_kl(t, g, bins, alpha)
        return StateSpaceDivergence(kl, False, method, frac)
    if method == "pca":
        kl, frac = _pca_kl(t, g, bins, alpha, components)
        return StateSpaceDivergence(kl, False, method, frac)
    kl = _gmm_kl(
        t,
        g,
        positive_float(sigma2, "sigma2"),
        positive_int(max_points, "max_points"),
        positive_int(n_samples, "n_samples"),
        int(seed),
    )
    return StateSpaceDivergence(kl, False, method, float("nan"))


def state_space_divergence(true, gen, bins: int = 30, **options) -> float:
    """State-space divergence D_stsp = KL(p_true || p_gen) between the occupation densities of two series.

    Args:
        true: reference series, (T, N), (T,) or (B, T, N) (batches are pooled); must be finite.
        gen: generated series, same N, any length. NaN or inf in it marks the run as diverged: the result is
            nan and a RuntimeWarning is issued (`state_space_divergence_result` returns a `diverged` flag instead).
        bins: bins per dimension (default 30).
        method: "auto" (default: "binned" for N <= 10, "gmm" above), "binned", "gmm", "marginal" or "pca".
        alpha: Laplace pseudo-count (default 1e-5), added to EVERY bin of both histograms:
            p(k) = (h(k) + alpha) / (T + alpha · bins**N), where h(k) counts the points in bin k and T is the
            number of ALL points of the series (in range or not; see below).
        sigma2, max_points, n_samples, seed: GMM variant only (defaults 1.0, 10 000, 1000, 0).
        components: "pca" variant only: the number k of leading principal axes of the true data (default 2).

    Binned variant (published code of Brenner et al. 2022 and Hess et al. 2023): the range of dimension d is
    [min − 0.1σ, max + 0.1σ] of the TRUE data, so every true point is in range. Generated points outside it
    in any dimension fall in no bin.

    Out-of-range generated points (a deliberate departure from the published code): the published code
    (DurstewitzLab/GTF-shPLRNN src/measures/stsp_measure.jl; DurstewitzLab/dendPLRNN
    BPTT_TF/evaluation/klx.py, `calc_histogram` "Outliers are discarded!") drops them and normalises the
    generated histogram by the points left in range, and returns NaN when none is left. A free run that leaves
    the range then scores as well as the part of it that stayed inside, a run entirely outside looks diverged
    (NaN), and replacing that NaN by the smoothed empty histogram (uniform p_gen) would give
    log(bins**N) − H(p_true), better than a fixed point inside the range.
    Here the generated histogram is normalised by ALL generated points, so mass that leaves the range counts as
    missing: p_gen sums to (T_in + alpha·bins**N) / (T + alpha·bins**N) over the bins, the rest sits in an
    "outside" cell where p_true is 0 and which therefore adds nothing to the sum. Consequences: the value is
    the published one whenever every generated point is in range (the normal case); moving a generated point
    from outside the range into any bin strictly lowers D_stsp (p_true > 0 in every bin after smoothing); a
    run entirely outside gets the smoothing floor alpha / (T + alpha·bins**N) in every bin,
    D_stsp = log((T + alpha·bins**N) / alpha) − H(p_true), and ranks last: strictly above any run of the same
    length with at least one point in range (for a run whose points all sit in bins the true data never
    visit the gap is tiny, about (alpha / T) log(T / alpha): the histograms cannot tell where mass went that
    misses every bin the true data visit).
    `state_space_divergence_result` reports the `in_range_fraction`.

    GMM variant: an isotropic Gaussian (variance sigma2) on each of up to `max_points` points of each series
    (evenly spaced in time); KL estimated by `n_samples` Monte-Carlo draws from the true mixture (seeded by
    `seed`), with log-densities by log-sum-exp. The published code (dendPLRNN BPTT_TF/evaluation/klx_gmm.py,
    `clean_from_outliers`) discards the draws at which the generated density underflows to 0, so a run far
    away from the data is judged on no draws at all (NaN); here those draws keep their (very negative) exact
    log-density, so a run far outside the data ranks last here too. Computed in coordinates centred on the
    true data's mean (an exact translation) so that data far from the origin keep their precision.

    High-dimensional variants. The binned variant needs bins**N cells: at N = 10 and 30 bins that is 5.9e14 cells
    for 1e4-1e5 points, almost every point sits alone in its cell, and D_stsp is ~0 for any run (a constant
    included), so it cannot rank models. The DSR literature compares occupation measures of high-dimensional
    systems through low-dimensional views instead: per-dimension averages (the spectrum distance D_H is the mean
    over dimensions of 1-D distances, Mikhaeil et al. 2022 NeurIPS, Hess et al. 2023 ICML; the DurstewitzLab
    evaluation code marginalises the binned densities for its figures, `marginalize_pdf` in evaluation/klx.py),
    and averages of 1-D projections (the sliced Wasserstein distance between occupation measures, the statistical error of
    Göring et al. 2024 ICML, "Out-of-domain generalization in dynamical systems reconstruction"); reduced
    coordinates by principal components are the standard state of high-dimensional DSR (POD/PCA modes, e.g.
    Vlachas et al. 2018 Proc. R. Soc. A; Linot & Graham 2020 Phys. Rev. E). Two variants follow these, each with
    the binned variant's rules (range of the TRUE data ± 0.1σ per coordinate, `bins` bins, Laplace `alpha`, both
    histograms normalised by all their points, so out-of-range mass counts as missing):

    - "marginal": D = (1/N) Σ_d KL(p_true,d ‖ p_gen,d), the mean over dimensions of the binned KL of the 1-D
      marginals. Sensitive to each variable's distribution (a fixed point, a shrunken or displaced attractor, a
      cycle that covers part of the range) with a floor that does not grow with N; blind to how the variables
      are coupled (two runs with the same marginals score the same).
    - "pca": the binned KL of the projections of both series onto the k = `components` leading principal axes of
      the TRUE data (centred on its mean; SVD), i.e. the binned variant in the k-D subspace of largest variance.
      Keeps the joint structure inside that subspace; blind to the other N − k directions. Computed in the
      caller's coordinates (dsrkit's benchmark standardises every variable first).

    Both are 0 for identical inputs and >= 0; "marginal" equals the binned variant for N = 1, and "pca" with k = N
    is the binned variant in rotated coordinates. Neither is the published D_stsp: name the variant wherever a
    value is reported (the benchmark store records a task's metric options with each run).

    Returns:
        float, >= 0, 0 for identical inputs; nan when `gen` is not finite.
    """
    res = state_space_divergence_result(true, gen, bins, **options)
    if res.diverged:
        warnings.warn("generated data contains NaN or inf: the run diverged, D_stsp is nan", RuntimeWarning, 2)
    return res.value
