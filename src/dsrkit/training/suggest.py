"""Training settings derived from the data: time scales, noise level and chaos of a measured series, and the window
length, sparse-teacher-forcing intervals and model sizes they suggest.

    est = estimate(ds)                  # DataEstimates: periods, autocorrelation, noise, λ_max, kind
    est = estimate(X, dt=0.01)          # a (T, N) array, a (B, T, N) array or a list of (T_i, N) arrays
    sug = suggest(ds)                   # Suggestion: seq_len, stf_interval(s), latent_dim, relu_units, ...
    sug.reasons["seq_len"], sug.notes, sug.to_dict()

Everything is measured on the data as given (raw units), after z-scoring each variable with the mean and std pooled
over all trajectories (as `Dataset.standardize` does); constant variables are left out. `suggest` does not choose
epochs or budgets: those belong to a search.

Calibration against the published settings (Brenner et al. 2024, DurstewitzLab/ALRNN-DSR settings/*.json), with the
estimates measured here on `dsrkit.systems` trajectories of 100 000 points (seed 0, no noise):

    system      dt    dominant period   λ_max (Rosenstein)         fastest 1/e decorrelation   published T̃, τ
    Lorenz-63   0.01  76 steps          0.886 /time (τ_pred 78)    14 steps (z)                200, 16
    Rössler     0.05  117 steps         0.066 /time (τ_pred 210)   10 steps (z)                300, 8

(true λ_max: 0.906 and 0.071.) T̃ ≈ 2.6 dominant periods reproduces both windows (197 → 200, 305 → 300); the
window is then capped at 200 (SEQ_LEN_RANGE says why). τ is not
proportional to the predictability time τ_pred = ln2/λ_max in steps across the two (Lorenz τ ≈ τ_pred/5, Rössler
τ ≈ τ_pred/26); it is close to the shortest decorrelation time of the observed variables in both (14 vs 16, 10 vs
8), which is the recommended interval here. Mikhaeil, Monfared & Durstewitz (2022) found the reconstruction best for
τ near τ_pred (their figures mark τ_pred = ln2/λ_max, 77 steps for Lorenz-63 at dt 0.01), so the candidates for a
search run from the fastest decorrelation time up to τ_pred.

References:
    Welch (1967) IEEE Trans. Audio Electroacoust. 15:70 (averaged periodograms);
    Rosenstein, Collins & De Luca (1993) Physica D 65:117 (λ_max from a time series; mean period as Theiler window);
    Theiler (1986) Phys. Rev. A 34:2427; Kantz & Schreiber (2004) Nonlinear Time Series Analysis, 2nd ed., ch. 5-6
    (noise biases the divergence curve; predictability);
    Box, Jenkins & Reinsel, Time Series Analysis, ch. 2 (the 1/e autocorrelation time);
    Mikhaeil, Monfared & Durstewitz (2022) On the difficulty of learning chaotic dynamics with RNNs. NeurIPS
    (sparse teacher forcing, τ near the predictability time);
    Hess, Monfared, Brenner & Durstewitz (2023) ICML (shPLRNN, L = 50 for Lorenz-63);
    Brenner, Hemmer, Monfared & Durstewitz (2024) NeurIPS (AL-RNN; M = 20, P = 2, T̃ = 200, τ = 16 for Lorenz-63;
    M = 20, P = 1, T̃ = 300, τ = 8 for Rössler; M = 100, P = 50, T̃ = 50, τ = 20 for Lorenz-96; input noise 0.05).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
from scipy import signal

from ..data import Dataset
from ..metrics.lyapunov import max_lyapunov_from_data

#: fewest time steps per trajectory `estimate` accepts (the noise estimate needs lags 0..4; below ~100 steps every
#: estimate is rough, and the notes say so)
MIN_LENGTH = 16
#: longest Welch segment (frequency resolution 1/8192 per step; ~24 averaged segments on 100 000 points)
MAX_SEGMENT = 8192
#: most points handed to Rosenstein's method (it is O(points · neighbours); 20 000 take ~0.2 s)
LYAPUNOV_POINTS = 20_000
#: above this noise fraction the Rosenstein estimate is reported as unreliable
NOISE_LIMIT_LYAPUNOV = 0.1
#: the divergence curve must rise at least this many e-folds (a decade) from its floor to saturation, and its line
#: fit must reach this R²
MIN_RISE = math.log(10)
MIN_R2 = 0.95
#: λ_max · dominant period (time units) below which no clear exponential divergence is claimed
MIN_GROWTH_PER_PERIOD = 0.1
#: share of the spectral power in the strongest 1 % of frequency bins above which a signal counts as periodic
PERIODIC_CONCENTRATION = 0.9
#: fewest dominant periods in the longest trajectory for a "periodic" label
MIN_PERIODS_KIND = 5

KINDS = ("chaotic", "periodic or quasi-periodic", "fixed point or drift", "unclear")


# ------------------------------------------------------------------------------------------------ estimates


@dataclasses.dataclass(frozen=True)
class DataEstimates:
    """What `estimate` measured (steps are sampling steps, times are in the data's time units: steps · dt).

    Sizes: n_points (all trajectories), n_trajectories, shortest_length (steps of the shortest trajectory), dim (N),
    dt.

    Spectrum (Welch 1967: Hann-windowed segments of min(8192, longest trajectory) steps, 50 % overlap, per
    trajectory, weighted by length; the power spectral densities of the z-scored variables summed):
        dominant_period_steps / dominant_period: 1 / frequency of the largest peak, zero frequency excluded, refined
            by a parabola through the log power of the peak bin and its neighbours;
        mean_period_steps / mean_period: 1 / the power-weighted mean frequency (zero excluded), the Theiler window
            of Rosenstein et al. (1993);
        spectral_concentration: share of the power (zero excluded) in the strongest 1 % of the frequency bins (at
            least 8 bins): near 1 for periodic and quasi-periodic signals (lines), lower for broadband chaos or
            noise (Lorenz-63: 0.48, Rössler: 0.85, a sine: ~1).

    Autocorrelation (of the signal: the lag-0 noise variance below removed, Box-Jenkins-Reinsel ch. 2):
        autocorrelation_steps / autocorrelation_time: the first lag at which the autocorrelation averaged over the
            variables drops below 1/e; None if it never does within a quarter of the longest trajectory;
        fastest_autocorrelation_steps: the same for the fastest single variable (the smallest first 1/e lag).

    Noise: noise_fraction, the std of white observation noise as a fraction of each variable's signal std,
        averaged over the variables (noise_fractions: per non-constant variable). Method: the autocovariance C(k)
        of a smooth, finely sampled signal is an even, smooth function of the lag, C(k) = c0 + c2 k² + c4 k⁴ + ...,
        while white noise adds its variance σ² at lag 0 only. The quadratic in k² through C(1), C(2), C(3) gives
        c0 = 1.5 C(1) − 0.6 C(2) + 0.1 C(3) (Richardson-type extrapolation to lag 0), σ² = C(0) − c0, and the
        fraction is σ / sqrt(C(0) − σ²). Chosen over the second difference x_t − (x_{t−1} + x_{t+1})/2, whose
        variance 1.5 σ² + curvature needs the curvature to be negligible: the extrapolation cancels the k² and k⁴
        terms, so it stays unbiased for coarser sampling (clean Lorenz-63 at dt 0.05: 0.03-0.06 against 0.06-0.12
        for the second difference). When the signal is not smooth at the sampling step (maps, coarse sampling) it
        mistakes the signal's fast part for noise; an extrapolation from C(2), C(3), C(4) is compared, and when the
        two disagree (by more than 0.02 + 25 %) noise_reliable is False and the value is only an upper bound.
        Capped at 10 (white noise: all variance at lag 0).

    Lyapunov (Rosenstein, Collins & De Luca 1993, `dsrkit.metrics.max_lyapunov_from_data`, on at most 20 000 points
    of the longest trajectory, z-scored, subsampled so that the mean period spans about 100 steps or fewer; the
    curve ⟨ln d(k)⟩ is fitted between 10 % and 60 % of its rise from the floor after step 0 to its maximum, see
    `_lyapunov` for why not from step 0):
        lyapunov_max: per time unit; None when the method could not run or the curve has no linear range (a line
            fit over fewer than 5 steps or with R² < 0.95). lyapunov_reliable; lyapunov_note says why not, and
            where the fit was. Unreliable when the series is too short for the Theiler window and the divergence
            horizon; when noise_fraction > 0.1 and noise_reliable (noise floors the initial distances and flattens
            the curve: Kantz & Schreiber 2004, ch. 5); when the curve rises less than a decade (ln 10) from its
            floor to saturation (noise or sparse neighbours leave no exponential range to fit); or when
            λ_max · dominant period < 0.1 (noise on a periodic signal gives small positive slopes that are not
            chaos).
        predictability_time / predictability_steps: ln 2 / λ_max (the error-doubling time) when λ_max is reliable
            and positive, else None.

    kind, by the first rule that applies: "fixed point or drift" if the mean autocorrelation stays above 1/e for
        a quarter of the data or the spectrum peaks at its lowest resolved frequency; "chaotic" if λ_max is
        reliable (hence λ_max · dominant period >= 0.1); "unclear" if the longest trajectory spans fewer than 5
        dominant periods; "periodic or quasi-periodic" if spectral_concentration >= 0.9; else "unclear".
        kind_reason says which rule applied. Noisy chaotic data (λ_max unreliable) are "unclear", not "chaotic".
    notes: warnings about the estimates (short data, coarse sampling, noise).
    """

    n_points: int
    n_trajectories: int
    shortest_length: int
    dim: int
    dt: float
    dominant_period_steps: float
    dominant_period: float
    mean_period_steps: float
    mean_period: float
    spectral_concentration: float
    autocorrelation_steps: int | None
    autocorrelation_time: float | None
    fastest_autocorrelation_steps: int | None
    noise_fraction: float
    noise_fractions: tuple[float, ...]
    noise_reliable: bool
    lyapunov_max: float | None
    lyapunov_reliable: bool
    lyapunov_note: str
    predictability_steps: float | None
    predictability_time: float | None
    kind: str
    kind_reason: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-serialisable dict of the fields (tuples as lists, None kept)."""
        return _plain(dataclasses.asdict(self))


def estimate(data, dt: float | None = None) -> DataEstimates:
    """Time scales, noise level and largest Lyapunov exponent of a data set (see `DataEstimates` for the methods).

    Args:
        data: a `dsrkit.data.Dataset` (its dt is used), or a (T, N) / (T,) array, a (B, T, N) array or a list of
            (T_i, N) arrays, in raw units, with `dt`.
        dt: the sampling step; required for arrays, and if given with a Dataset it must equal the Dataset's.

    Returns:
        DataEstimates. Raises TypeError for non-numeric data or a non-numeric dt, ValueError for non-finite values,
        a missing or non-positive dt, trajectories shorter than `MIN_LENGTH` steps or data without variation.
        Takes about a second on 100 000 × 3 points (one core).
    """
    trajs, dt = _as_trajectories(data, dt)
    z = _standardized(trajs)
    notes: list[str] = []
    freqs, power = _pooled_spectrum(z)
    peak_steps, at_lowest_bin = _dominant_period(freqs, power)
    mean_steps = _mean_period(freqs, power)
    concentration = _concentration(power)
    cov = _pooled_autocovariance(z, max(len(x) for x in z) // 4)
    noise_var, fractions, smooth = _noise(cov)
    if not smooth:
        notes.append(f"the noise estimate ({float(np.mean(fractions)):.2f}) is only an upper bound: the signal is "
                     "not smooth at the sampling step (coarse sampling or a map), so part of its fast variation may "
                     "be counted as noise")
    acf = _signal_acf(cov, noise_var)
    tau_mean = _first_below(acf.mean(axis=1))
    per_dim = [t for t in (_first_below(acf[:, i]) for i in range(acf.shape[1])) if t is not None]
    tau_fast = min(per_dim) if per_dim else None
    noise_fraction = float(np.mean(fractions))
    lyap, reliable, lyap_note = _lyapunov(z, dt, mean_steps, peak_steps * dt, noise_fraction if smooth else 0.0)
    pred_time = math.log(2) / lyap if reliable and lyap is not None and lyap > 0 else None
    kind, reason = _kind(tau_mean, at_lowest_bin, reliable, concentration, max(len(x) for x in z) / peak_steps)
    notes += _estimate_notes(z, peak_steps, at_lowest_bin)
    return DataEstimates(
        n_points=int(sum(len(x) for x in trajs)), n_trajectories=len(trajs),
        shortest_length=int(min(len(x) for x in trajs)), dim=int(trajs[0].shape[1]), dt=dt,
        dominant_period_steps=peak_steps, dominant_period=peak_steps * dt,
        mean_period_steps=mean_steps, mean_period=mean_steps * dt, spectral_concentration=concentration,
        autocorrelation_steps=tau_mean, autocorrelation_time=None if tau_mean is None else tau_mean * dt,
        fastest_autocorrelation_steps=tau_fast, noise_fraction=noise_fraction,
        noise_fractions=tuple(float(f) for f in fractions), noise_reliable=smooth, lyapunov_max=lyap,
        lyapunov_reliable=reliable, lyapunov_note=lyap_note,
        predictability_steps=None if pred_time is None else pred_time / dt, predictability_time=pred_time,
        kind=kind, kind_reason=reason, notes=tuple(notes))


def _as_trajectories(data, dt) -> tuple[list[np.ndarray], float]:
    """(list of (T_i, N) float64 arrays, dt) from a Dataset or array data; validated (see `estimate`)."""
    if dt is not None:
        if isinstance(dt, bool) or not isinstance(dt, numbers.Real):
            raise TypeError(f"dt must be a positive finite number, got {dt!r} ({type(dt).__name__})")
        if not (math.isfinite(float(dt)) and float(dt) > 0):
            raise ValueError(f"dt must be a positive finite number, got {dt!r}")
    if isinstance(data, Dataset):
        if dt is not None and not math.isclose(float(dt), data.dt, rel_tol=1e-9):
            raise ValueError(f"dt={dt} disagrees with the Dataset's dt={data.dt}; leave dt out for a Dataset")
        trajs, dt = data.trajectories, data.dt
    else:
        if isinstance(data, (list, tuple)) and data and all(np.ndim(v) == 0 for v in data):
            data = np.asarray(data)  # a plain list of numbers: one scalar series
        if isinstance(data, (str, bytes, dict, set)) or data is None or isinstance(data, numbers.Number):
            raise TypeError(f"data must be a Dataset, a (T, N) or (B, T, N) array or a list of (T_i, N) arrays, got "
                            f"{type(data).__name__}")
        if dt is None:
            raise ValueError("dt is required for array data: estimate(X, dt=0.01) (a Dataset carries its own dt)")
        trajs = Dataset(data, dt).trajectories  # numeric, finite, (T_i, N) with one N: TypeError/ValueError if not
    short = [(i, len(x)) for i, x in enumerate(trajs) if len(x) < MIN_LENGTH]
    if short:
        listed = ", ".join(f"trajectory {i} has {t}" for i, t in short)
        raise ValueError(f"estimate needs at least {MIN_LENGTH} time steps per trajectory; {listed}")
    return [np.asarray(x, dtype=np.float64) for x in trajs], float(dt)


def _standardized(trajs: list[np.ndarray]) -> list[np.ndarray]:
    """Z-scored trajectories (mean and std pooled over all), constant variables dropped: list of (T_i, N')."""
    allx = np.concatenate(trajs, axis=0)
    std = allx.std(axis=0)
    keep = std > 1e-12 * np.maximum(1.0, np.abs(allx).max(axis=0))
    if not keep.any():
        raise ValueError("every variable is constant: there are no dynamics to estimate")
    mean = allx.mean(axis=0)
    return [(x[:, keep] - mean[keep]) / std[keep] for x in trajs]


def _pooled_spectrum(z: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD summed over variables, averaged over the trajectories at least one segment long (weighted by
    length). Returns frequencies (cycles per step) and power, both (n_freq,)."""
    nperseg = min(MAX_SEGMENT, max(len(x) for x in z))
    total, weight = 0.0, 0
    for x in z:
        if len(x) >= nperseg:
            freqs, p = signal.welch(x, nperseg=nperseg, axis=0, detrend="constant")
            total, weight = total + len(x) * p.sum(axis=1), weight + len(x)
    return freqs, total / weight


def _dominant_period(freqs: np.ndarray, power: np.ndarray) -> tuple[float, bool]:
    """(period in steps of the largest non-zero-frequency peak, whether it sits at the lowest frequency bin).

    The peak frequency is refined by the vertex of a parabola through the log power at the peak bin and its two
    neighbours (exact for a Gaussian peak; the Hann window's main lobe is close to one), moved at most half a bin.
    """
    k = int(np.argmax(power[1:])) + 1
    f = freqs[k]
    if 1 < k < len(power) - 1 and np.all(power[k - 1:k + 2] > 0):
        a, b, c = np.log(power[k - 1:k + 2])
        denom = a - 2 * b + c
        if denom < 0:
            f += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) * (freqs[1] - freqs[0])
    return float(1.0 / f), k == 1


def _mean_period(freqs: np.ndarray, power: np.ndarray) -> float:
    """1 / power-weighted mean frequency (zero frequency excluded), in steps."""
    return float(np.sum(power[1:]) / np.sum(freqs[1:] * power[1:]))


def _concentration(power: np.ndarray) -> float:
    """Share of the power (zero frequency excluded) in the strongest max(8, 1 %) frequency bins."""
    p = np.sort(power[1:])[::-1]
    top = max(8, int(0.01 * p.size))
    return float(p[:top].sum() / p.sum()) if p.sum() > 0 else 0.0


def _pooled_autocovariance(z: list[np.ndarray], max_lag: int) -> np.ndarray:
    """C(k) = Σ_i Σ_t z_i[t] z_i[t+k] / Σ_i (T_i − k) for k = 0..max(max_lag, 4), per variable: (K + 1, N).

    Computed by FFT (zero-padded, so no wrap-around); trajectories shorter than k + 1 contribute nothing at lag k.
    """
    max_lag = max(int(max_lag), 4)
    sums = np.zeros((max_lag + 1, z[0].shape[1]))
    counts = np.zeros(max_lag + 1)
    for x in z:
        n = len(x)
        spec = np.fft.rfft(x, n=1 << int(math.ceil(math.log2(2 * n))), axis=0)
        full = np.fft.irfft(np.abs(spec) ** 2, axis=0)[: min(n, max_lag + 1)]
        sums[: len(full)] += full
        counts[: len(full)] += n - np.arange(len(full))
    return sums / np.maximum(counts, 1)[:, None]


def _noise(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """White-noise variance per variable (N,), noise fraction per variable (N,), and whether two extrapolations
    agree (the signal is smooth at the sampling step). See `DataEstimates` for the method."""
    c0 = cov[0]
    extrapolated = 1.5 * cov[1] - 0.6 * cov[2] + 0.1 * cov[3]        # quadratic in k² through k = 1, 2, 3
    check = 2.4 * cov[2] - (64 / 35) * cov[3] + (3 / 7) * cov[4]     # the same through k = 2, 3, 4
    noise_var = np.clip(c0 - extrapolated, 0.0, c0)
    signal_var = c0 - noise_var
    fractions = np.where(signal_var > 0.01 * c0, np.sqrt(noise_var / np.maximum(signal_var, 1e-300)), 10.0)
    fractions = np.minimum(fractions, 10.0)
    check_var = np.clip(c0 - check, 0.0, c0)
    check_frac = np.minimum(np.sqrt(check_var / np.maximum(c0 - check_var, 0.01 * c0)), 10.0)
    smooth = bool(np.all(np.abs(check_frac - fractions) <= 0.02 + 0.25 * fractions))
    return noise_var, fractions, smooth


def _signal_acf(cov: np.ndarray, noise_var: np.ndarray) -> np.ndarray:
    """Autocorrelation of the signal, C(k) / (C(0) − σ²) for k >= 1 and 1 at k = 0: (K + 1, N)."""
    acf = cov / np.maximum(cov[0] - noise_var, 1e-12 * cov[0])[None, :]
    acf[0] = 1.0
    return acf


def _first_below(acf: np.ndarray, level: float = 1 / math.e) -> int | None:
    """First lag (>= 1) where the autocorrelation (K + 1,) is below `level`, None if it never is."""
    below = np.flatnonzero(acf[1:] < level)
    return int(below[0]) + 1 if below.size else None


def _lyapunov(z, dt, mean_steps, period_time, noise_fraction) -> tuple[float | None, bool, str]:
    """(λ_max per time unit or None, reliable, note) by Rosenstein on the longest trajectory (see `DataEstimates`).

    The divergence curve of `max_lyapunov_from_data` is followed for up to 20 Theiler windows (at most a tenth of
    the series, ~1e7 distance entries) and fitted here, not by its automatic range: that range starts at ⟨ln d(0)⟩,
    and with observation noise the first step jumps from the selected (smallest) distances to the noise floor,
    which its 10 %-60 % rule would fit as a huge exponent. Here the floor is the minimum of the curve after step 0
    and before its maximum (past the noise jump and the alignment with the unstable direction), and the line is
    fitted where the curve has climbed from 10 % to 60 % of the way from the floor to the maximum (saturation at
    the attractor size), the same fractions as the automatic range.
    """
    longest = max(z, key=len)
    step = max(1, int(mean_steps // 100))
    x = longest[::step][:LYAPUNOV_POINTS]
    sub = f" (every {step}th point)" if step > 1 else ""
    theiler = int(round(mean_steps / step))
    k_max = max(1, min(len(x) // 10, 20 * max(theiler, 1)))
    n_refs = int(min(2000, max(200, 1e7 // ((k_max + 1) * x.shape[1]))))
    try:
        res = max_lyapunov_from_data(x, dt * step, theiler=theiler, max_steps=k_max, n_points=n_refs)
    except ValueError as err:
        return None, False, f"unreliable: Rosenstein's method could not run on {len(x)} points{sub}: {err}"
    value, start, stop, rise, fit_r2 = _divergence_fit(res.times, res.log_divergence)
    if value is None:
        return None, False, (f"unreliable: the divergence curve of {len(x)} points{sub} never rises (Theiler window "
                             f"{theiler} steps)")
    if stop - start < 5 or not fit_r2 >= MIN_R2:
        return None, False, (f"unreliable: the divergence curve has no linear range (fit over {stop - start} points "
                             f"with R² {fit_r2:.2f}; {len(x)} points{sub}, Theiler window {theiler} steps)")
    reasons = []
    if noise_fraction > NOISE_LIMIT_LYAPUNOV:
        reasons.append(f"noise fraction {noise_fraction:.2f} > {NOISE_LIMIT_LYAPUNOV} (noise biases Rosenstein's "
                       "divergence curve)")
    if rise < MIN_RISE:
        reasons.append(f"the divergence curve has no clear linear range: it rises {rise:.2f} e-folds from its floor "
                       f"to saturation, less than a decade (ln 10 = {MIN_RISE:.2f})")
    if value * period_time < MIN_GROWTH_PER_PERIOD:
        reasons.append(f"λ_max · dominant period = {value * period_time:.3f} < {MIN_GROWTH_PER_PERIOD}: no clear "
                       "exponential divergence (consistent with λ_max ≈ 0, e.g. a noisy periodic signal)")
    where = (f"Rosenstein on {len(x)} points{sub}, Theiler window {theiler} steps, fit over steps {start * step}-"
             f"{stop * step}, rise {rise:.2f} e-folds, R² {fit_r2:.3f}")
    if reasons:
        return value, False, "unreliable: " + "; ".join(reasons) + f" [{where}]"
    return value, True, f"reliable [{where}]"


def _divergence_fit(times: np.ndarray, y: np.ndarray) -> tuple[float | None, int, int, float, float]:
    """(slope per time unit, fit start, fit stop, rise in e-folds, R²) of a Rosenstein curve y = ⟨ln d(k)⟩ (K + 1,)
    over `times` (K + 1,); slope None when the curve has no maximum after its floor. See `_lyapunov`."""
    y = np.where(np.isfinite(y), y, np.nan)
    if np.all(np.isnan(y[1:])):
        return None, 0, 0, 0.0, float("nan")
    k_sat = 1 + int(np.nanargmax(y[1:]))
    if k_sat < 3:
        return None, 0, 0, 0.0, float("nan")
    k_lo = 1 + int(np.nanargmin(y[1:k_sat]))
    floor, rise = y[k_lo], float(y[k_sat] - y[k_lo])
    seg = y[k_lo:k_sat + 1]
    start = k_lo + int(np.argmax(seg >= floor + 0.1 * rise))
    stop = k_lo + int(np.argmax(seg >= floor + 0.6 * rise)) + 1
    if stop - start < 3:
        start, stop = max(1, start - 1), min(len(y), max(stop, start + 3))
    t, v = times[start:stop], y[start:stop]
    ok = np.isfinite(v)
    slope = float(np.polyfit(t[ok], v[ok], 1)[0]) if ok.sum() >= 2 else None
    return slope, start, stop, rise, _r2(t, v)


def _r2(t: np.ndarray, y: np.ndarray) -> float:
    """Coefficient of determination of a least-squares line through (t, y) (non-finite y dropped); nan if undefined."""
    ok = np.isfinite(y)
    t, y = t[ok], y[ok]
    if t.size < 3 or np.ptp(y) == 0:
        return float("nan")
    fit = np.polyval(np.polyfit(t, y, 1), t)
    return float(1 - np.sum((y - fit) ** 2) / np.sum((y - y.mean()) ** 2))


def _kind(tau_mean, at_lowest_bin, lyap_reliable, concentration, periods) -> tuple[str, str]:
    """(kind, the rule that decided it); see `DataEstimates.kind`."""
    if tau_mean is None:
        return "fixed point or drift", "the mean autocorrelation stays above 1/e for a quarter of the data"
    if at_lowest_bin:
        return "fixed point or drift", "the power spectrum peaks at its lowest resolved frequency"
    if lyap_reliable:
        return "chaotic", "λ_max is reliably positive (λ_max · dominant period >= 0.1)"
    if periods < MIN_PERIODS_KIND:
        return "unclear", (f"the longest trajectory spans {periods:.1f} dominant periods, fewer than "
                           f"{MIN_PERIODS_KIND}: too few to tell")
    if concentration >= PERIODIC_CONCENTRATION:
        return "periodic or quasi-periodic", (f"λ_max not clearly positive and {concentration:.2f} of the spectral "
                                              f"power lies in the strongest 1 % of frequencies (>= "
                                              f"{PERIODIC_CONCENTRATION})")
    return "unclear", (f"λ_max not reliably positive and the spectrum is broad (concentration {concentration:.2f} "
                       f"< {PERIODIC_CONCENTRATION})")


def _estimate_notes(z, peak_steps, at_lowest_bin) -> list[str]:
    """Warnings about the data's length relative to its dominant period."""
    notes = []
    longest = max(len(x) for x in z)
    if longest < 1000:
        notes.append(f"the longest trajectory has only {longest} points: every estimate is rough")
    if at_lowest_bin:
        notes.append(f"the spectrum peaks at its lowest resolved frequency: the dominant period "
                     f"({peak_steps:.0f} steps) is a lower bound (drift, or a period longer than the data resolve)")
    return notes


# ------------------------------------------------------------------------------------------------ suggestion


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """Settings of a training run derived from `estimates` (see `suggest` for the rules).

    seq_len: T̃, window length in steps; stf_interval: the recommended STF interval τ (steps); stf_intervals:
    candidate τ for a search (sorted, recommended one included); latent_dim: M of the AL-RNN; relu_units:
    candidate P of the AL-RNN (each <= M − N); shplrnn_hidden: L of the shPLRNN; input_noise: std of the Gaussian
    training input noise (standardised units); reasons: one sentence per setting; notes: warnings; estimates:
    the `DataEstimates` they come from.
    """

    seq_len: int
    stf_interval: int
    stf_intervals: tuple[int, ...]
    latent_dim: int
    relu_units: tuple[int, ...]
    shplrnn_hidden: int
    input_noise: float
    reasons: dict = dataclasses.field(hash=False)
    notes: tuple[str, ...]
    estimates: DataEstimates

    def to_dict(self) -> dict:
        """JSON-serialisable dict of the fields, with the estimates nested."""
        return _plain(dataclasses.asdict(self))


#: multiple of the dominant period in a training window (published: 200/76 = 2.6 for Lorenz-63, 300/117 = 2.6
#: for Rössler at dt 0.05)
PERIODS_PER_WINDOW = 2.6
#: T̃ is clipped to this range. The upper end is the published Lorenz-63 window. Longer windows cost updates: every
#: update takes a batch of S windows, so updates per second fall as 1/T̃, and forcing every τ (STF) or at every
#: step (adaptive GTF) cuts the gradient paths to about τ steps, so a longer window adds correlated loss terms rather
#: than longer-range gradients. Measured with the main job's 600 s budget (benchmarks/reconstruct_devset.py, test
#: D_stsp, T̃ from 500 or 300 down to 200): Dadras 0.79 → 0.40, SprottC 0.45 → 0.16, Rössler 0.44 → 0.24 (the
#: published Rössler window is 300). Shorter than the rule is not better in general: T̃ 100 in place of 180 on
#: Aizawa 0.38 → 0.72 (ShimizuMorioka, 200 → 100: 0.32 → 0.17).
#: Rows: benchmarks/results/reconstruct_window_probe.jsonl.
SEQ_LEN_RANGE = (50, 200)
#: published input noise (Brenner et al. 2024), standardised units
INPUT_NOISE = 0.05


def suggest(data, dt: float | None = None) -> Suggestion:
    """Training settings chosen from `estimate(data, dt)`, each with its reason.

    Rules (N variables, P_dom the dominant period and τ_pred = ln2/λ_max the predictability time, in steps):
        seq_len T̃ = 2.6 · P_dom rounded to 10, clipped to [50, 200] (`SEQ_LEN_RANGE`: why 200), then to at
            most a tenth of the shortest trajectory (many windows per trajectory). Reproduces the published 200
            (Lorenz-63, dt 0.01); gives 200 where the published Rössler window is 300 (dt 0.05).
        stf_interval τ = the fastest variable's 1/e decorrelation time (published 16 and 8; measured 14 and 10):
            the read-outs are re-anchored before any observed variable has decorrelated from its forced value.
            stf_intervals: τ, sqrt(τ · τ_pred) and τ_pred when λ_max is reliable (Mikhaeil et al. 2022: τ best
            near τ_pred); else τ, P_dom/4 and P_dom/2. Each clipped to [2, T̃].
        latent_dim M = clip(10 (N − 1), 20, 200) (published M = 20 for N = 3; gives 90 against the published 100
            for N = 10).
        relu_units: powers of two up to min(M − N, max(8, 5N)) (published P = 1, 2 for N = 3; 50 for N = 10).
        shplrnn_hidden L = clip(16 N, 50, 1000) rounded to 10 (published L = 50 for N = 3).
        input_noise = sqrt(max(0, 0.05² − σ²)) rounded to 0.01, σ the noise std in standardised units: the
            published 0.05 for clean data; noisy data already perturb the inputs, so the total stays ≈ 0.05
            (0.05 when the noise estimate is only an upper bound, `DataEstimates.noise_reliable`).
    Epochs and budgets are not chosen here.

    Args: as `estimate`. Returns: Suggestion. Raises: as `estimate`.
    """
    est = estimate(data, dt)
    shortest = est.shortest_length
    notes = list(est.notes)
    reasons: dict[str, str] = {}
    seq_len = _seq_len(est, shortest, reasons, notes)
    tau, taus = _stf_intervals(est, seq_len, reasons)
    latent, relu, hidden = _sizes(est.dim, reasons)
    noise_in = _input_noise(est.noise_fraction, est.noise_reliable, reasons)
    notes += _data_notes(est, shortest)
    return Suggestion(seq_len=seq_len, stf_interval=tau, stf_intervals=taus, latent_dim=latent, relu_units=relu,
                      shplrnn_hidden=hidden, input_noise=noise_in, reasons=reasons, notes=tuple(notes),
                      estimates=est)


def _seq_len(est: DataEstimates, shortest: int, reasons: dict, notes: list) -> int:
    """T̃ = 2.6 dominant periods, rounded to 10, clipped to [50, 500] and to shortest // 10 (at least 2)."""
    raw = PERIODS_PER_WINDOW * est.dominant_period_steps
    lo, hi = SEQ_LEN_RANGE
    value = int(min(max(10 * round(raw / 10), lo), hi))
    why = (f"{PERIODS_PER_WINDOW} dominant periods ({est.dominant_period_steps:.0f} steps each) = {raw:.0f} steps, "
           f"rounded to 10 and clipped to [{lo}, {hi}] (the published 200 for Lorenz-63 is 2.6 periods; longer "
           "windows cost parameter updates per second: see training.suggest.SEQ_LEN_RANGE)")
    cap = max(2, shortest // 10)
    if value > cap:
        notes.append(f"the window length is limited to a tenth of the shortest trajectory ({shortest} steps): "
                     f"{cap} instead of {value} steps; longer trajectories would allow windows spanning several "
                     "periods")
        why += f", then cut to {cap} = a tenth of the shortest trajectory so that there are many windows"
        value = cap
    reasons["seq_len"] = why + "."
    return value


def _stf_intervals(est: DataEstimates, seq_len: int, reasons: dict) -> tuple[int, tuple[int, ...]]:
    """(recommended τ, candidate τs); see `suggest`."""
    clip = lambda v: int(min(max(round(v), 2), max(seq_len, 2)))  # noqa: E731
    fast = est.fastest_autocorrelation_steps
    base = f"the fastest variable's 1/e decorrelation time ({fast} steps)"
    if fast is None:
        fast = est.dominant_period_steps / 5
        base = f"a fifth of the dominant period ({fast:.0f} steps; no variable decorrelates within the data)"
    tau = clip(fast)
    if est.predictability_steps is not None:
        pred = est.predictability_steps
        raw = (fast, math.sqrt(fast * pred), pred)
        span = (f"τ, the geometric mean and the predictability time ln2/λ_max = {pred:.0f} steps, near which "
                "Mikhaeil et al. (2022) found τ best")
    else:
        raw = (fast, est.dominant_period_steps / 4, est.dominant_period_steps / 2)
        span = ("τ, a quarter and a half of the dominant period, as λ_max gives no predictability time "
                f"({est.lyapunov_note.split(' [')[0]})")
    taus = tuple(sorted({clip(v) for v in raw}))
    reasons["stf_interval"] = (f"τ = {base}, clipped to [2, seq_len]: the read-outs are forced before any observed "
                               "variable has decorrelated (the published τ = 16 for Lorenz-63 and 8 for Rössler are "
                               "this time: 14 and 10 steps measured).")
    reasons["stf_intervals"] = f"Candidates for a search: {span}; each clipped to [2, seq_len]."
    return tau, taus


def _sizes(n: int, reasons: dict) -> tuple[int, tuple[int, ...], int]:
    """(M, candidate P, L) for N = n variables; see `suggest`."""
    latent = int(min(max(10 * (n - 1), 20), 200))
    p_max = min(latent - n, max(8, 5 * n))
    relu = tuple(2 ** i for i in range(int(math.log2(p_max)) + 1)) if p_max >= 1 else ()
    hidden = int(min(max(10 * round(16 * n / 10), 50), 1000))
    reasons["latent_dim"] = (f"M = clip(10 (N − 1), 20, 200) = {latent} for N = {n}: the published AL-RNN uses 20 "
                             "for N = 3 and 100 for N = 10.")
    reasons["relu_units"] = (f"Powers of two up to min(M − N, max(8, 5N)) = {p_max}: few piecewise-linear units "
                             "keep the AL-RNN interpretable (published P = 2 for Lorenz-63, 1 for Rössler, 50 for "
                             "Lorenz-96 with N = 10), and M >= N + P keeps the read-outs linear.")
    reasons["shplrnn_hidden"] = (f"L = clip(16 N, 50, 1000) rounded to 10 = {hidden}: the published shPLRNN uses "
                                 "L = 50 for N = 3.")
    return latent, relu, hidden


def _input_noise(noise_fraction: float, noise_reliable: bool, reasons: dict) -> float:
    """sqrt(max(0, 0.05² − σ²)) rounded to 0.01, σ the observation-noise std in standardised units; 0.05 when the
    noise estimate is only an upper bound."""
    if not noise_reliable:
        reasons["input_noise"] = ("The published 0.05: the noise estimate is only an upper bound here (the signal is "
                                  "not smooth at the sampling step), so it is not subtracted.")
        return INPUT_NOISE
    sigma = noise_fraction / math.sqrt(1 + noise_fraction ** 2)
    value = round(math.sqrt(max(0.0, INPUT_NOISE ** 2 - sigma ** 2)), 2)
    reasons["input_noise"] = (f"sqrt(max(0, 0.05² − σ²)) with σ = {sigma:.3f} the estimated observation noise "
                              "(standardised units): the published 0.05 for clean data, less where the data's own "
                              "noise already perturbs the inputs.")
    return value


def _data_notes(est: DataEstimates, shortest: int) -> list[str]:
    """Warnings for the user about sampling, length, noise and the dynamics."""
    notes = []
    p = est.dominant_period_steps
    if p < 10:
        notes.append(f"the dominant period spans only {p:.1f} steps: the sampling is coarse for a flow (or the data "
                     "are a map or noise)")
    if p > 1000:
        notes.append(f"the dominant period spans {p:.0f} steps: consider subsampling by about {int(p // 100)} so "
                     "that a period spans ~100 steps")
    periods = est.n_points / p
    if periods < 20:
        notes.append(f"the data span only {periods:.1f} dominant periods (fewer than 20): the long-term statistics "
                     "are poorly sampled")
    if est.noise_reliable and est.noise_fraction >= 0.1:
        notes.append(f"noise fraction ≈ {est.noise_fraction:.2f}: the reconstruction will be limited by the noise")
    if not est.lyapunov_reliable:
        notes.append(f"λ_max is not reliable ({est.lyapunov_note.split(' [')[0]}); the STF candidates come from "
                     "the dominant period")
    if est.kind == "fixed point or drift":
        notes.append("the data look like a drift or a decay to a fixed point: a reconstruction of long-term "
                     "dynamics may not be meaningful")
    return notes


def _plain(obj):
    """`obj` with tuples as lists, NumPy scalars as Python numbers and non-finite floats as None (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
